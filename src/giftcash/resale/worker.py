"""The worker's resale steps: send the queued returns of deposits we do not keep (once,
by the key stored when the deposit was judged); expire orders unpaid at their deadline,
asking the bank for their deposits first so a lost notification is not lost money, then
releasing their units to stock; and close the virtual account of an order done with it
(expired, delivered, refunded) at the bank, again on later passes until the bank has done
it, asking for its deposits once more after the close.

A bank that does not answer (``Unavailable``) or whose answer was lost (``Ambiguous``)
leaves the work where it was for the next pass: every call here is safe to repeat (a
return by its stored key, a close, an inquiry)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from giftcash.domain.states import DepositStatus, OrderStatus, UnitStatus, transition
from giftcash.resale.deposits import take_deposit
from giftcash.service.ports import Ambiguous, Unavailable
from giftcash.service.ports.uow import UnitOfWork
from giftcash.service.ports.virtual_accounts import VirtualAccountPort

BuyerName = Callable[[UnitOfWork, str], str]  # the verified name of a customer


@dataclass(frozen=True, slots=True)
class ReturnsPass:
    returned: int
    waiting: int  # the bank could not be asked or did not answer: asked again next pass
    refused: int  # the bank refused (nothing moved): left returning for an operator


def send_returns(
    uow_factory: Callable[[], UnitOfWork],
    port: VirtualAccountPort,
    now: datetime,
    limit: int = 100,
) -> ReturnsPass:
    returned = waiting = refused = 0
    with uow_factory() as uow:
        queued = uow.orders.returning(limit)
    for d in queued:
        assert d.return_key is not None, d.id
        try:
            # a lost answer from an earlier pass is the bank's to tell, by our key
            answer = port.return_by_key(d.return_key)
            if answer is None:
                memo = f"giftcash return {d.return_reason}"
                answer = port.return_deposit(d.return_key, d.bank_deposit_id, d.amount, memo)
        except (Unavailable, Ambiguous):
            waiting += 1
            continue
        if answer.outcome == "unknown":
            waiting += 1
            continue
        if answer.outcome == "rejected":
            refused += 1
            continue
        with uow_factory() as uow:
            done = transition(d.id, DepositStatus.RETURNING, DepositStatus.RETURNED)
            if uow.orders.apply_deposit(done, now):
                returned += 1
            uow.commit()
    return ReturnsPass(returned, waiting, refused)


def poll_deposits(
    uow_factory: Callable[[], UnitOfWork],
    port: VirtualAccountPort,
    order_id: str,
    buyer_name: BuyerName,
    now: datetime,
) -> None:
    """Take every deposit the bank reports for the order (the inquiry is the truth; a
    notification only a prompt): already recorded ones change nothing."""
    with uow_factory() as uow:
        order = uow.orders.get(order_id)
        assert order is not None, order_id
        name = buyer_name(uow, order.customer_id)
    if order.virtual_account_number is None:
        return
    for incoming in port.deposits(order.virtual_account_number):
        with uow_factory() as uow:
            take_deposit(uow, order_id, name, incoming, now)
            uow.commit()


def expire_unpaid(
    uow_factory: Callable[[], UnitOfWork],
    port: VirtualAccountPort,
    buyer_name: BuyerName,
    now: datetime,
    limit: int = 100,
) -> list[str]:
    """Orders past their deadline and still unpaid move to ``expired`` and their units
    back to ``stocked``; an order the bank shows paid in time is paid instead."""
    with uow_factory() as uow:
        due = [o.id for o in uow.orders.awaiting_payment(limit) if o.deadline <= now]
    expired: list[str] = []
    for order_id in due:
        try:
            poll_deposits(uow_factory, port, order_id, buyer_name, now)
        except (Unavailable, Ambiguous):
            continue  # not expired blind: the bank may hold its payment; next pass
        with uow_factory() as uow:
            move = transition(order_id, OrderStatus.AWAITING_PAYMENT, OrderStatus.EXPIRED)
            if uow.orders.apply(move, now):
                units = uow.inventory.of_order(order_id)
                release = [
                    transition(u.id, UnitStatus.RESERVED, UnitStatus.STOCKED)
                    for u in units
                    if u.status == UnitStatus.RESERVED.value
                ]
                uow.inventory.apply(release, None, now)
                expired.append(order_id)
            uow.commit()
    return expired


@dataclass(frozen=True, slots=True)
class ClosePass:
    closed: int
    waiting: int  # the bank could not be asked or did not answer: closed on a later pass


def close_expired_accounts(
    uow_factory: Callable[[], UnitOfWork],
    port: VirtualAccountPort,
    buyer_name: BuyerName,
    now: datetime,
    limit: int = 100,
) -> ClosePass:
    """Close the virtual account of every order done with it (expired, delivered or
    refunded) not yet recorded closed. After the bank closed it (idempotent) no money can
    reach it, so its deposits are asked for once more: one whose notification is lost (a
    deposit after the expiry, a second or short payment to an order paid meanwhile) is
    taken (judged, its return queued) before the close is recorded, never kept unseen."""
    with uow_factory() as uow:
        due = uow.orders.accounts_to_close(limit)
    closed = waiting = 0
    for order in due:
        assert order.virtual_account_number is not None, order.id
        try:
            port.close(order.virtual_account_number)
            poll_deposits(uow_factory, port, order.id, buyer_name, now)
        except (Unavailable, Ambiguous):
            waiting += 1
            continue
        with uow_factory() as uow:
            if uow.orders.mark_account_closed(order.id, now):
                closed += 1
            uow.commit()
    return ClosePass(closed, waiting)
