"""Bugs planted on purpose, to show the harness catches them. Only tests install them
(``monkeypatch``, or ``planted_worker.py`` for a worker process); nothing in ``src``
reaches this module."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime

from giftcash.domain import ledger
from giftcash.domain.states import PayoutStatus as PS
from giftcash.domain.states import UnitStatus as US
from giftcash.domain.states import transition
from giftcash.payouts import sending
from giftcash.redemption import steps as redemption
from giftcash.resale import delivery as resale_delivery
from giftcash.resale import worker as resale_worker
from giftcash.service.deps import Deps
from giftcash.service.ports import Ambiguous, Unavailable
from giftcash.service.ports.records import InventoryUnit, Order
from giftcash.service.ports.uow import UnitOfWork
from giftcash.service.ports.virtual_accounts import VirtualAccountPort

_real_record_sends = sending.record_sends


def redeem_retry_with_new_key(deps: Deps, c: redemption.RedeemClaim) -> redemption.RedeemOutcome:
    """PLANTED: a retry makes a new idempotency key and redeems again, without asking the
    issuer what happened to the first call."""
    key = c.key if c.prior_attempts == 0 else f"{c.key}-retry{c.prior_attempts}"
    try:
        return redemption._classify(c, deps.issuer.redeem(c.issuer, key, c.code, c.pin))
    except (Ambiguous, Unavailable) as e:
        return redemption.RedeemOutcome(c, "retry", reason=str(e))


def send_payout_retry_with_new_id(deps: Deps, c: sending.PayoutClaim) -> sending.PayoutOutcome:
    """PLANTED: a retry of a deposit takes a fresh ``bank_tran_id`` and sends again,
    without the transfer-result inquiry."""
    retry = c.prior_attempts > 0 or c.status == PS.UNKNOWN
    tran_id = deps.new_bank_tran_id() if retry else c.bank_tran_id
    try:
        d = deps.bank.deposit(
            tran_id, c.bank_code, c.account_number, c.holder_name, c.amount, memo="giftcash"
        )
    except Ambiguous as e:
        return sending.PayoutOutcome(c, "unknown", str(e))
    except Unavailable as e:
        return sending.PayoutOutcome(c, "retry", str(e))
    if d.outcome == "done":
        return sending.PayoutOutcome(c, "sent")
    return sending.PayoutOutcome(c, "rejected", d.message[:200])


WINDOW_S = 0.5


def record_sends_in_two_transactions(
    deps: Deps, worker_id: str, outcomes: list[sending.PayoutOutcome]
) -> None:
    """PLANTED: a sent payout's status commits in one transaction and its ledger entry in
    a second one (after a pause that stands for a slow commit), so a crash in between
    leaves a payout sent with no ``payout_sent`` transfer."""
    _real_record_sends(deps, worker_id, [o for o in outcomes if o.kind != "sent"])
    now = deps.clock.now()
    moved = []
    with deps.uow() as uow:
        for o in outcomes:
            c = o.claim
            if o.kind == "sent" and uow.payouts.transition_leased(
                transition(c.payout_id, PS(c.status), PS.SENT), worker_id, now
            ):
                moved.append(c)
        uow.commit()
    if not moved:
        return
    time.sleep(WINDOW_S)
    with deps.uow() as uow:
        uow.ledger.post_many(
            [
                ledger.payout_sent(
                    f"payout-sent:{c.payout_id}",
                    customer_id=c.customer_id,
                    amount=c.amount,
                    currency=c.currency,
                    ref=c.payout_id,
                )
                for c in moved
            ]
        )
        uow.commit()


# -- resale ------------------------------------------------------------------------------------

_real_deliver = resale_delivery._deliver
_real_send_returns = resale_worker.send_returns


def deliver_one_more(deps: Deps, order: Order, units: Sequence[InventoryUnit]) -> bool:
    """PLANTED: after delivering an order, one more unit is delivered to it: one still in
    stock, or else one another unpaid order holds (a code shown to a buyer who did not
    pay for it)."""
    done = _real_deliver(deps, order, units)
    if not done:
        return done
    now = deps.clock.now()
    with deps.uow() as uow:
        spare = uow.inventory.stocked(order.brand_id, order.face_value, 1)
        held = [
            u
            for o in uow.orders.awaiting_payment(100)
            for u in uow.inventory.of_order(o.id)
            if u.status == US.RESERVED.value
        ]
        if spare:
            u = spare[0]
            uow.inventory.apply([transition(u.id, US.STOCKED, US.RESERVED)], order.id, now)
            uow.inventory.apply([transition(u.id, US.RESERVED, US.DELIVERED)], order.id, now)
        elif held:
            uow.inventory.apply([transition(held[0].id, US.RESERVED, US.DELIVERED)], order.id, now)
        uow.commit()
    return done


def send_returns_twice(
    uow_factory: Callable[[], UnitOfWork], port: VirtualAccountPort, now: datetime, limit: int = 100
) -> resale_worker.ReturnsPass:
    """PLANTED: each queued return is first sent under a fresh key (as a retry that forgot
    the stored one would), then the normal way."""
    with uow_factory() as uow:
        queued = uow.orders.returning(limit)
    for d in queued:
        try:
            port.return_deposit(f"{d.return_key}-again", d.bank_deposit_id, d.amount, "again")
        except (Ambiguous, Unavailable):
            pass
    return _real_send_returns(uow_factory, port, now, limit)
