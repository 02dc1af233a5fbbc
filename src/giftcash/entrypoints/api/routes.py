"""The v1 customer endpoints. Thin: parse, call one service function, render."""

from __future__ import annotations

import functools
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from giftcash.catalogue import live as catalogue
from giftcash.entrypoints.api import idempotency, views
from giftcash.entrypoints.api import schemas as s
from giftcash.entrypoints.api.deps import CustomerDep, DepsDep, IdemKey
from giftcash.entrypoints.client_address import client_address
from giftcash.identity import bank_accounts, customers, tiers
from giftcash.intake import quoting, submissions
from giftcash.payouts import reads as payouts
from giftcash.service.deps import Deps
from giftcash.webhooks import delivery as webhooks

router = APIRouter(prefix="/v1")


async def _body_hash(request: Request) -> str:
    return idempotency.request_hash(request, await request.body())


@router.post("/signup", status_code=201, response_model=s.SignupOut, tags=["customers"])
async def signup(
    body: s.SignupIn, request: Request, deps: DepsDep, idem: IdemKey = None
) -> JSONResponse:
    h = await _body_hash(request)
    address = _address(request)

    def work(deps: Deps) -> tuple[int, dict]:
        cid = customers.signup(
            deps,
            phone=body.phone,
            name=body.name,
            birth_date=body.birth_date,
            password=body.password,
            device_key=address,
        )
        verification = "identity" if deps.identity is not None else "sms"
        return 201, {"customer_id": cid, "verification": verification}

    # signing up sends an SMS: phased, not one transaction (see idempotency.py)
    return await _run(deps, "public", idem, h, work, joined=False)


def _address(request: Request) -> str | None:
    """The client address failed attempts and bounds are counted by (the peer, or
    X-Forwarded-For from a trusted proxy)."""
    return client_address(request)


@router.post("/signup/verify", response_model=s.Status, tags=["customers"])
def verify_phone(body: s.VerifyPhoneIn, request: Request, deps: DepsDep) -> s.Status:
    customers.verify_phone(deps, phone=body.phone, code=body.code, device_key=_address(request))
    return s.Status(status="verified")


@router.post("/signup/identity", response_model=s.IdentitySignupOut, tags=["customers"])
def complete_identity(
    body: s.IdentitySignupIn, request: Request, deps: DepsDep
) -> s.IdentitySignupOut:
    """After the person confirmed the request on their phone (본인인증): the customer,
    made with the verified name and birth date. 409 ``identity_pending`` until they do;
    409 ``identity_already_registered`` (with ``masked_phone``) when the person has an
    account already."""
    customer_id = customers.complete_identity(deps, phone=body.phone)
    return s.IdentitySignupOut(status="verified", customer_id=customer_id)


@router.post("/tokens", response_model=s.TokenOut, tags=["customers"])
def tokens(body: s.TokenIn, request: Request, deps: DepsDep) -> s.TokenOut:
    token = customers.issue_token(
        deps, phone=body.phone, password=body.password, device_key=_address(request)
    )
    return s.TokenOut(access_token=token, expires_in=deps.limits.token_ttl_s)


@router.get("/brands", response_model=s.BrandList, tags=["brands"])
def brands(deps: DepsDep) -> s.BrandList:
    return s.BrandList(data=[views.brand(b) for b in catalogue.current_brands(deps).values()])


@router.post("/quotes", response_model=s.QuoteOut, tags=["quotes"])
def quote(body: s.QuoteIn, deps: DepsDep) -> s.QuoteOut:
    v = quoting.make_quote(
        deps,
        body.brand_id,
        body.face_value,
        body.funding_source,
        body.days_to_bill,
        purchased_at=body.purchased_at,
        jurisdiction=body.jurisdiction,
    )
    q = v.quote
    assert q.expires_at is not None
    routes = [
        s.RouteOut(
            route=r.route, cash=r.cash, currency=r.currency, note=r.note, deadline=r.deadline
        )
        for r in v.routes
    ]
    return s.QuoteOut(
        brand_id=q.brand_id,
        face_value=q.face_value,
        fee=q.fee,
        payout=q.payout,
        fee_bps=q.fee_bps,
        currency=q.currency,
        funding_source=q.funding_source.value,
        annualized_cost_bps=q.annualized_cost_bps,
        days_to_bill=q.days_to_bill,
        expires_at=q.expires_at,
        routes=routes,
        routes_note=v.routes_note,
        jurisdiction=v.jurisdiction,
        declined=views.decline(v.declined[0], v.declined[1], routes) if v.declined else None,
    )


@router.post(
    "/bank-accounts", status_code=201, response_model=s.BankAccountOut, tags=["bank accounts"]
)
async def add_bank_account(
    body: s.BankAccountIn,
    request: Request,
    customer: CustomerDep,
    deps: DepsDep,
    idem: IdemKey = None,
) -> JSONResponse:
    h = await _body_hash(request)
    address = _address(request)

    def work(deps: Deps) -> tuple[int, dict]:
        acct = bank_accounts.add_bank_account(
            deps,
            customer,
            bank_code=body.bank_code,
            account_number=body.account_number,
            holder_name=body.holder_name,
            device_key=address,
        )
        return 201, views.bank_account(acct).model_dump(mode="json")

    # adding an account asks the bank and sends 1 won: phased (see idempotency.py)
    return await _run(deps, customer, idem, h, work, joined=False)


@router.post(
    "/bank-accounts/{account_id}/verify", response_model=s.BankAccountOut, tags=["bank accounts"]
)
def verify_bank_account(
    account_id: str, body: s.BankAccountVerifyIn, customer: CustomerDep, deps: DepsDep
) -> s.BankAccountOut:
    return views.bank_account(
        bank_accounts.verify_bank_account(deps, customer, account_id, body.code)
    )


@router.get("/bank-accounts", response_model=s.BankAccountList, tags=["bank accounts"])
def list_bank_accounts(customer: CustomerDep, deps: DepsDep) -> s.BankAccountList:
    return s.BankAccountList(
        data=[views.bank_account(a) for a in bank_accounts.list_bank_accounts(deps, customer)]
    )


@router.get("/due-diligence", response_model=s.DueDiligenceOut, tags=["customers"])
def due_diligence(customer: CustomerDep, deps: DepsDep) -> s.DueDiligenceOut:
    """The customer's verification level, what they sold and may still sell today and
    this month without a further step, and the step that unlocks more."""
    v = tiers.view(deps, customer)
    return s.DueDiligenceOut(
        in_force=v.facts.in_force,
        tier=v.tier,
        currency="KRW",
        day_used=v.day_used,
        day_left=v.room.day_left if v.facts.in_force else None,
        month_used=v.month_used,
        month_left=v.room.month_left if v.facts.in_force else None,
        next_step=v.room.next_step.value if v.facts.in_force and v.room.next_step else None,
        edd_one_off_value=v.limits.edd_one_off_value,
    )


@router.post("/submissions", status_code=201, response_model=s.SubmissionOut, tags=["submissions"])
async def submit(
    body: s.SubmissionIn,
    request: Request,
    customer: CustomerDep,
    deps: DepsDep,
    idem: IdemKey = None,
) -> JSONResponse:
    h = await _body_hash(request)
    items = [
        submissions.ItemIn(
            brand_id=i.brand_id,
            code=i.code,
            pin=i.pin,
            face_value=i.face_value,
            funding_source=i.funding_source,
            purchased_at=i.purchased_at,
        )
        for i in body.items
    ]

    def work(deps: Deps) -> tuple[int, dict]:
        view = submissions.submit(
            deps,
            customer,
            bank_account_id=body.bank_account_id,
            items=items,
            device_key=request.client.host if request.client else None,
        )
        return 201, views.submission(view).model_dump(mode="json")

    return await _run(deps, customer, idem, h, work)


@router.get("/submissions", response_model=s.SubmissionList, tags=["submissions"])
def list_submissions(
    customer: CustomerDep,
    deps: DepsDep,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> s.SubmissionList:
    rows = submissions.list_submissions(deps, customer, cursor=cursor, limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    return s.SubmissionList(
        data=[
            s.SubmissionSummary(
                id=r.id,
                status=r.status,
                bank_account_id=r.bank_account_id,
                item_count=r.item_count,
                created_at=r.created_at,
            )
            for r in page
        ],
        next_cursor=page[-1].id if more else None,
    )


@router.get("/submissions/{submission_id}", response_model=s.SubmissionOut, tags=["submissions"])
def get_submission(submission_id: str, customer: CustomerDep, deps: DepsDep) -> s.SubmissionOut:
    return views.submission(submissions.get_submission(deps, customer, submission_id))


@router.post(
    "/submissions/{submission_id}/bank-account",
    response_model=s.SubmissionOut,
    tags=["submissions"],
)
async def move_submission(
    submission_id: str,
    body: s.SubmissionAccountIn,
    request: Request,
    customer: CustomerDep,
    deps: DepsDep,
    idem: IdemKey = None,
) -> JSONResponse:
    """After the bank returned a payout (its account is ``failed``), send the submission's
    unpaid items to another of your verified accounts."""
    h = await _body_hash(request)

    def work(deps: Deps) -> tuple[int, dict]:
        view = submissions.change_bank_account(deps, customer, submission_id, body.bank_account_id)
        return 200, views.submission(view).model_dump(mode="json")

    return await _run(deps, customer, idem, h, work)


@router.get("/payouts", response_model=s.PayoutList, tags=["payouts"])
def list_payouts(
    customer: CustomerDep,
    deps: DepsDep,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> s.PayoutList:
    rows = payouts.list_payouts(deps, customer, cursor=cursor, limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    items = payouts.item_ids_of(deps, [p.id for p in page])
    return s.PayoutList(
        data=[views.payout(p, items[p.id]) for p in page], next_cursor=page[-1].id if more else None
    )


@router.get("/payouts/{payout_id}", response_model=s.PayoutOut, tags=["payouts"])
def get_payout(payout_id: str, customer: CustomerDep, deps: DepsDep) -> s.PayoutOut:
    p, item_ids = payouts.get_payout(deps, customer, payout_id)
    return views.payout(p, item_ids)


async def _run(deps, scope, idem, h, work, *, joined: bool = True) -> JSONResponse:
    return await run_in_threadpool(
        functools.partial(idempotency.run, deps, scope, idem, h, work, joined=joined)
    )


@router.post(
    "/webhook-endpoints", status_code=201, response_model=s.WebhookEndpointOut, tags=["webhooks"]
)
async def add_webhook_endpoint(
    body: s.WebhookEndpointIn,
    request: Request,
    customer: CustomerDep,
    deps: DepsDep,
    idem: IdemKey = None,
) -> JSONResponse:
    h = await _body_hash(request)
    allow_loopback = bool(getattr(request.app.state, "allow_loopback_webhooks", False))
    signer = request.app.state.adapters.webhook_signer

    def work(deps: Deps) -> tuple[int, dict]:
        e = webhooks.add_endpoint(
            deps,
            signer,
            customer,
            body.url,
            list(body.event_types),
            allow_loopback=allow_loopback,
        )
        return 201, s.WebhookEndpointOut(
            id=e.id, url=e.url, event_types=e.event_types, secret=e.secret
        ).model_dump(mode="json")

    return await _run(deps, customer, idem, h, work)


@router.get("/webhook-endpoints", response_model=s.WebhookEndpointList, tags=["webhooks"])
def list_webhook_endpoints(customer: CustomerDep, deps: DepsDep) -> s.WebhookEndpointList:
    return s.WebhookEndpointList(
        data=[
            s.WebhookEndpointOut(id=e.id, url=e.url, event_types=e.event_types)
            for e in webhooks.list_endpoints(deps, customer)
        ]
    )


@router.delete("/webhook-endpoints/{endpoint_id}", status_code=204, tags=["webhooks"])
def remove_webhook_endpoint(endpoint_id: str, customer: CustomerDep, deps: DepsDep) -> Response:
    webhooks.remove_endpoint(deps, customer, endpoint_id)
    return Response(status_code=204)
