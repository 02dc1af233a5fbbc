"""The buyer's side of the v1 API (resale, issue 15): offers, orders paid by transfer to
a per-order virtual account, and the bank's signed deposit notification. Thin: parse,
call one service function (``resale/buying.py``), render."""

from __future__ import annotations

import functools
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from giftcash.entrypoints.api import idempotency
from giftcash.entrypoints.api import schemas_orders as s
from giftcash.entrypoints.api.deps import CustomerDep, DepsDep, IdemKey
from giftcash.entrypoints.api.problems import documented
from giftcash.resale import buying, claims
from giftcash.service.deps import Deps
from giftcash.service.ports.records import Claim

router = APIRouter(prefix="/v1")


_problems = documented


def _offer(v: buying.OfferView) -> s.OfferOut:
    o = v.offer
    return s.OfferOut(
        brand_id=o.brand_id,
        brand_name=v.brand_name,
        currency=o.currency,
        face_value=o.face_value,
        price=o.price,
        discount_bps=o.discount_bps,
        expires_before=o.expires_before,
        in_stock=o.in_stock,
    )


def _order(v: buying.OrderView) -> s.OrderOut:
    o = v.order
    account = (
        None
        if o.virtual_account_number is None
        else s.VirtualAccountOut(bank_code=v.bank_code, account_number=o.virtual_account_number)
    )
    return s.OrderOut(
        id=o.id,
        status=o.status,
        brand_id=o.brand_id,
        face_value=o.face_value,
        quantity=o.quantity,
        currency=o.currency,
        amount=o.amount,
        virtual_account=account,
        deadline=o.deadline,
        created_at=o.created_at,
        deposits=[
            s.DepositOut(
                id=d.id,
                amount=d.amount,
                state=d.status,
                return_reason=d.return_reason,
                received_at=d.received_at,
            )
            for d in v.deposits
        ],
        units=[
            s.OrderUnitOut(
                id=u.id,
                brand_id=u.brand_id,
                face_value=u.face_value,
                expires_at=u.expires_at,
                state=u.status,
            )
            for u in v.units
        ],
        claims=[_claim(c) for c in v.claims],
    )


def _claim(c: Claim) -> s.ClaimOut:
    return s.ClaimOut(
        id=c.id,
        order_id=c.order_id,
        unit_id=c.unit_id,
        state=c.status,
        currency=c.currency,
        amount=c.amount,
        refund=c.refund,
        evidence=s.ClaimEvidenceOut(
            issuer_status=c.issuer_status, used_at=c.used_at, used_where=c.used_where
        ),
        reason=c.reason,
        created_at=c.created_at,
    )


@router.get("/offers", response_model=s.OfferList, tags=["buying"])
def offers(deps: DepsDep) -> s.OfferList:
    """What is on sale now (public): stocked units by brand, face value and price, the
    price the operator's discount for how soon they expire."""
    return s.OfferList(data=[_offer(v) for v in buying.offers(deps)])


@router.post(
    "/orders",
    status_code=201,
    response_model=s.OrderOut,
    tags=["buying"],
    responses=_problems(
        s403="`identity_required`: only a customer with a verified identity (본인인증) buys;"
        " `buyer_limit_exceeded`: over the buyer's daily or monthly limit, nothing reserved",
        s409="`out_of_stock`: fewer units than ordered, nothing reserved; `order_expired`;"
        " `idempotency_key_reused`",
        s503="`virtual_account_pending`: the order is reserved but the bank has not issued its"
        " account: send the same request with the same Idempotency-Key again;"
        " `resale_unavailable`: no bank for virtual accounts is configured",
    ),
)
async def place_order(
    body: s.OrderIn,
    request: Request,
    customer: CustomerDep,
    deps: DepsDep,
    idem: IdemKey = None,
) -> JSONResponse:
    """Order ``quantity`` units of one brand and face value at the dearest price on offer;
    pay ``amount`` exactly, from an account in your verified name, to ``virtual_account``
    before ``deadline`` (any other deposit is returned in full). Needs an
    ``Idempotency-Key`` (422 ``idempotency_key_required``); 422 ``not_for_sale`` for a
    brand not sold."""
    h = idempotency.request_hash(request, await request.body())
    if idem is None:
        raise buying.IdempotencyKeyRequired("ordering needs an Idempotency-Key header")
    key = idem

    def work(deps: Deps) -> tuple[int, dict[str, Any]]:
        view = buying.place(deps, customer, key, body.brand_id, body.face_value, body.quantity)
        return 201, _order(view).model_dump(mode="json")

    # placing an order asks the bank for its virtual account: phased (see idempotency.py)
    return await run_in_threadpool(
        functools.partial(idempotency.run, deps, customer, key, h, work, joined=False)
    )


@router.get("/orders", response_model=s.OrderList, tags=["buying"])
def list_orders(
    customer: CustomerDep,
    deps: DepsDep,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> s.OrderList:
    rows = buying.list_orders(deps, customer, cursor=cursor, limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    return s.OrderList(
        data=[_order(v) for v in page], next_cursor=page[-1].order.id if more else None
    )


@router.get(
    "/orders/{order_id}",
    response_model=s.OrderOut,
    tags=["buying"],
    responses=_problems(s404="`order_not_found`: no such order of yours"),
)
def get_order(order_id: str, customer: CustomerDep, deps: DepsDep) -> s.OrderOut:
    """Your order: its state, amount, account and deadline, the deposits to it (kept or
    returned, and why) and its units (no codes)."""
    return _order(buying.get_order(deps, customer, order_id))


@router.post(
    "/orders/{order_id}/claims",
    status_code=201,
    response_model=s.ClaimOut,
    tags=["buying"],
    responses={
        200: {"description": "the unit was claimed before: its claim, unchanged"},
        **_problems(
            s404="`order_not_found`: no such order of yours; `unit_not_found`: no such unit in it",
            s409="`not_delivered`: only a delivered unit is claimed; `claim_window_closed`:"
            " past the guarantee window after delivery; `idempotency_key_reused`",
            s503="`claim_issuer_unavailable`: the issuer did not answer, nothing recorded:"
            " send the same request with the same Idempotency-Key again",
        ),
    },
)
async def file_claim(
    order_id: str,
    body: s.ClaimIn,
    request: Request,
    customer: CustomerDep,
    deps: DepsDep,
    idem: IdemKey = None,
) -> JSONResponse:
    """Claim a delivered unit doesn't work, within the guarantee window after delivery
    (``GIFTCASH_RESALE_GUARANTEE_DAYS``, 30 by default). The issuer is asked when it was
    spent: before you had it (before delivery, or before you were first shown its code),
    you are refunded at once (``refunded``); after, the claim is ``refused`` with the
    issuer's evidence; otherwise an operator looks (``review``). One
    claim per unit: claiming it again answers 200 with the same claim. Needs an
    ``Idempotency-Key`` (422 ``idempotency_key_required``)."""
    h = idempotency.request_hash(request, await request.body())
    # another's order answers as one that does not exist, key or no key
    await run_in_threadpool(buying.get_order, deps, customer, order_id)
    if idem is None:
        raise buying.IdempotencyKeyRequired("a claim needs an Idempotency-Key header")

    def work(deps: Deps) -> tuple[int, dict[str, Any]]:
        filed = claims.file_claim(deps, customer, order_id, body.unit_id, body.reason)
        return (201 if filed.created else 200), _claim(filed.claim).model_dump(mode="json")

    # a claim asks the issuer before it is recorded: phased (see idempotency.py)
    return await run_in_threadpool(
        functools.partial(idempotency.run, deps, customer, idem, h, work, joined=False)
    )


@router.post(
    "/bank/notifications",
    response_model=s.NotificationOut,
    tags=["buying"],
    responses=_problems(
        s401="`invalid_notification`: not signed by the bank (Standard Webhooks), out of its"
        " time tolerance or not a deposit notification; nothing recorded",
        s404="`order_not_found`: the notice names no order of this account",
        s503="`resale_unavailable`: no bank for virtual accounts is configured",
    ),
)
async def bank_notification(request: Request, deps: DepsDep) -> s.NotificationOut:
    """The bank's deposit notification to an order's virtual account, authenticated by
    its signature (no token). 200 for every deposit taken, a repeat included, so the bank
    stops sending it."""
    body = await request.body()
    headers = dict(request.headers)
    outcome = await run_in_threadpool(buying.take_notification, deps, headers, body)
    return s.NotificationOut(status="taken" if outcome.recorded else "seen", kept=outcome.kept)
