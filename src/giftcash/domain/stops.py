"""Payment stops (지급정지): a bank, the police or our own staff ask us to pay nothing more
for what a stop names (a bank account, a customer, or one voucher code) until the stop is
released or settled.

Pure rules only: what a stop is, its state machine (``STOP_TRANSITIONS``, in the style of
``states.py``), which items and payouts it covers (``covers``), what the stop finds each
one doing when it is acknowledged (``finding``) and what settling it does to each
(``settle_move``). The service (``stops/``) and the claims of the worker apply them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from giftcash.domain.errors import DomainError
from giftcash.domain.states import ItemStatus as IS
from giftcash.domain.states import PayoutStatus as PS

MAX_REFERENCE = 128
MAX_REASON = 500
MAX_REQUESTER_NAME = 200
MAX_CONTACT = 200


class StopScope(StrEnum):
    ACCOUNT = "account"  # a bank account, by bank code and keyed hash of its number
    CUSTOMER = "customer"
    CODE = "code"  # one voucher, by keyed hash of its normalised code


class Requester(StrEnum):
    BANK = "bank"  # a victim's bank under 통신사기피해환급법
    POLICE = "police"
    INTERNAL = "internal"  # our own fraud staff


class StopState(StrEnum):
    ACTIVE = "active"
    RELEASED = "released"  # lifted: the pipeline pays what it holds, once
    SETTLED = "settled"  # ended without payment: the held money goes to the victim


STOP_TRANSITIONS: Mapping[StopState, frozenset[StopState]] = {
    StopState.ACTIVE: frozenset({StopState.RELEASED, StopState.SETTLED}),
    StopState.RELEASED: frozenset(),
    StopState.SETTLED: frozenset(),
}


class StopNotActive(DomainError):
    """The operator asked to release or settle a stop that is already closed."""

    code = "stop_not_active"
    kind = "conflict"


def advance(current: str, target: str) -> StopState:
    """The next state of a stop: a closed stop answers ``StopNotActive`` (an operator's
    stale page or a replayed request, an answer rather than a bug)."""
    now, nxt = StopState(current), StopState(target)
    if nxt not in STOP_TRANSITIONS[now]:
        raise StopNotActive(f"the stop is {now.value}", current=now.value, target=nxt.value)
    return nxt


@dataclass(frozen=True, slots=True)
class StopKey:
    """What a stop names: a customer id, or the keyed hash of a code or an account."""

    scope: StopScope
    key: str

    def __post_init__(self) -> None:
        assert self.key, "a stop names something"


@dataclass(frozen=True, slots=True)
class Subject:
    """What one item is, as far as a stop can tell: its customer, its code's keyed hash
    and the keyed hash of the account its sale pays to."""

    customer_id: str
    code_hmac: str
    account_hmac: str | None


def covers(stop: StopKey, subject: Subject) -> bool:
    if stop.scope is StopScope.CUSTOMER:
        return subject.customer_id == stop.key
    if stop.scope is StopScope.CODE:
        return subject.code_hmac == stop.key
    return subject.account_hmac == stop.key


class Finding(StrEnum):
    """What a stop found an item (and its payout) doing when it was acknowledged."""

    HELD = "held"  # nothing sent or redeemed: frozen until release or settlement
    IN_FLIGHT = "in_flight"  # a call claimed before the stop: its answer is recorded, held
    IN_DOUBT = "in_doubt"  # a payout the bank may have: not sent again while stopped
    PAID_BEFORE = "paid_before"  # the payout was sent before the stop arrived
    CLOSED = "closed"  # declined, invalid, failed: there is nothing to hold


_CLOSED = frozenset({IS.DECLINED, IS.INVALID, IS.FAILED, IS.WITHHELD})
_PAYOUT_AT_BANK = frozenset({PS.SENT, PS.CONFIRMED})
_PAYOUT_IN_DOUBT = frozenset({PS.SENDING, PS.UNKNOWN})


def finding(item: IS, payout: PS | None, *, item_leased: bool, payout_leased: bool) -> Finding:
    """``*_leased``: a worker holds a live lease on the row, so its foreign call may be
    under way (it was claimed before the stop committed)."""
    if item is IS.PAID or (payout is not None and payout in _PAYOUT_AT_BANK):
        return Finding.PAID_BEFORE
    if item in _CLOSED:
        return Finding.CLOSED
    if payout is not None and payout in _PAYOUT_IN_DOUBT:
        return Finding.IN_FLIGHT if payout_leased else Finding.IN_DOUBT
    if item is IS.REDEEMING and item_leased:
        return Finding.IN_FLIGHT
    return Finding.HELD


class SettleMove(StrEnum):
    """What settling a stop does to one item it holds."""

    DECLINE = "decline"  # never redeemed: declined with ``payment_stop``
    FAIL = "fail"  # redeeming, maybe asked before: failed for staff to check at the issuer
    WITHHOLD = "withhold"  # redeemed or stocked: its payout moves to the stop's liability
    NOTHING = "nothing"  # closed or paid already
    WAIT = "wait"  # a call or a payout is at the issuer or the bank: settle after it


def settle_move(item: IS, payout: PS | None, *, item_leased: bool) -> SettleMove:
    if item is IS.PAID or item in _CLOSED:
        return SettleMove.NOTHING
    if payout is not None and payout not in (PS.PENDING, PS.HELD):
        return SettleMove.WAIT  # sending, unknown or sent: the bank's answer first
    if item in (IS.RECEIVED, IS.REVIEW):
        return SettleMove.DECLINE
    if item is IS.REDEEMING:
        return SettleMove.WAIT if item_leased else SettleMove.FAIL
    return SettleMove.WITHHOLD  # redeemed, or paying in a payout not yet sent
