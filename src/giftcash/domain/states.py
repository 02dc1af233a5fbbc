"""The item, payout, bank-account, inventory-unit, order, deposit and claim state machines
as transition tables (DESIGN.md).

Nobody assigns a status. ``transition`` turns a move the table allows into an event
(``Moved``); a move the table forbids is a bug in the caller and fails its assertion, it
is never an answer to retry. A repository applies events only to rows still in the
event's ``source`` state (and, for a leased row, still leased to the worker) and reports
which moved: a row another worker or an operator moved first is a lost race, an answer
the caller handles, never an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar


class ItemStatus(StrEnum):
    RECEIVED = "received"
    REVIEW = "review"
    DECLINED = "declined"
    REDEEMING = "redeeming"
    REDEEMED = "redeemed"
    INVALID = "invalid"
    PAYING = "paying"
    PAID = "paid"
    FAILED = "failed"
    # a payment stop (domain/stops.py) was settled: what the sale was owed went to the
    # victim through the requesting institution, not to the customer
    WITHHELD = "withheld"
    # resale (issue 15): verified by the issuer's balance inquiry, not redeemed; the
    # voucher is a unit of inventory and the seller is owed its price
    STOCKED = "stocked"


class UnitStatus(StrEnum):
    """A unit of inventory (DESIGN.md "Resale"): a verified voucher the exchange holds to
    sell. Separate from the seller's item: the item is paid, the unit is sold."""

    STOCKED = "stocked"
    RESERVED = "reserved"
    DELIVERED = "delivered"
    WITHDRAWN = "withdrawn"  # the pre-delivery check found it spent or gone
    CLAIMED = "claimed"
    REFUNDED = "refunded"
    UPHELD = "upheld"


class OrderStatus(StrEnum):
    """A buyer's order (DESIGN.md "Resale"): paid by one exact own-name deposit to the
    order's virtual account before its deadline."""

    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    DELIVERED = "delivered"
    EXPIRED = "expired"  # the deadline passed unpaid; its units are stocked again
    REFUNDED = "refunded"  # paid, but nothing to deliver: the buyer's money goes back


class DepositStatus(StrEnum):
    """A deposit to an order's virtual account: kept (matched) or returned whole."""

    RECEIVED = "received"
    MATCHED = "matched"
    RETURNING = "returning"  # judged not ours to keep; the return is queued, key made
    RETURNED = "returned"


class ClaimStatus(StrEnum):
    """A buyer's claim that a delivered unit does not work (domain/claims.py). The issuer
    is asked before the claim is recorded, so a claim starts with its verdict: refunded
    (spent before delivery), refused (spent after, the issuer's evidence shown) or review
    (the issuer's answer settles nothing; an operator decides)."""

    REVIEW = "review"
    REFUNDED = "refunded"
    REFUSED = "refused"


class PayoutStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    UNKNOWN = "unknown"
    CONFIRMED = "confirmed"
    RETURNED = "returned"
    REJECTED = "rejected"  # the bank refused it outright: nothing moved
    HELD = "held"  # frozen by a payment stop before any call to the bank
    CANCELLED = "cancelled"  # a payment stop was settled while it was held: nothing moved


class BankAccountStatus(StrEnum):
    VERIFYING = "verifying"  # the 1-won deposit is on its way; its memo's code not typed
    VERIFIED = "verified"
    FAILED = "failed"  # the bank refused the deposit, or a payout to it came back


_I = ItemStatus
_P = PayoutStatus
_B = BankAccountStatus
_U = UnitStatus

ITEM_TRANSITIONS: Mapping[ItemStatus, frozenset[ItemStatus]] = {
    # received -> stocked: a resell brand's item. Its "verifying" is the admission's
    # balance inquiry, made while the item is leased in ``received`` (a read with no
    # effect at the issuer, so no intent to store before it and nothing to resolve after
    # a crash: the lease lapses and the inquiry is simply asked again).
    _I.RECEIVED: frozenset({_I.DECLINED, _I.REVIEW, _I.REDEEMING, _I.STOCKED, _I.FAILED}),
    _I.REVIEW: frozenset({_I.RECEIVED, _I.DECLINED, _I.FAILED}),
    _I.REDEEMING: frozenset({_I.REDEEMED, _I.INVALID, _I.FAILED}),
    # redeemed -> paying when a payout takes the item; back from paying when the payout
    # is returned or rejected by the bank, so a new payout can carry it.
    # withheld: a settled payment stop (the customer's liability moves to the stop's)
    _I.REDEEMED: frozenset({_I.PAYING, _I.FAILED, _I.WITHHELD}),
    # stocked -> paying like redeemed: the seller's price is owed; back to stocked when
    # the payout is returned or rejected. The unit of inventory does not move with it.
    _I.STOCKED: frozenset({_I.PAYING, _I.FAILED, _I.WITHHELD}),
    _I.PAYING: frozenset({_I.PAID, _I.REDEEMED, _I.STOCKED, _I.FAILED, _I.WITHHELD}),
    _I.DECLINED: frozenset(),
    _I.INVALID: frozenset(),
    _I.PAID: frozenset(),
    _I.FAILED: frozenset(),
    _I.WITHHELD: frozenset(),
}

PAYOUT_TRANSITIONS: Mapping[PayoutStatus, frozenset[PayoutStatus]] = {
    _P.PENDING: frozenset({_P.SENDING, _P.HELD}),
    # a payment stop freezes a payout the bank has not been asked about; its release
    # sends it as it was (same bank_tran_id), its settlement cancels it
    _P.HELD: frozenset({_P.PENDING, _P.CANCELLED}),
    # held from sending or unknown: a payment stop covers it and the bank's inquiry says
    # it never arrived, so it is frozen instead of sent again
    _P.SENDING: frozenset({_P.SENT, _P.UNKNOWN, _P.REJECTED, _P.HELD}),
    # an ambiguous answer is settled by the bank's transfer-result inquiry
    _P.UNKNOWN: frozenset({_P.SENT, _P.REJECTED, _P.UNKNOWN, _P.HELD}),
    _P.SENT: frozenset({_P.CONFIRMED, _P.RETURNED}),
    _P.CONFIRMED: frozenset(),
    _P.RETURNED: frozenset(),
    _P.REJECTED: frozenset(),
    _P.CANCELLED: frozenset(),
}

BANK_ACCOUNT_TRANSITIONS: Mapping[BankAccountStatus, frozenset[BankAccountStatus]] = {
    _B.VERIFYING: frozenset({_B.VERIFIED, _B.FAILED}),
    # a verified account fails when a payout to it is rejected or returned: the customer
    # adds an account again
    _B.VERIFIED: frozenset({_B.FAILED}),
    _B.FAILED: frozenset(),
}

ITEM_TERMINAL = frozenset(s for s, nxt in ITEM_TRANSITIONS.items() if not nxt)
PAYOUT_TERMINAL = frozenset(s for s, nxt in PAYOUT_TRANSITIONS.items() if not nxt)
UNIT_TRANSITIONS: Mapping[UnitStatus, frozenset[UnitStatus]] = {
    # reserved -> stocked: the order expired unpaid and its reservation is released
    _U.STOCKED: frozenset({_U.RESERVED, _U.WITHDRAWN}),
    _U.RESERVED: frozenset({_U.DELIVERED, _U.STOCKED, _U.WITHDRAWN}),
    _U.DELIVERED: frozenset({_U.CLAIMED}),
    _U.CLAIMED: frozenset({_U.REFUNDED, _U.UPHELD}),
    _U.WITHDRAWN: frozenset(),
    _U.REFUNDED: frozenset(),
    _U.UPHELD: frozenset(),
}

_O = OrderStatus
_D = DepositStatus
_C = ClaimStatus

CLAIM_TRANSITIONS: Mapping[ClaimStatus, frozenset[ClaimStatus]] = {
    _C.REVIEW: frozenset({_C.REFUNDED, _C.REFUSED}),
    _C.REFUNDED: frozenset(),
    _C.REFUSED: frozenset(),
}

ORDER_TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    _O.AWAITING_PAYMENT: frozenset({_O.PAID, _O.EXPIRED}),
    _O.PAID: frozenset({_O.DELIVERED, _O.REFUNDED}),
    _O.DELIVERED: frozenset(),
    _O.EXPIRED: frozenset(),
    _O.REFUNDED: frozenset(),
}

DEPOSIT_TRANSITIONS: Mapping[DepositStatus, frozenset[DepositStatus]] = {
    _D.RECEIVED: frozenset({_D.MATCHED, _D.RETURNING}),
    # matched -> returning: the order was paid but nothing could be delivered (every
    # replacement spent or out of stock): the kept deposit goes back whole, once
    _D.MATCHED: frozenset({_D.RETURNING}),
    _D.RETURNING: frozenset({_D.RETURNED}),
    _D.RETURNED: frozenset(),
}

BANK_ACCOUNT_TERMINAL = frozenset(s for s, nxt in BANK_ACCOUNT_TRANSITIONS.items() if not nxt)
ORDER_TERMINAL = frozenset(s for s, nxt in ORDER_TRANSITIONS.items() if not nxt)
DEPOSIT_TERMINAL = frozenset(s for s, nxt in DEPOSIT_TRANSITIONS.items() if not nxt)
UNIT_TERMINAL = frozenset(s for s, nxt in UNIT_TRANSITIONS.items() if not nxt)
CLAIM_TERMINAL = frozenset(s for s, nxt in CLAIM_TRANSITIONS.items() if not nxt)

S = TypeVar(
    "S",
    ItemStatus,
    PayoutStatus,
    BankAccountStatus,
    UnitStatus,
    OrderStatus,
    DepositStatus,
    ClaimStatus,
)

TABLES: Mapping[type[StrEnum], Mapping[StrEnum, frozenset[StrEnum]]] = {
    ItemStatus: ITEM_TRANSITIONS,  # type: ignore[dict-item]
    PayoutStatus: PAYOUT_TRANSITIONS,  # type: ignore[dict-item]
    BankAccountStatus: BANK_ACCOUNT_TRANSITIONS,  # type: ignore[dict-item]
    UnitStatus: UNIT_TRANSITIONS,  # type: ignore[dict-item]
    OrderStatus: ORDER_TRANSITIONS,  # type: ignore[dict-item]
    DepositStatus: DEPOSIT_TRANSITIONS,  # type: ignore[dict-item]
    ClaimStatus: CLAIM_TRANSITIONS,  # type: ignore[dict-item]
}


@dataclass(frozen=True, slots=True)
class Moved(Generic[S]):
    """One row's move from ``source`` to ``target``, as its table allows. ``reason``: why,
    when there is a code for it (an item's decline code)."""

    id: str
    source: S
    target: S
    reason: str | None = None


def allows(current: S, target: S) -> bool:
    return target in TABLES[type(current)][current]


def transition(id: str, current: S, target: S, reason: str | None = None) -> Moved[S]:
    """The event of a move the table allows; any other move is the caller's bug."""
    assert allows(current, target), f"{type(current).__name__}: {current} -> {target}"
    return Moved(id, current, target, reason)


def transitions(
    ids: Iterable[str], current: S, target: S, reason: str | None = None
) -> list[Moved[S]]:
    """The same move for many rows."""
    return [transition(i, current, target, reason) for i in ids]
