"""Ports: what the service layer needs from the world, as Protocols and plain results.

Adapters implement them and own every vendor quirk; no vendor type or exception crosses
into the service layer. Foreign calls answer with one of three kinds of outcome: done,
refused (definitely nothing happened), or ``Ambiguous`` (it may have happened: resolve by
inquiry with the same key, never by a blind retry).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from giftcash.service.ports.records import IdDocumentAnswer, IdentityResult


class Ambiguous(Exception):
    """A foreign call whose outcome is unknown (timeout, lost answer, 5xx after send)."""


class Unavailable(Exception):
    """A foreign call that definitely did nothing (refused before work, 503 before send)."""


class BankClosed(Unavailable):
    """The bank refused before doing anything because it is in its nightly window or
    maintenance (점검 시간); ``reopens_at`` is when it said it opens again (None: it did
    not say)."""

    def __init__(self, message: str, reopens_at: datetime | None = None) -> None:
        super().__init__(message)
        self.reopens_at = reopens_at


# -- issuers -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VoucherInfo:
    status: str  # active | used | expired | not_found
    face_value: int | None
    balance: int | None
    currency: str | None
    purchase_channel: str | None
    purchased_at: datetime | None
    expires_at: datetime | None
    # The issuer's own facts, kept as dispute evidence: when and where (store, channel)
    # a used voucher was spent, and the issuer's reference for this answer.
    used_at: datetime | None = None
    used_where: str | None = None
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class Redemption:
    outcome: str  # captured | already_redeemed | not_found | expired
    redemption_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    purchase_channel: str | None = None
    purchased_at: datetime | None = None
    # captured: when the issuer booked it; already_redeemed: when and where it was spent
    used_at: datetime | None = None
    used_where: str | None = None


class IssuerPort(Protocol):
    def inquire_balance(self, issuer: str, code: str, pin: str | None) -> VoucherInfo | None:
        """None when the issuer offers no inquiry."""

    def redeem(self, issuer: str, key: str, code: str, pin: str | None) -> Redemption:
        """Capture the whole value. Raises ``Ambiguous`` or ``Unavailable``."""

    def redemption_by_key(self, issuer: str, key: str) -> Redemption | None:
        """What happened to the redemption with this key; None: it never happened."""


# -- banks ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountHolder:
    found: bool
    holder_name: str | None
    message: str = ""


@dataclass(frozen=True, slots=True)
class Deposit:
    outcome: str  # done | rejected
    bank_tran_id: str
    amount: int
    message: str = ""


@dataclass(frozen=True, slots=True)
class TransferResult:
    outcome: str  # done | pending | returned | not_found | rejected
    bank_tran_id: str
    amount: int | None = None


class BankPort(Protocol):
    def real_name(self, bank_code: str, account_number: str, birth_date: date) -> AccountHolder:
        """The account's holder name (계좌실명조회)."""

    def deposit(
        self,
        bank_tran_id: str,
        bank_code: str,
        account_number: str,
        holder_name: str,
        amount: int,
        memo: str,
    ) -> Deposit:
        """입금이체 keyed by ``bank_tran_id``. Raises ``Ambiguous`` or ``Unavailable``."""

    def transfer_result(self, bank_tran_id: str, amount: int, on: date) -> TransferResult:
        """이체결과조회 for a past deposit."""


# -- identity verification (본인인증, PASS-style) -------------------------------------------


class IdentityPort(Protocol):
    """A PASS / NICE / KCB-style provider. The person confirms on their own phone; the
    provider then answers who they are (``IdentityResult``)."""

    def start(self, phone: str, key: str) -> str:
        """Ask the person with this phone to confirm; the provider's transaction id. The
        same ``key`` again answers the same transaction (a lost answer is asked again
        with its key). Raises ``Unavailable`` or ``Ambiguous``."""

    def result(self, transaction_id: str) -> IdentityResult:
        """What became of the transaction. Raises ``Unavailable``."""

    def check_id_document(
        self, name: str, id_number: str, issue_date: date, key: str
    ) -> IdDocumentAnswer:
        """신분증 진위확인. Raises ``Unavailable``."""


# -- SMS and clock -------------------------------------------------------------------------


class SmsPort(Protocol):
    def send(self, phone: str, text: str, key: str) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime: ...
