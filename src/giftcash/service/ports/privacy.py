"""What the retention schedule, the customer's own data and withdrawal, and the log of
console views of personal data ask of storage (privacy/), with their typed records."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Protocol

from giftcash.domain.retention import CustomerFacts


@dataclass(frozen=True, slots=True)
class Erased:
    """What one purge step changed, by kind (all zero: nothing was due)."""

    customers_pseudonymised: int = 0
    bank_accounts_destroyed: int = 0
    consents_deleted: int = 0
    notes_deleted: int = 0
    blocks_deleted: int = 0
    notice_choices_deleted: int = 0
    notices_deleted: int = 0
    webhooks_deleted: int = 0
    sessions_deleted: int = 0
    sms_challenges_deleted: int = 0
    failed_attempts_deleted: int = 0
    bounded_calls_deleted: int = 0
    idempotency_keys_deleted: int = 0
    access_log_deleted: int = 0
    audit_details_redacted: int = 0
    statement_counterparties_erased: int = 0
    # resale's transaction records past their keep period: the payer's name of a deposit
    # (a stranger's, when it was returned as another name's) and the buyer's and the
    # operator's words on a claim
    deposit_payers_erased: int = 0
    claim_words_erased: int = 0
    item_notes_erased: int = 0
    # the identity part's personal data (identity/verification.py, identity/tiers.py)
    identities_deleted: int = 0  # customer_identities: the CI's keyed hash, DI, details
    identity_checks_deleted: int = 0
    due_diligence_deleted: int = 0  # customer_due_diligence: the EDD answers

    def __add__(self, other: Erased) -> Erased:
        return Erased(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(Erased)))

    def counts(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(Erased)}

    @property
    def total(self) -> int:
        return sum(self.counts().values())


@dataclass(frozen=True, slots=True)
class AccessEntry:
    """One row of the log of console views of personal data: ids, never the data."""

    id: str
    view_id: str
    at: datetime
    operator_id: str
    role: str
    page: str
    subject: str | None
    customer_id: str | None
    fields: str


@dataclass(frozen=True, slots=True)
class SentNotice:
    event: str
    subject_id: str
    outcome: str | None
    created_at: datetime
    settled_at: datetime | None


class RetentionRepo(Protocol):
    def candidates(
        self, *, after_id: str | None, limit: int, inactive_before: datetime
    ) -> list[CustomerFacts]:
        """Customers, in id order after ``after_id``, that may have something due: the
        withdrawn, the active ones not seen since ``inactive_before``, and the
        pseudonymised ones whose accounts are not all destroyed; each with the active
        payment stops that cover it (``stops_covering``)."""

    def pseudonymise(
        self, customer_id: str, pseudonym: str, now: datetime, *, seen_by: datetime
    ) -> Erased:
        """Replace the person by ``pseudonym`` on the customer row and destroy what was
        personal data only (accounts never paid to nor traced by a payment stop,
        consents, notes, blocks, notice choices and outbox, webhooks, sessions, SMS
        challenges; the verified identity with its CI hash, the identity verifications
        of the customer or of its phone, the due-diligence answers). Nothing is done (all
        zero) if the customer signed in after ``seen_by``, the last activity the plan
        was made from: a sign-in racing the purge wins; nor if an active payment stop
        covers the customer now (one filed after the plan was made)."""

    def close_transactions(self, customer_id: str, now: datetime) -> Erased:
        """Destroy every account of the customer not destroyed yet and erase operators'
        notes on the customer's items (the review note)."""

    def delete_old_records(
        self,
        *,
        auth_before: datetime,
        access_before: datetime,
        statements_before: date,
        limit: int,
    ) -> Erased:
        """At most ``limit`` rows of each kind: sign-in records and idempotency keys from
        before ``auth_before``, access-log rows from before ``access_before``, and the
        counterparty (a name as the bank prints it) of bank statement lines booked before
        ``statements_before``, and of resale's records from before that day the payer's
        name of a deposit and the free text of a claim (the buyer's reason, the
        operator's note)."""

    def open_work(self, customer_id: str) -> tuple[int, int, int]:
        """(items not terminal, payouts not terminal, won still owed)."""

    def stops_covering(self, customer_id: str) -> int:
        """How many active payment stops cover the customer: by the customer, by one of
        its bank accounts (keyed hash) or by the code of one of its items, as the
        worker's claims decide coverage (adapters/db/stop_filters.py)."""

    def withdraw(self, customer_id: str, now: datetime) -> bool:
        """active -> withdrawn; whether it moved."""

    def seen(self, customer_id: str, now: datetime) -> None:
        """The customer signed in now."""

    def notices_of(self, customer_id: str, limit: int) -> list[SentNotice]: ...


class AccessLogRepo(Protocol):
    def add(self, entries: list[AccessEntry]) -> None: ...
    def page(
        self,
        *,
        customer_id: str | None,
        operator_id: str | None,
        before: tuple[datetime, str] | None,
        limit: int,
    ) -> list[AccessEntry]:
        """Newest first, from before ``before`` (the (at, id) of the last row seen)."""
