"""Buying (resale, issue 15): what is on sale (public, like the rates), an order's terms
shown before the customer agrees (price, total, the virtual account, the own-name rule,
the guarantee), the order placed once per its form, and the buyer's orders: the account
and deadline to pay by, the deposits and why any went back, and the delivered codes only
after the password is typed again, in that answer alone (never stored, never logged).
Within the guarantee window a delivered code is reported "doesn't work" once per its form
(resale/claims.py judges it by the issuer's record), and the outcome said in words."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from starlette.responses import Response

from giftcash.catalogue import live as catalogue
from giftcash.domain.banks import BANKS
from giftcash.domain.brands import Brand
from giftcash.domain.claims import window_open
from giftcash.domain.errors import DomainError
from giftcash.entrypoints.web import form_tokens, messages
from giftcash.entrypoints.web.customer_prices import parse_amount
from giftcash.entrypoints.web.i18n import N_
from giftcash.entrypoints.web.pages import (
    client_address,
    field,
    form,
    redirect,
    render,
    require,
    route_class,
    status_of,
    tr_of,
)
from giftcash.entrypoints.web.security import CUSTOMER, deps_of
from giftcash.resale import buying, claims, delivery
from giftcash.resale.offers import Offer
from giftcash.resale.orders import PAYMENT_WINDOW
from giftcash.service.deps import Deps

router = APIRouter(route_class=route_class(CUSTOMER), include_in_schema=False)

MAX_QUANTITY = 20  # as the API's (schemas_orders.MAX_QUANTITY)
QUANTITY_ERROR = N_("Choose how many vouchers to buy.")
PAGE_SIZE = 20
# a delivered order's units, claimed or not (a unit withdrawn before delivery is not)
CLAIMABLE_SHOWN = frozenset({"delivered", "claimed", "refunded", "upheld"})


def _brands(request: Request) -> dict[str, Brand]:
    return dict(catalogue.current_brands(deps_of(request)))


@router.get("/buy")
def offers_page(request: Request) -> Response:
    """One row per brand and face value: the offer an order gets (the dearest price, its
    units the longest before expiry), with how many there are at that price."""
    seen: set[tuple[str, int]] = set()
    rows = []
    for v in buying.offers(deps_of(request)):
        key = (v.offer.brand_id, v.offer.face_value)
        if key not in seen:
            seen.add(key)
            rows.append(v.offer)
    return render(request, "customer/buy.html", {"offers": rows, "brands": _brands(request)})


def _order_page(
    request: Request,
    customer_id: str,
    brand_id: str,
    face_value: int,
    *,
    status: int = 200,
    error: str | None = None,
    token: str | None = None,
    quantity: int = 1,
    changed: bool = False,
) -> Response:
    deps = deps_of(request)
    view = buying.offer_for(deps, brand_id, face_value)
    offer = view.offer if view else None
    if token is not None:  # the order waits for its account: its own terms, sent again
        offer = _reserved_terms(deps, customer_id, token) or offer
    most = min(offer.in_stock, MAX_QUANTITY) if offer else 0
    context = {
        "offer": offer,
        "brand": _brands(request).get(brand_id),
        "brand_id": brand_id,
        "face_value": face_value,
        "quantities": list(range(1, most + 1)),
        "quantity": min(max(quantity, 1), max(most, 1)),
        "verified": buying.identity_verified(deps, customer_id),
        "error": error,
        "price_changed": changed,
        "token": token,  # a retry of the same order (its account not issued yet)
        "payment_minutes": int(PAYMENT_WINDOW.total_seconds()) // 60,
        "guarantee_days": deps.limits.resale_guarantee_days,
    }
    return render(request, "customer/buy_order.html", context, status=status)


def _reserved_terms(deps: Deps, customer_id: str, token: str) -> Offer | None:
    """The terms of the order a form's token reserved (its units no longer on offer)."""
    try:
        o = buying.get_order(deps, customer_id, buying.order_id_for(customer_id, token)).order
    except DomainError:
        return None
    price = o.amount // o.quantity
    off_bps = (o.face_value - price) * 10_000 // o.face_value  # for display; floor: never more
    return Offer(o.brand_id, o.currency, o.face_value, price, o.quantity, off_bps)


@router.get("/buy/offer/{brand_id}/{face_value}")
def order_page(request: Request, brand_id: str, face_value: str) -> Response:
    customer_id = require(request)
    quantity = parse_amount(request.query_params.get("quantity", "")[:3]) or 1
    face = parse_amount(face_value[:12]) or 0  # a face value not on sale: said so
    return _order_page(request, customer_id, brand_id[:64], face, quantity=quantity)


@router.post("/buy/offer/{brand_id}/{face_value}")
def place_order(request: Request, brand_id: str, face_value: str) -> Response:
    """The order at the price the page showed: a price changed since is shown again to
    agree to, never charged silently. The form's token keys the order (sent twice: one
    order, and both answers lead to it)."""
    customer_id = require(request)
    return _place(request, customer_id, brand_id[:64], parse_amount(face_value[:12]) or 0)


def _place(request: Request, customer_id: str, brand_id: str, face_value: int) -> Response:
    deps = deps_of(request)
    quantity = parse_amount(field(request, "quantity", 3)) or 0
    shown = parse_amount(field(request, "unit_price", 12))
    token = field(request, form_tokens.FIELD, form_tokens.MAX_TOKEN_CHARS)
    view = buying.offer_for(deps, brand_id, face_value)
    resumed = bool(token) and _reserved_terms(deps, customer_id, token) is not None
    if not resumed and view is not None and shown is not None and view.offer.price != shown:
        return _order_page(
            request, customer_id, brand_id, face_value, status=409, quantity=quantity, changed=True
        )
    if not 1 <= quantity <= MAX_QUANTITY:
        error = tr_of(request)(QUANTITY_ERROR)
        return _order_page(request, customer_id, brand_id, face_value, status=422, error=error)
    key = token or deps.new_id()  # a hand-made form without a token: an order of its own

    def work(deps: Deps) -> dict[str, str]:
        placed = buying.place(deps, customer_id, key, brand_id, face_value, quantity)
        return {"location": f"/buy/orders/{placed.order.id}"}

    try:
        # asks the bank for the order's virtual account: phased (service/idempotency.py)
        answer = form_tokens.run(request, CUSTOMER, customer_id, work, calls_out=True)
    except DomainError as e:
        again = token if e.code == "virtual_account_pending" else None
        return _order_page(
            request,
            customer_id,
            brand_id,
            face_value,
            status=status_of(e),
            error=messages.error_text(tr_of(request), e),
            token=again,
            quantity=quantity,
        )
    return redirect(request, answer["location"])


@router.get("/buy/orders")
def orders_page(request: Request) -> Response:
    customer_id = require(request)
    cursor = request.query_params.get("after", "")[:64] or None
    rows = buying.list_orders(deps_of(request), customer_id, cursor=cursor, limit=PAGE_SIZE + 1)
    context = {
        "orders": [v.order for v in rows[:PAGE_SIZE]],
        "brands": _brands(request),
        "more": rows[PAGE_SIZE - 1].order.id if len(rows) > PAGE_SIZE else None,
    }
    return render(request, "customer/buy_orders.html", context)


def _detail(
    request: Request, customer_id: str, order_id: str, *, status: int = 200, **extra: object
) -> Response:
    deps = deps_of(request)
    view = buying.get_order(deps, customer_id, order_id[:64])
    context = {
        "o": view.order,
        "deposits": view.deposits,
        "units": view.units,
        "bank_name": BANKS.get(view.bank_code or "", view.bank_code or ""),
        "brands": _brands(request),
        "now": deps.clock.now(),
        "codes": None,
        "reveal_error": None,
        "claim_error": None,
        **_guarantee(deps, view),
        **extra,
    }
    return render(request, "customer/buy_order_detail.html", context, status=status)


def _guarantee(deps: Deps, view: buying.OrderView) -> dict[str, object]:
    """The guarantee on a delivered order: until when a code is reported, each unit's
    number on the page (the codes carry it too) and its claim, if any."""
    o = view.order
    days = deps.limits.resale_guarantee_days
    until = o.delivered_at + timedelta(days=days) if o.delivered_at else None
    shown = [u for u in view.units if u.status in CLAIMABLE_SHOWN]
    return {
        "guarantee_until": until,
        "guarantee_open": bool(
            o.delivered_at and window_open(o.delivered_at, deps.clock.now(), days)
        ),
        "claim_units": shown,
        "unit_numbers": {u.id: n for n, u in enumerate(shown, 1)},
        "claims": {c.unit_id: c for c in view.claims},
    }


@router.get("/buy/orders/{order_id}")
def order_detail(request: Request, order_id: str) -> Response:
    return _detail(request, require(request), order_id)


@router.post("/buy/orders/{order_id}/codes")
def reveal_codes(request: Request, order_id: str) -> Response:
    """Not a form token: the answer carries the codes, and a stored answer would keep
    them. Each reveal is audited (without the codes); the page is never cached."""
    customer_id = require(request)
    password = form(request).get("password")
    typed = password[:200] if isinstance(password, str) else ""
    try:
        codes = delivery.reveal_codes(
            deps_of(request),
            customer_id,
            order_id[:64],
            typed,
            device_key=client_address(request),
        )
    except DomainError as e:
        if e.code not in ("invalid_credentials", "too_many_attempts"):
            raise  # another's order: not found; the route class answers the rest
        tr = tr_of(request)
        error = tr(messages.FIELD_ERRORS[(e.code, "password")])
        return _detail(request, customer_id, order_id, status=status_of(e), reveal_error=error)
    response = _detail(request, customer_id, order_id, codes=codes)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/buy/orders/{order_id}/claims")
def file_claim(request: Request, order_id: str) -> Response:
    """A delivered code reported "doesn't work": the issuer is asked, the verdict recorded
    (resale/claims.py). The form's token keys it (sent twice: one claim, the same answer);
    an error is said on the order's page and frees the token to send again."""
    customer_id = require(request)
    deps = deps_of(request)
    order_id = order_id[:64]
    buying.get_order(deps, customer_id, order_id)  # another's order: not found, first
    unit_id = field(request, "unit_id", 64)
    reason = field(request, "reason", claims.MAX_REASON) or None

    def work(deps: Deps) -> dict[str, str]:
        filed = claims.file_claim(deps, customer_id, order_id, unit_id, reason)
        return {"location": f"/buy/orders/{order_id}/claims/{filed.claim.id}"}

    try:
        # asks the issuer before anything is recorded: phased (service/idempotency.py)
        answer = form_tokens.run(request, CUSTOMER, customer_id, work, calls_out=True)
    except DomainError as e:
        if e.code == "order_not_found":
            raise
        error = messages.error_text(tr_of(request), e)
        return _detail(request, customer_id, order_id, status=status_of(e), claim_error=error)
    return redirect(request, answer["location"])


@router.get("/buy/orders/{order_id}/claims/{claim_id}")
def claim_page(request: Request, order_id: str, claim_id: str) -> Response:
    """A claim's outcome in words: refunded and how, refused with the issuer's record of
    when and where the voucher was used, or under review."""
    customer_id = require(request)
    deps = deps_of(request)
    view = buying.get_order(deps, customer_id, order_id[:64])
    found = [c for c in view.claims if c.id == claim_id[:64]]
    if not found:
        raise delivery.OrderNotFound("no such claim on this order")
    guarantee = _guarantee(deps, view)
    context = {
        "o": view.order,
        "c": found[0],
        "brands": _brands(request),
        "number": guarantee["unit_numbers"],
    }
    return render(request, "customer/buy_claim.html", context)
