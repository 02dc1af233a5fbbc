"""One deposit to an order's virtual account, recorded once and judged (domain/resale.py):
kept (the order paid, the money on the buyer's liability until delivery) or queued to be
returned whole with its reason and the return's key, made here before any call to the
bank. A repeated or late-arriving report of a deposit already recorded changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from giftcash.domain import ledger
from giftcash.domain.resale import DepositFacts, OrderTerms, ReturnReason, judge_deposit
from giftcash.domain.states import DepositStatus, OrderStatus, transition
from giftcash.service.ports.records import OrderDeposit
from giftcash.service.ports.uow import UnitOfWork
from giftcash.service.ports.virtual_accounts import IncomingDeposit


@dataclass(frozen=True, slots=True)
class DepositOutcome:
    recorded: bool  # False: the bank's deposit id was already recorded; nothing changed
    kept: bool
    return_reason: ReturnReason | None


def return_key(deposit_id: str) -> str:
    return f"ret-{deposit_id}"


def take_deposit(
    uow: UnitOfWork,
    order_id: str,
    buyer_verified_name: str,
    incoming: IncomingDeposit,
    now: datetime,
) -> DepositOutcome:
    """Record and judge one deposit in the caller's unit of work (the caller commits)."""
    order = uow.orders.get(order_id)
    assert order is not None, order_id
    deposit_id = f"dep-{incoming.deposit_id}"
    record = OrderDeposit(
        id=deposit_id,
        order_id=order.id,
        bank_deposit_id=incoming.deposit_id,
        amount=incoming.amount,
        payer_name=incoming.payer_name,
        received_at=incoming.received_at,
        status=DepositStatus.RECEIVED.value,
        return_reason=None,
        return_key=None,
        created_at=now,
    )
    if not uow.orders.add_deposit(record, now):
        return DepositOutcome(recorded=False, kept=False, return_reason=None)
    terms = OrderTerms(
        amount_won=order.amount,
        buyer_verified_name=buyer_verified_name,
        deadline=order.deadline,
        awaiting_payment=order.status == OrderStatus.AWAITING_PAYMENT.value,
        expired=order.status == OrderStatus.EXPIRED.value,
    )
    facts = DepositFacts(incoming.amount, incoming.payer_name, incoming.received_at)
    reason = judge_deposit(facts, terms)
    if reason is None:
        paid = uow.orders.apply(
            transition(order.id, OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID), now
        )
        if paid:
            uow.orders.apply_deposit(
                transition(deposit_id, DepositStatus.RECEIVED, DepositStatus.MATCHED), now
            )
            uow.ledger.post(
                ledger.order_paid(
                    f"order-paid-{order.id}",
                    customer_id=order.customer_id,
                    amount=order.amount,
                    currency=order.currency,
                    ref=order.id,
                )
            )
            return DepositOutcome(recorded=True, kept=True, return_reason=None)
        reason = ReturnReason.SECOND_DEPOSIT  # another deposit paid it first
    uow.orders.apply_deposit(
        transition(deposit_id, DepositStatus.RECEIVED, DepositStatus.RETURNING, reason.value),
        now,
        return_reason=reason.value,
        return_key=return_key(incoming.deposit_id),
    )
    return DepositOutcome(recorded=True, kept=False, return_reason=reason)
