"""The item and payout state machines as transition tables (DESIGN.md).

Nobody assigns a status: ``advance`` checks the table and returns the new status, or
raises ``IllegalTransition``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from giftcash.domain.errors import IllegalTransition


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


class PayoutStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    UNKNOWN = "unknown"
    CONFIRMED = "confirmed"
    RETURNED = "returned"
    REJECTED = "rejected"  # the bank refused it outright: nothing moved


_I = ItemStatus
_P = PayoutStatus

ITEM_TRANSITIONS: Mapping[ItemStatus, frozenset[ItemStatus]] = {
    _I.RECEIVED: frozenset({_I.DECLINED, _I.REVIEW, _I.REDEEMING, _I.FAILED}),
    _I.REVIEW: frozenset({_I.RECEIVED, _I.DECLINED, _I.FAILED}),
    _I.REDEEMING: frozenset({_I.REDEEMED, _I.INVALID, _I.FAILED}),
    # redeemed -> paying when a payout takes the item; back from paying when the payout
    # is returned or rejected by the bank, so a new payout can carry it.
    _I.REDEEMED: frozenset({_I.PAYING, _I.FAILED}),
    _I.PAYING: frozenset({_I.PAID, _I.REDEEMED, _I.FAILED}),
    _I.DECLINED: frozenset(),
    _I.INVALID: frozenset(),
    _I.PAID: frozenset(),
    _I.FAILED: frozenset(),
}

PAYOUT_TRANSITIONS: Mapping[PayoutStatus, frozenset[PayoutStatus]] = {
    _P.PENDING: frozenset({_P.SENDING}),
    _P.SENDING: frozenset({_P.SENT, _P.UNKNOWN, _P.REJECTED}),
    # an ambiguous answer is settled by the bank's transfer-result inquiry
    _P.UNKNOWN: frozenset({_P.SENT, _P.REJECTED, _P.UNKNOWN}),
    _P.SENT: frozenset({_P.CONFIRMED, _P.RETURNED}),
    _P.CONFIRMED: frozenset(),
    _P.RETURNED: frozenset(),
    _P.REJECTED: frozenset(),
}

ITEM_TERMINAL = frozenset(s for s, nxt in ITEM_TRANSITIONS.items() if not nxt)
PAYOUT_TERMINAL = frozenset(s for s, nxt in PAYOUT_TRANSITIONS.items() if not nxt)

S = TypeVar("S", ItemStatus, PayoutStatus)


def advance(table: Mapping[S, frozenset[S]], current: S, target: S) -> S:
    if target not in table[current]:
        raise IllegalTransition(
            f"cannot go from {current.value} to {target.value}",
            current=current.value,
            target=target.value,
        )
    return target


def advance_item(current: ItemStatus | str, target: ItemStatus | str) -> ItemStatus:
    return advance(ITEM_TRANSITIONS, ItemStatus(current), ItemStatus(target))


def advance_payout(current: PayoutStatus | str, target: PayoutStatus | str) -> PayoutStatus:
    return advance(PAYOUT_TRANSITIONS, PayoutStatus(current), PayoutStatus(target))
