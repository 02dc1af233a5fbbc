"""Delivery of paid orders, exactly once (issue 15): each reserved unit is re-checked by
the issuer's balance inquiry just before delivery, outside any transaction; a unit found
spent, gone or expired is withdrawn (its cost moved from the inventory to its seller's
receivable), its seller's case opened and a replacement of the same brand and face value
reserved and checked in turn; with no replacement the order is refunded: its kept deposit
queued to go back whole (``send_returns`` sends it, once, by the key stored here).

An order is delivered whole or not at all: the bank returns a deposit only in full, so a
refund cannot be for part of an order. Every move is conditional on the expected state
and the delivery of all units, the order's move and their books are one transaction:
two workers racing, or one killed between the inquiry and the record, deliver nothing
twice. An issuer that times out moves nothing; the next pass asks again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from giftcash.audit import log as audit
from giftcash.domain import ledger
from giftcash.domain.aml import CaseKind, CaseSignal, Evidence
from giftcash.domain.resale import ReturnReason, days_left, offer_price_won
from giftcash.domain.states import DepositStatus, OrderStatus, UnitStatus, transition
from giftcash.identity import customers
from giftcash.resale.deposits import return_key
from giftcash.resale.offers import PricingFor
from giftcash.resale.sellers import hold_seller
from giftcash.review import cases
from giftcash.service import errors
from giftcash.service.deps import Deps
from giftcash.service.ports import Ambiguous, Unavailable
from giftcash.service.ports.records import InventoryUnit, Order, SealedCode
from giftcash.service.ports.uow import UnitOfWork

# the seller of a voucher found spent before its buyer got it is held (resale/sellers.py)
HOLD_REASON = "resale: a voucher they sold us was found spent before delivery"
ROUNDS = 4  # replacements checked in one pass for one order; the rest wait a pass
CANDIDATES = 20
SHOWN = (UnitStatus.DELIVERED.value, UnitStatus.CLAIMED.value, UnitStatus.UPHELD.value)


class Verdict(StrEnum):
    VALID = "valid"
    GONE = "gone"  # used, not found, expired or not its full balance: withdrawn
    UNKNOWN = "unknown"  # no answer: nothing moves


@dataclass(frozen=True, slots=True)
class Check:
    unit: InventoryUnit
    verdict: Verdict
    issuer_status: str


def unit_price_won(order: Order) -> int:
    return order.amount // order.quantity  # place_order charges one price per unit


def deliver_paid(
    deps: Deps, worker_id: str, limit: int = 50, pricing_for: PricingFor | None = None
) -> int:
    """One pass over paid orders; answers how many orders were delivered or refunded."""
    with deps.reader() as uow:
        paid = uow.orders.paid(limit)
    return sum(deliver_order(deps, worker_id, o.id, pricing_for) for o in paid)


def deliver_order(
    deps: Deps, worker_id: str, order_id: str, pricing_for: PricingFor | None = None
) -> bool:
    """True when this call delivered or refunded the order."""
    for _ in range(ROUNDS):
        with deps.reader() as uow:
            order = uow.orders.get(order_id)
            if order is None or order.status != OrderStatus.PAID.value:
                return False
            units = [u for u in uow.inventory.of_order(order_id) if u.status == "reserved"]
            sealed = uow.inventory.sealed([u.id for u in units])
        checks = [_check(deps, u, sealed[u.id]) for u in units]
        gone = [c for c in checks if c.verdict is Verdict.GONE]
        if gone or len(units) < order.quantity:
            if _replace_or_refund(deps, worker_id, order, gone, sealed, pricing_for):
                return True
            if any(c.verdict is Verdict.UNKNOWN for c in checks):
                return False
            continue  # the replacements are checked in turn
        if any(c.verdict is Verdict.UNKNOWN for c in checks):
            return False
        return _deliver(deps, order, units)
    return False


def _check(deps: Deps, u: InventoryUnit, s: SealedCode) -> Check:
    """The issuer's answer for one unit, asked with its code opened only for the call."""
    code = deps.vault.decrypt(s.code_enc, s.key_id, s.item_id)
    pin = deps.vault.decrypt(s.pin_enc, s.key_id, s.item_id + ":pin") if s.pin_enc else None
    try:
        info = deps.issuer.inquire_balance(s.issuer, code, pin)
    except (Ambiguous, Unavailable):
        return Check(u, Verdict.UNKNOWN, "unanswered")
    if info is None:  # no inquiry at this issuer: never delivered blind
        return Check(u, Verdict.UNKNOWN, "no_inquiry")
    now = deps.clock.now()
    full = info.balance is None or info.balance >= u.face_value
    expired = info.expires_at is not None and info.expires_at <= now
    if info.status == "active" and full and not expired:
        return Check(u, Verdict.VALID, info.status)
    return Check(u, Verdict.GONE, "expired" if expired else info.status)


def _deliver(deps: Deps, order: Order, units: Sequence[InventoryUnit]) -> bool:
    now = deps.clock.now()
    price = unit_price_won(order)
    with deps.uow() as uow:
        current = {u.id for u in uow.inventory.of_order(order.id) if u.status == "reserved"}
        if current != {u.id for u in units} or len(units) != order.quantity:
            return False  # changed since the check: checked again next round or pass
        moves = [transition(u.id, UnitStatus.RESERVED, UnitStatus.DELIVERED) for u in units]
        if len(uow.inventory.apply(moves, order.id, now)) != len(units):
            return False  # another worker delivered or withdrew first: rolled back
        if not uow.orders.apply(transition(order.id, OrderStatus.PAID, OrderStatus.DELIVERED), now):
            return False
        transfers = []
        for u in units:
            ref = f"{order.id}:{u.id}"
            transfers.append(
                ledger.resale_sale(
                    f"sale:{ref}",
                    customer_id=order.customer_id,
                    price=price,
                    currency=order.currency,
                    ref=order.id,
                )
            )
            transfers.append(
                ledger.cost_of_sale(
                    f"cost:{ref}", brand_id=u.brand_id, cost=u.cost, currency=u.currency, ref=u.id
                )
            )
        uow.ledger.post_many(transfers)
        uow.commit()
    return True


def _replace_or_refund(
    deps: Deps,
    worker_id: str,
    order: Order,
    gone: Sequence[Check],
    sealed: dict[str, SealedCode],
    pricing_for: PricingFor | None,
) -> bool:
    """One transaction: withdraw the spent units (those still reserved), open their
    sellers' cases and move their cost from the inventory to the sellers' receivables,
    reserve replacements; with too few, refund. True: refunded."""
    now = deps.clock.now()
    with deps.uow() as uow:
        events = [transition(c.unit.id, UnitStatus.RESERVED, UnitStatus.WITHDRAWN) for c in gone]
        withdrawn = set(uow.inventory.apply(events, order.id, now))
        held = uow.inventory.of_order(order.id)
        taken = [u for u in held if u.status in ("reserved", "delivered")]
        needed = order.quantity - len(taken)
        refunded = False
        if needed > 0:
            latest = max((u.expires_at for u in held if u.expires_at), default=None)
            got = _reserve(uow, order, needed, pricing_for, latest, now)
            if got < needed:
                if not _refund(uow, order, now):
                    return False  # another worker settled the order first: rolled back
                refunded = True
        for c in gone:
            if c.unit.id in withdrawn:
                _open_case(uow, deps, worker_id, c, sealed[c.unit.id], now)
        uow.ledger.post_many(
            [_withdrawal(c.unit, sealed[c.unit.id]) for c in gone if c.unit.id in withdrawn]
        )
        uow.commit()
    return refunded


def _reserve(
    uow: UnitOfWork,
    order: Order,
    needed: int,
    pricing_for: PricingFor | None,
    latest: datetime | None,
    now: datetime,
) -> int:
    """Reserve up to ``needed`` stocked units priced at no more than the order's unit
    price. Without the operator's prices, a unit expiring no later than one the order
    was priced for (prices never rise as expiry nears) and not expired."""
    pricing = pricing_for(order.brand_id) if pricing_for else None
    price = unit_price_won(order)
    got = 0
    for u in uow.inventory.stocked(order.brand_id, order.face_value, needed + CANDIDATES):
        if got == needed:
            break
        if u.expires_at is None or u.expires_at <= now:
            continue
        if pricing is not None:
            offered = offer_price_won(pricing, u.face_value, days_left(u.expires_at, now))
            if offered is None or offered > price:
                continue
        elif latest is None or u.expires_at > latest:
            continue
        event = transition(u.id, UnitStatus.STOCKED, UnitStatus.RESERVED)
        got += len(uow.inventory.apply([event], order.id, now))
    return got


def _refund(uow: UnitOfWork, order: Order, now: datetime) -> bool:
    """paid -> refunded, its units back in stock, the kept deposit queued to go back
    whole under a key made now (before any call to the bank), and the books."""
    if not uow.orders.apply(transition(order.id, OrderStatus.PAID, OrderStatus.REFUNDED), now):
        return False
    release = [
        transition(u.id, UnitStatus.RESERVED, UnitStatus.STOCKED)
        for u in uow.inventory.of_order(order.id)
        if u.status == "reserved"
    ]
    uow.inventory.apply(release, None, now)
    (kept,) = [d for d in uow.orders.deposits(order.id) if d.status == "matched"]
    reason = ReturnReason.NOT_DELIVERED.value
    queued = uow.orders.apply_deposit(
        transition(kept.id, DepositStatus.MATCHED, DepositStatus.RETURNING, reason),
        now,
        return_reason=reason,
        return_key=return_key(kept.bank_deposit_id),
    )
    assert queued, kept.id  # the order moved from paid in this transaction
    uow.ledger.post(
        ledger.order_refunded(
            f"order-refund-{order.id}",
            customer_id=order.customer_id,
            amount=order.amount,
            currency=order.currency,
            ref=order.id,
        )
    )
    return True


def _withdrawal(u: InventoryUnit, s: SealedCode) -> ledger.Transfer:
    return ledger.unit_withdrawn(
        f"withdrawn:{u.id}",
        brand_id=u.brand_id,
        seller_id=s.seller_id,
        cost=u.cost,
        currency=u.currency,
        ref=u.id,
    )


def _open_case(
    uow: UnitOfWork, deps: Deps, worker_id: str, c: Check, s: SealedCode, now: datetime
) -> None:
    u = c.unit
    actor = f"worker:{worker_id}"
    detail = {"unit": u.id}
    hold_seller(uow, deps, s.seller_id, reason=HOLD_REASON, actor=actor, now=now, detail=detail)
    evidence = Evidence(
        key=f"unit:{u.id}",
        at=now,
        amount=u.face_value,
        item_id=u.item_id,
        customer_id=s.seller_id,
        masked=s.masked_code,
        note=f"found {c.issuer_status} before delivery",
    )
    signal = CaseSignal(
        CaseKind.RESOLD_SPENT,
        f"customer:{s.seller_id}",
        (s.seller_id,),
        (evidence,),
        u.face_value,
        u.currency,
        "a voucher sold to us for resale was found spent before its buyer got it",
    )
    cases.record_signal(uow, deps, signal, f"worker:{worker_id}", now)


# -- the buyer's reveal ----------------------------------------------------------------------


class OrderNotFound(errors.NotFound):
    code = "order_not_found"


@dataclass(frozen=True, slots=True)
class DeliveredCode:
    unit_id: str
    brand_id: str
    face_value: int
    expires_at: datetime | None
    code: str = field(repr=False)  # never in a log line or a repr
    pin: str | None = field(repr=False)


def delivered_codes(deps: Deps, customer_id: str, order_id: str) -> list[DeliveredCode]:
    """The codes of the buyer's delivered units, to that buyer only (anyone else: not
    found). Each reveal is on the audit record, without the codes."""
    now = deps.clock.now()
    with deps.uow() as uow:
        order = uow.orders.get(order_id)
        if order is None or order.customer_id != customer_id:
            raise OrderNotFound("no such order")
        units = [u for u in uow.inventory.of_order(order_id) if u.status in SHOWN]
        sealed = uow.inventory.sealed([u.id for u in units])
        if units:  # from now the buyer has them (resale/claims.py judges against this)
            uow.orders.mark_revealed(order_id, now)
        audit.record(
            uow,
            f"customer:{customer_id}",
            "order.codes_revealed",
            f"order:{order_id}",
            {"units": [u.id for u in units]},
            at=now,
            id=deps.new_id(),
        )
        uow.commit()
    out = []
    for u in units:
        s = sealed[u.id]
        code = deps.vault.decrypt(s.code_enc, s.key_id, s.item_id)
        pin = deps.vault.decrypt(s.pin_enc, s.key_id, s.item_id + ":pin") if s.pin_enc else None
        out.append(DeliveredCode(u.id, u.brand_id, u.face_value, u.expires_at, code, pin))
    return out


def reveal_codes(
    deps: Deps, customer_id: str, order_id: str, password: str, *, device_key: str | None = None
) -> list[DeliveredCode]:
    """The codes of the buyer's delivered order once the buyer typed their password again
    (a session left open is not enough to read bearer value): another's order is not
    found before any password is looked at; a wrong password counts as a failed sign-in
    (``invalid_credentials``, then ``too_many_attempts``) and opens nothing."""
    with deps.reader() as uow:
        order = uow.orders.get(order_id)
    if order is None or order.customer_id != customer_id:
        raise OrderNotFound("no such order")
    customers.check_password(deps, customer_id, password, device_key=device_key)
    return delivered_codes(deps, customer_id, order_id)
