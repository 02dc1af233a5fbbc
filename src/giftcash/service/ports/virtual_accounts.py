"""The bank's virtual accounts (가상계좌): how a buyer pays for an order by transfer.

The bank issues a number per order (our reference), takes whatever the payer sends to it
and tells us about each deposit in a signed notification; we judge each deposit (the
amount exact, the payer's name the buyer's verified name, in time, the first) and return
the ones we do not keep, in full and once. Notifications can be lost, repeated or come out
of order, so the deposits inquiry is the truth and a notification only a prompt to ask.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

DepositState = Literal["received", "returned"]
ReturnOutcome = Literal["returned", "rejected", "unknown"]


@dataclass(frozen=True, slots=True)
class VirtualAccount:
    bank_code: str
    account_number: str
    amount: int  # won, the exact amount the order asks for
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class IncomingDeposit:
    deposit_id: str  # the bank's id for the deposit
    amount: int  # won, what the payer sent (any amount)
    payer_name: str
    payer_bank_code: str
    payer_account_masked: str
    received_at: datetime
    state: DepositState


@dataclass(frozen=True, slots=True)
class DepositReturn:
    """``returned``: the money went back (now or by an earlier call with the key);
    ``rejected``: the bank refused and nothing moved (``message`` says why, e.g. already
    returned under another key); ``unknown``: the answer was lost and the inquiry by key
    could not tell: ask again with the same key later, never with a new one."""

    outcome: ReturnOutcome
    key: str
    deposit_id: str
    amount: int
    message: str = ""


@dataclass(frozen=True, slots=True)
class DepositNotice:
    """A deposit notification whose signature and time were verified. ``notification_id``
    is the same on every retry or repeat of one notification."""

    notification_id: str
    reference: str  # our order id
    bank_code: str
    account_number: str
    deposit: IncomingDeposit


@dataclass(frozen=True, slots=True)
class BankReturn:
    """A return the bank made (``returned``) or refused (``rejected``) for a deposit, under
    ``key`` (ours, or another's: the bank keeps whatever key a return was asked with)."""

    key: str
    amount: int
    outcome: Literal["returned", "rejected"]
    at: datetime


@dataclass(frozen=True, slots=True)
class BankDeposit:
    """A deposit as the bank's own records show it, with the account it reached, that
    account's reference (our order id) and every return asked for it."""

    account_number: str
    reference: str
    deposit: IncomingDeposit
    returns: tuple[BankReturn, ...]


class InvalidNotification(Exception):
    """A notification refused: bad or missing signature, a time outside the tolerance
    (a replay) or a body that is not a deposit notification. Carries no secret."""


class VirtualAccountPort(Protocol):
    def issue(
        self, reference: str, amount: int, holder_name: str, expires_at: datetime
    ) -> VirtualAccount:
        """A number for ``reference`` (our order id); the same reference and terms again
        answer the same account, so an ``Ambiguous`` issue is asked again as it was.
        Raises ``Ambiguous`` or ``Unavailable``."""

    def close(self, account_number: str) -> None:
        """No more money can reach the account. Idempotent. Raises ``Ambiguous`` or
        ``Unavailable``."""

    def deposits(self, account_number: str) -> tuple[IncomingDeposit, ...]:
        """Every deposit the account received, oldest first. Raises ``Unavailable``."""

    def return_deposit(self, key: str, deposit_id: str, amount: int, memo: str) -> DepositReturn:
        """Send the whole deposit back to its payer. ``key`` is ours, stored before the
        call: the same key again answers the first outcome and moves nothing. A lost
        answer is resolved by ``return_by_key``. Raises ``Unavailable`` (nothing was
        done; ``BankClosed`` when the payer's bank is in its nightly window or
        maintenance): ask again with the same key later."""

    def return_by_key(self, key: str) -> DepositReturn | None:
        """What became of the return with this key; None: the bank never saw it.
        Raises ``Unavailable``."""

    def verify_notification(self, headers: Mapping[str, str], body: bytes) -> DepositNotice:
        """The notification, if it is the bank's and recent. Raises
        ``InvalidNotification``."""

    def deposits_between(self, since: datetime, until: datetime) -> tuple[BankDeposit, ...]:
        """Every deposit received in [since, until) on any of our virtual accounts, oldest
        first, each with its returns: the bank's side of reconciliation. Raises
        ``Unavailable``."""
