"""The repositories the service layer uses, as Protocols: what it may ask of storage.

Each takes and gives typed records (``ports/records.py``, ``domain/records.py``); rows
stay inside the adapters (``adapters/db``), which implement these, as do the in-memory
fakes of the unit tests (``tests/fakes_uow.py``). A method is here because a use case
calls it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from giftcash.domain.aml import AccountLink, Evidence, InvalidAttempt, Sale
from giftcash.domain.bank_hours import Maintenance
from giftcash.domain.ledger import Transfer
from giftcash.domain.records import BankAccount, Customer, Item, Payout, Submission
from giftcash.domain.states import (
    BankAccountStatus,
    ClaimStatus,
    DepositStatus,
    ItemStatus,
    Moved,
    OrderStatus,
    PayoutStatus,
    UnitStatus,
)
from giftcash.service.ports.records import (
    AuditRecord,
    Block,
    BrandMargin,
    Challenge,
    Claim,
    ClaimTally,
    ConsentGiven,
    DueDiligence,
    HeldSale,
    IdempotencyRecord,
    IdentityCheck,
    InventoryUnit,
    IssuerEvidence,
    LeasedItem,
    LeasedPayout,
    NewItem,
    Note,
    NoticeDue,
    OperatorAccount,
    Order,
    OrderDeposit,
    OrderTally,
    PayableGroup,
    PaymentStop,
    PendingVerification,
    RecordedDeposit,
    RegisteredBy,
    ReviewClaim,
    RowView,
    SealedCode,
    SellerDebt,
    StockLine,
    StopExposure,
    StopLink,
    StoredIdentity,
    Token,
    TraceRow,
)


class AuditLogRepo(Protocol):
    def append(
        self,
        *,
        id: str,
        at: datetime,
        actor: str,
        action: str,
        subject: str | None,
        detail: dict[str, Any] | None,
    ) -> AuditRecord: ...
    def snapshot(self) -> None: ...
    def head(self) -> tuple[int, str]: ...
    def all_in_order(self) -> Iterator[AuditRecord]: ...
    def newest_first(self, before_seq: int | None, limit: int) -> list[AuditRecord]: ...
    def count(self, action: str, subject: str, since: datetime) -> int: ...
    def last_at(self, action: str, subject: str) -> datetime | None: ...
    def redact(self, subject: str, now: datetime, limit: int) -> list[int]:
        """Erase the detail and salt of up to ``limit`` sealed records about ``subject``
        not redacted yet (audit/log.py); the seqs redacted."""

    def redact_items_of(self, customer_id: str, now: datetime, limit: int) -> list[int]:
        """Redact up to ``limit`` sealed records about the customer's items
        (``item:<id>``: review decisions with their reasons); the seqs redacted."""

    def redact_old_devices(self, before: datetime, now: datetime, limit: int) -> list[int]:
        """Redact up to ``limit`` sealed records about a device (``device:<address>``)
        written before ``before`` whose device is not blocked now, the address in the
        subject too; the seqs redacted."""


class OperatorOverridesRepo(Protocol):
    def brands(self) -> dict[str, RowView]: ...
    def issuers(self) -> dict[str, RowView]: ...
    def rules(self) -> list[RowView]: ...
    def version(self) -> tuple[object, int] | None:
        """The database's identity (a weakly referable object: whose cache) and the number
        every ``set_*`` bumps in its transaction; None: not to be cached (not versioned, or an
        override written in this unit of work that may yet roll back)."""

    def set_brand(self, brand_id: str, changes: dict[str, Any], now: datetime, by: str) -> None: ...
    def set_issuer(self, issuer: str, changes: dict[str, Any], now: datetime, by: str) -> None: ...
    def set_rule(self, rule_id: str, changes: dict[str, Any], now: datetime, by: str) -> None: ...


class ReviewQueueRepo(Protocol):
    def note_reason(self, item_ids: Sequence[str], reason: str, flags: Sequence[str]) -> None: ...
    def waiting(self, after_id: str | None, limit: int) -> list[RowView]: ...
    def prior_sales(self, customer_ids: Sequence[str]) -> dict[str, tuple[int, int]]: ...
    def record_decision(
        self,
        item_id: str,
        *,
        by: str,
        at: datetime,
        note: str,
        decline: tuple[str, str] | None = None,
    ) -> None: ...
    def review_evidence(self, item_ids: Sequence[str]) -> dict[str, RowView]: ...
    def recently_reviewed(self, limit: int) -> list[RowView]: ...


class AdminPayoutsRepo(Protocol):
    def page(self, status: str | None, before_id: str | None, limit: int) -> list[RowView]: ...
    def get(self, payout_id: str) -> RowView | None: ...


class OperatorAuthRepo(Protocol):
    def accept_totp_step(self, operator_id: str, step: int) -> bool: ...


class CaseFactsRepo(Protocol):
    def whole_submissions(self, submission_ids: Sequence[str], currency: str) -> list[Sale]: ...
    def shared_codes(self, since: datetime, currency: str, min_customers: int) -> list[Sale]: ...
    def shared_accounts(
        self, since: datetime, currency: str, min_customers: int
    ) -> tuple[list[AccountLink], list[Sale]]: ...
    def near_thresholds(
        self, since: datetime, currency: str, bands: Sequence[tuple[int, int]]
    ) -> list[Sale]: ...
    def big_sellers(
        self, since: datetime, history_from: datetime, currency: str, min_value: int
    ) -> list[Sale]: ...
    def invalid_attempts(self, since: datetime, min_count: int) -> list[InvalidAttempt]: ...
    def contradictions(self, since: datetime, currency: str) -> list[Sale]: ...


class CasesRepo(Protocol):
    def lock_scan(self, now: datetime) -> None: ...
    def active(self, active_key: str) -> RowView | None: ...
    def known_keys(self, kind: str, subject: str, keys: Sequence[str]) -> set[str]: ...
    def open(
        self,
        *,
        id: str,
        kind: str,
        subject: str,
        active_key: str,
        currency: str,
        summary: str,
        now: datetime,
    ) -> None: ...
    def add_evidence(
        self, case_id: str, kind: str, subject: str, evidence: Sequence[Evidence], now: datetime
    ) -> None: ...
    def set_summary(self, case_id: str, summary: str) -> None: ...
    def get(self, case_id: str, *, for_update: bool = False) -> RowView | None: ...
    def set_status(
        self,
        case_id: str,
        *,
        from_status: str,
        to_status: str,
        active_key: str | None,
        notes: list[dict[str, Any]],
        now: datetime,
    ) -> bool: ...
    def page(
        self, *, statuses: Sequence[str] | None, kind: str | None, cursor: str | None, limit: int
    ) -> list[RowView]: ...
    def evidence(self, case_id: str, limit: int) -> list[RowView]: ...
    def evidence_for(
        self, case_ids: Sequence[str], limit_each: int
    ) -> dict[str, list[RowView]]: ...
    def customer_names(self, customer_ids: Iterable[str]) -> dict[str, str]: ...


class CustomerLookupRepo(Protocol):
    def find_customers(
        self, *, phone_suffix: str | None, name: str | None, limit: int
    ) -> list[RowView]: ...
    def customer_items(self, customer_id: str, limit: int) -> list[RowView]: ...
    def customer_items_by_status(self, customer_id: str) -> dict[str, int]: ...
    def customer_payouts(self, customer_id: str, limit: int) -> list[RowView]: ...
    def customer_names(self, customer_ids: Sequence[str]) -> dict[str, str]: ...


class ConsoleSearchRepo(Protocol):
    """The console's lists and searches (payouts, the audit log, customers by what an
    operator has in hand, a customer's cases and devices). Read-only."""

    def payouts(self, status: str | None, before_id: str | None, limit: int) -> list[RowView]: ...
    def audit(
        self,
        *,
        actor: str | None,
        action: str | None,
        target_kind: str | None,
        since: datetime | None,
        until: datetime | None,
        before_seq: int | None,
        limit: int,
    ) -> list[RowView]: ...
    def recent_customers(self, limit: int) -> list[RowView]: ...
    def customers_by_ids(self, ids: Sequence[str], limit: int) -> list[RowView]: ...
    def customers_by_code_hmac(self, keys: Sequence[str]) -> list[str]: ...
    def customers_by_account_hmac(self, keys: Sequence[str]) -> list[str]: ...
    def customers_by_device(self, device_key: str) -> list[str]: ...
    def devices_of(self, customer_id: str, limit: int) -> list[str]: ...
    def cases_of(self, customer_id: str, statuses: Sequence[str]) -> list[RowView]: ...
    def phones(self, customer_ids: Sequence[str]) -> dict[str, str]: ...
    def transfer_attempts(self, payout_id: str) -> int: ...


class BlocksRepo(Protocol):
    def get(self, kind: str, subject: str) -> Block | None: ...
    def any_of(self, pairs: Sequence[tuple[str, str]]) -> Block | None: ...
    def add(self, kind: str, subject: str, reason: str, by: str, now: datetime) -> None: ...
    def remove(self, kind: str, subject: str) -> bool: ...
    def for_subjects(self, kind: str, subjects: Sequence[str]) -> dict[str, Block]: ...
    def revoke_customer_tokens(self, customer_id: str) -> int: ...


class CustomerNotesRepo(Protocol):
    def add(self, id: str, customer_id: str, author: str, body: str, now: datetime) -> None: ...
    def for_customer(self, customer_id: str, limit: int) -> list[Note]: ...


class CustomersRepo(Protocol):
    def get(self, customer_id: str) -> Customer | None: ...
    def by_phone(self, phone: str) -> Customer | None: ...
    def add(
        self, id: str, phone: str, name: str, birth_date: date, password_hash: str, now: datetime
    ) -> None: ...
    def update_unverified(
        self, customer_id: str, name: str, birth_date: date, password_hash: str
    ) -> None: ...
    def mark_verified(self, customer_id: str, now: datetime) -> None: ...
    def set_verified_name(self, customer_id: str, name: str, birth_date: date) -> None:
        """The name and birth date the identity provider verified replace the typed ones."""

    def renew_unverified(
        self,
        customer_id: str,
        new_id: str,
        name: str,
        birth_date: date,
        password_hash: str,
        now: datetime,
    ) -> None: ...


class ChallengesRepo(Protocol):
    def add(
        self, id: str, phone: str, purpose: str, code_hash: str, expires_at: datetime, now: datetime
    ) -> None: ...
    def latest(self, phone: str, purpose: str) -> Challenge | None: ...
    def count_attempt(self, challenge_id: str) -> None: ...
    def use(self, challenge_id: str, now: datetime) -> None: ...


class TokensRepo(Protocol):
    def add(
        self,
        token_hash: str,
        subject_type: str,
        subject_id: str,
        expires_at: datetime,
        now: datetime,
    ) -> None: ...
    def get(self, token_hash: str) -> Token | None: ...
    def delete(self, token_hash: str) -> bool: ...


class BankAccountsRepo(Protocol):
    def add(
        self,
        *,
        id: str,
        customer_id: str,
        bank_code: str,
        account_number_enc: bytes,
        account_key_id: str,
        account_number_hmac: str,
        account_number_masked: str,
        holder_name: str,
        verify_code_hash: str,
        verify_bank_tran_id: str,
        now: datetime,
    ) -> None: ...
    def get(self, account_id: str) -> BankAccount | None: ...
    def for_customer(self, customer_id: str) -> list[BankAccount]: ...
    def verify_code_hash(self, account_id: str) -> str: ...
    def count_attempt(self, account_id: str) -> None: ...
    def transition(self, event: Moved[BankAccountStatus], now: datetime) -> bool:
        """Apply the event while the account is in its source; whether it moved."""

    def unsettled_verifications(
        self, older_than: datetime, limit: int
    ) -> list[PendingVerification]: ...
    def number_hmac(self, account_id: str) -> str: ...


class IdempotencyKeysRepo(Protocol):
    def get(self, scope: str, key: str) -> IdempotencyRecord | None: ...
    def lock(
        self, scope: str, key: str, request_hash: str, until: datetime, now: datetime
    ) -> bool: ...
    def relock(self, scope: str, key: str, until: datetime) -> None: ...
    def complete(self, scope: str, key: str, status_code: int, body: str) -> None: ...
    def forget(self, scope: str, key: str) -> None: ...


class OperatorsRepo(Protocol):
    def add(
        self,
        *,
        id: str,
        username: str,
        password_hash: str,
        totp_secret_enc: bytes,
        totp_key_id: str,
        role: str,
        now: datetime,
    ) -> None: ...
    def by_username(self, username: str) -> OperatorAccount | None: ...
    def get(self, operator_id: str) -> OperatorAccount | None: ...


class SubmissionsRepo(Protocol):
    def add(
        self, id: str, customer_id: str, bank_account_id: str, item_count: int, now: datetime
    ) -> None: ...
    def get(self, submission_id: str) -> Submission | None: ...
    def move_to_account(self, submission_id: str, current: str, target: str) -> bool: ...
    def for_customer(
        self, customer_id: str, cursor: str | None, limit: int
    ) -> list[Submission]: ...


class ItemsRepo(Protocol):
    def add_many(self, items: Sequence[NewItem], now: datetime) -> None: ...
    def get(self, item_id: str) -> Item | None: ...
    def for_submission(self, submission_id: str) -> list[Item]: ...
    def statuses_by_submission(self, submission_ids: list[str]) -> dict[str, set[str]]: ...
    def count_paid(self, customer_id: str) -> int: ...
    def day_totals(
        self,
        *,
        since: datetime,
        customer_id: str | None = None,
        account_id: str | None = None,
        exclude_submission: str | None = None,
    ) -> tuple[int, int]: ...
    def sightings(self, hmacs: list[str]) -> dict[str, list[tuple[str, str | None]]]: ...
    def release_code(self, item_id: str) -> None: ...
    def submission_value(self, submission_id: str) -> int: ...
    def ids_for_payout(self, payout_id: str) -> list[str]: ...
    def transition(
        self,
        events: Sequence[Moved[ItemStatus]],
        now: datetime,
        *,
        payout_id: str | None = None,
        clear_payout: bool = False,
    ) -> set[str]:
        """Apply each event while its item is in the event's source; the ids moved (the
        others lost a race, which the caller answers)."""

    def transition_leased(
        self,
        event: Moved[ItemStatus],
        worker_id: str,
        now: datetime,
        *,
        decline: tuple[str, str] | None = None,
        redeemed: bool = False,
        purchase_channel: str | None = None,
        redemption_id: str | None = None,
        facts: Mapping[str, object] | None = None,
    ) -> bool:
        """Apply the event while the item is in its source and leased to ``worker_id``."""

    def transition_leased_many(
        self,
        changes: Sequence[tuple[Moved[ItemStatus], Mapping[str, object]]],
        worker_id: str,
        now: datetime,
        *,
        redeemed: bool = False,
    ) -> set[str]: ...
    def release(self, item_id: str, worker_id: str, next_attempt_at: datetime) -> None: ...
    def claim(
        self, status: ItemStatus, worker_id: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[LeasedItem]: ...
    def payable_groups(self, now: datetime, limit: int) -> list[PayableGroup]: ...
    def owners(self, item_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """Item id -> (customer id, submission id)."""


class PayoutsRepo(Protocol):
    def add(
        self,
        *,
        id: str,
        customer_id: str,
        bank_account_id: str,
        currency: str,
        amount: int,
        bank_tran_id: str,
        now: datetime,
    ) -> None: ...
    def get(self, payout_id: str) -> Payout | None: ...
    def for_customer(self, customer_id: str, cursor: str | None, limit: int) -> list[Payout]: ...
    def claim(
        self,
        statuses: tuple[PayoutStatus, ...],
        worker_id: str,
        now: datetime,
        lease_until: datetime,
        limit: int,
        skip_banks: frozenset[str] = frozenset(),
    ) -> list[LeasedPayout]:
        """``skip_banks``: payouts to these banks are left alone (closed for the night)."""

    def transition(self, event: Moved[PayoutStatus], now: datetime) -> bool: ...
    def transition_leased(
        self,
        event: Moved[PayoutStatus],
        worker_id: str,
        now: datetime,
        *,
        failure_code: str | None = None,
        next_attempt_at: datetime | None = None,
        bank_window_s: int | None = None,
    ) -> bool: ...
    def release_closed(
        self, payout_id: str, worker_id: str, closed_from: datetime, reopens_at: datetime
    ) -> None:
        """The bank refused as closed: due again at its reopening, the claim not counted
        (nothing happened at the bank)."""

    def release(
        self,
        payout_id: str,
        worker_id: str,
        next_attempt_at: datetime,
        *,
        failure_code: str | None = None,
    ) -> None: ...


class BankHoursRepo(Protocol):
    def maintenance(self, ending_after: datetime) -> list[Maintenance]: ...
    def add_maintenance(self, m: Maintenance, by: str, now: datetime) -> None: ...
    def remove_maintenance(self, maintenance_id: str) -> Maintenance | None: ...


class EvidenceRepo(Protocol):
    def add_many(self, rows: Sequence[IssuerEvidence], now: datetime) -> None: ...
    def for_items(self, item_ids: Sequence[str]) -> dict[str, list[IssuerEvidence]]:
        """Each item's answers, oldest first."""


class InventoryRepo(Protocol):
    """Units of inventory (resale). A unit is added once per item (unique item id)."""

    def add_many(self, units: Sequence[InventoryUnit], now: datetime) -> None: ...
    def for_items(self, item_ids: Sequence[str]) -> dict[str, InventoryUnit]:
        """The units of those items that have one, by item id."""

    def in_status(self, status: str, limit: int = 500) -> list[InventoryUnit]:
        """Units in ``status``, oldest first."""

    def stocked(self, brand_id: str, face_value: int, limit: int) -> list[InventoryUnit]:
        """Stocked units of one brand and face value, soonest expiry first (candidates for
        an order; another order may take any of them first)."""

    def apply(
        self, events: Sequence[Moved[UnitStatus]], order_id: str | None, now: datetime
    ) -> list[str]:
        """Move each unit still in its event's source state, setting its order (None: no
        order, a release). One conditional UPDATE per unit: a unit another order took
        first is not moved and not returned; the caller reads the lost race."""

    def of_order(self, order_id: str) -> list[InventoryUnit]: ...
    def sealed(self, unit_ids: Sequence[str]) -> dict[str, SealedCode]:
        """The encrypted codes of those units (from their items), by unit id."""


class OrdersRepo(Protocol):
    """Buyers' orders and the deposits to their virtual accounts (resale)."""

    def add(self, order: Order, now: datetime) -> None: ...
    def get(self, order_id: str) -> Order | None: ...
    def set_virtual_account(
        self, order_id: str, account_id: str, account_number: str, now: datetime
    ) -> None: ...
    def apply(self, event: Moved[OrderStatus], now: datetime) -> bool:
        """Move the order if it is still in the event's source state."""

    def ordered_won_since(self, customer_id: str, since: datetime) -> int:
        """What the customer ordered since then (every order but the expired ones)."""

    def awaiting_payment(self, limit: int) -> list[Order]:
        """Orders awaiting payment, earliest deadline first."""

    def of_customer(self, customer_id: str, limit: int, after: str | None = None) -> list[Order]:
        """The customer's orders, newest first; ``after``: those after that order of
        theirs in this order (none when it is not theirs)."""

    def accounts_to_close(self, limit: int) -> list[Order]:
        """Orders done with their virtual account (expired, delivered, refunded) whose
        account is not yet recorded closed, oldest deadline first."""

    def mark_account_closed(self, order_id: str, now: datetime) -> bool:
        """Record the order's account closed; False when it already was."""

    def add_deposit(self, deposit: OrderDeposit, now: datetime) -> bool:
        """Record a deposit; False when the bank's deposit id is already recorded."""

    def deposits(self, order_id: str) -> list[OrderDeposit]:
        """The order's deposits, in the order they were recorded."""

    def apply_deposit(
        self,
        event: Moved[DepositStatus],
        now: datetime,
        return_reason: str | None = None,
        return_key: str | None = None,
    ) -> bool: ...
    def returning(self, limit: int) -> list[OrderDeposit]:
        """Deposits whose return is queued, oldest first."""

    def paid(self, limit: int) -> list[Order]:
        """Orders paid and not yet delivered or refunded, oldest first."""

    def mark_revealed(self, order_id: str, now: datetime) -> bool:
        """Record when the buyer first saw the codes; False when that was recorded before."""


class ClaimsRepo(Protocol):
    """Buyers' claims on delivered units (resale/claims.py): one per unit."""

    def add(self, claim: Claim, now: datetime) -> bool:
        """Record the claim; False when the unit already has one (nothing written)."""

    def for_unit(self, unit_id: str) -> Claim | None: ...
    def of_order(self, order_id: str) -> list[Claim]:
        """The order's claims, oldest first."""

    def get(self, claim_id: str) -> Claim | None: ...
    def page(self, status: str | None, cursor: str | None, limit: int) -> list[Claim]:
        """Claims (of one status, if given) by id, after ``cursor``."""

    def resolve(
        self,
        event: Moved[ClaimStatus],
        *,
        refund: str | None,
        payout_id: str | None,
        by: str,
        note: str,
        now: datetime,
    ) -> bool:
        """An operator's settling of a claim in review: applied only while it is still
        ``event.source`` and unresolved; False when another request settled it first."""

    def to_repay(self, limit: int) -> list[Claim]:
        """Refunded claims whose money waits on the buyer's customer liability with no
        payout on its way: owed (no verified account when refunded) or their payout
        returned or rejected by the bank. Oldest first."""

    def set_refund(
        self,
        claim_id: str,
        *,
        was: tuple[str | None, str | None],
        refund: str,
        payout_id: str | None,
        now: datetime,
    ) -> bool:
        """How a refunded claim's money goes back, changed only while its ``(refund,
        payout_id)`` is still ``was``; False when another worker changed it first."""


class ResaleReportsRepo(Protocol):
    """The console's view of resale (read-only aggregates)."""

    def stock(self, now: datetime) -> list[StockLine]:
        """Stocked and reserved units by brand, face value and state."""

    def order_tallies(self) -> list[OrderTally]:
        """Orders and their amounts by state."""

    def not_kept(self, limit: int) -> list[OrderDeposit]:
        """Deposits being returned or returned, newest first."""

    def margins(self) -> list[BrandMargin]:
        """Delivered orders by brand: their amounts and their delivered units' cost."""

    def claim_tallies(self) -> list[ClaimTally]:
        """Claims and their amounts by state."""

    def claims_in_review(self, limit: int) -> list[ReviewClaim]:
        """Claims waiting for an operator, oldest first, with their unit's brand and face."""

    def debts(self, limit: int) -> list[SellerDebt]:
        """Sellers' open receivables (balance > 0), the largest first."""


class WorkersRepo(Protocol):
    def beat(self, worker_id: str, now: datetime) -> None: ...


class FailuresRepo(Protocol):
    def add(
        self,
        kind: str,
        now: datetime,
        *,
        customer_id: str | None = None,
        device_key: str | None = None,
    ) -> None: ...
    def count(
        self,
        *,
        since: datetime,
        customer_id: str | None = None,
        device_key: str | None = None,
        kinds: Sequence[str] | None = None,
    ) -> int: ...


class ReconciliationRepo(Protocol):
    def payouts_by_tran_id(self, tran_ids: Sequence[str]) -> dict[str, RowView]: ...
    def verifications_by_tran_id(self, tran_ids: Sequence[str]) -> dict[str, RowView]: ...
    def stored_lines(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]: ...
    def add_lines(self, rows: Sequence[dict[str, Any]]) -> None: ...
    def imported_out_days(self, tran_ids: Sequence[str]) -> dict[str, date]: ...
    def expected_at_bank(self, since: datetime, until: datetime) -> list[RowView]: ...
    def redemptions_by_key(self, keys: Sequence[str]) -> dict[str, RowView]: ...
    def booked_redemptions(self, since: datetime, until: datetime) -> list[RowView]: ...
    def issuer_balances(self) -> dict[str, int]: ...
    def deposits_by_bank_id(self, deposit_ids: Sequence[str]) -> dict[str, RecordedDeposit]: ...
    def deposits_by_return_key(self, keys: Sequence[str]) -> dict[str, RecordedDeposit]: ...
    def deposits_received(self, since: datetime, until: datetime) -> list[RecordedDeposit]: ...


class FiguresRepo(Protocol):
    def items_between(self, since: datetime, until: datetime) -> list[RowView]: ...
    def latest_heartbeat(self) -> datetime | None: ...
    def issuer_balances(self) -> dict[str, int]: ...
    def items_by_status(self) -> dict[str, int]: ...
    def payouts_by_status(self) -> dict[str, int]: ...
    def payouts_unconfirmed(self) -> int: ...
    def oldest_waiting(self, statuses: Iterable[str]) -> dict[str, datetime]: ...
    def oldest_payout_waiting(self, statuses: Iterable[str]) -> dict[str, datetime]: ...
    def heartbeats(self) -> list[tuple[str, datetime]]: ...
    def payout_latencies_s(self, since: datetime, until: datetime) -> list[float]: ...


class EncryptedColumnsRepo(Protocol):
    def specs(self) -> tuple[tuple[str, str, str, tuple[tuple[str, str], ...]], ...]: ...
    def counts_by_key(self) -> dict[str, dict[str, int]]: ...
    def batch_not_under(
        self, table_name: str, current: str, after_id: str | None, limit: int
    ) -> list[RowView]: ...
    def swap(
        self, table_name: str, row_id: str, old: RowView, new: Mapping[str, object]
    ) -> bool: ...
    def sample_hmacs(self, limit: int) -> dict[str, list[RowView]]: ...


class SupportRepo(Protocol):
    def item(self, item_id: str) -> RowView | None: ...
    def item_events(self, item_id: str) -> list[RowView]: ...
    def transfers_for(self, refs: Sequence[str]) -> list[RowView]: ...
    def payout(self, payout_id: str) -> RowView | None: ...
    def make_payout_due(self, payout_id: str, statuses: Sequence[str], now: datetime) -> bool: ...


class WebhooksRepo(Protocol):
    def add_endpoint(
        self,
        *,
        id: str,
        customer_id: str,
        url: str,
        secret_enc: bytes,
        key_id: str,
        event_types: list[str],
        now: datetime,
    ) -> None: ...
    def endpoints(self, customer_id: str) -> list[RowView]: ...
    def remove_endpoint(self, customer_id: str, endpoint_id: str) -> bool: ...
    def claim(
        self, worker_id: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[RowView]: ...
    def delivered(self, msg_id: str, now: datetime) -> None: ...
    def failed(self, msg_id: str, error: str, next_attempt_at: datetime | None) -> None: ...
    def postpone(self, msg_id: str, next_attempt_at: datetime) -> None: ...
    def any_endpoint(self) -> bool: ...
    def enqueue(self, customer_events: list[tuple[str, str, dict[str, Any]]], now: datetime) -> int:
        """(customer id, event type, data) -> one outbox row per subscribed endpoint."""


class BoundedCallsRepo(Protocol):
    """Calls of a bounded kind and the breakers' trips (abuse/bounds.py)."""

    def lock(self, kinds: Sequence[str]) -> None: ...
    def count(self, kinds: Sequence[str], since: datetime, key: str | None, value: str) -> int: ...
    def nth_oldest(
        self, kinds: Sequence[str], since: datetime, key: str | None, value: str, n: int
    ) -> datetime | None: ...
    def add(self, id: str, kind: str, at: datetime, **keys: str | None) -> None: ...
    def tripped_until(self, provider: str, now: datetime) -> datetime | None: ...
    def trip(self, id: str, provider: str, now: datetime, until: datetime, calls: int) -> None: ...
    def usage(self, kinds: Sequence[str]) -> int: ...


class ConsentsRepo(Protocol):
    """Consents as given, one row per answer (append-only): the latest per document wins."""

    def add(self, id: str, given: ConsentGiven) -> None: ...
    def latest(self, customer_id: str) -> dict[str, ConsentGiven]: ...


class NoticesRepo(Protocol):
    """The notices a customer chose and the outbox of money events to tell them of."""

    def choice(self, customer_id: str) -> frozenset[str] | None: ...
    def choose(self, customer_id: str, events: frozenset[str], now: datetime) -> None: ...
    def enqueue(self, events: Iterable[tuple[str, str, str]], now: datetime) -> None:
        """One outbox row per (customer id, event, subject id) not queued before."""

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[NoticeDue]: ...
    def settle(self, notice_id: str, outcome: str, now: datetime) -> None: ...


class IdentityChecksRepo(Protocol):
    """Identity verifications asked of the provider (identity/verification.py)."""

    def add(self, check: IdentityCheck) -> None: ...
    def get(self, check_id: str) -> IdentityCheck | None: ...
    def latest(self, phone: str, purpose: str) -> IdentityCheck | None: ...
    def latest_for_customer(self, customer_id: str, purpose: str) -> IdentityCheck | None: ...
    def set_transaction(self, check_id: str, transaction_id: str) -> None: ...
    def finish(self, check_id: str, status: str, now: datetime) -> bool:
        """Move a started check to ``status``; whether it was still started."""


class IdentitiesRepo(Protocol):
    """Customers' verified persons: one customer per CI (a keyed hash, unique)."""

    def add(self, identity: StoredIdentity) -> bool:
        """False when the CI (or the customer) has an identity already."""

    def by_ci(self, ci_hmac: str) -> StoredIdentity | None: ...
    def for_customer(self, customer_id: str) -> StoredIdentity | None: ...
    def mark_document_checked(self, customer_id: str, now: datetime) -> None: ...


class DueDiligenceRepo(Protocol):
    """Enhanced due diligence asked of and answered by customers (identity/tiers.py)."""

    def get(self, customer_id: str) -> DueDiligence | None: ...
    def require(self, customer_id: str, by: str, reason: str, now: datetime) -> None: ...
    def answer(self, customer_id: str, answers_enc: bytes, key_id: str, now: datetime) -> None: ...


class CodeRegistryRepo(Protocol):
    def register_many(self, entries: Iterable[tuple[str, str, str]]) -> dict[str, RegisteredBy]: ...


class LedgerRepo(Protocol):
    def post(self, transfer: Transfer) -> bool: ...
    def post_many(self, transfers: Sequence[Transfer]) -> list[bool]: ...
    def balance(self, account: str, currency: str) -> int: ...


class StopsRepo(Protocol):
    """Payment stops (``stops/``). The worker's claims honour the active stops by
    themselves (the adapter's claim queries); this is what the stops' own use cases ask."""

    def add(self, stop: PaymentStop) -> None: ...
    def get(self, stop_id: str) -> PaymentStop | None: ...
    def page(
        self, state: str | None, cursor: str | None, limit: int, *, requested_by: str | None
    ) -> list[PaymentStop]:
        """Newest first; ``requested_by``: only the stops that actor filed."""

    def active(self, limit: int) -> list[PaymentStop]: ...
    def close(
        self, stop_id: str, from_state: str, to_state: str, by: str, reason: str, now: datetime
    ) -> bool:
        """Move the stop on while it is still ``from_state``; False if someone moved it."""

    def covered(
        self, stop: PaymentStop, now: datetime, *, unlinked_only: bool, limit: int
    ) -> list[StopExposure]:
        """The items the stop names (and their payouts), locked in key order (payouts,
        then items) so no claim moves them until the stop's transaction ends.
        ``unlinked_only``: only items the stop has not recorded yet."""

    def link(self, links: Sequence[StopLink]) -> None: ...
    def links(self, stop_id: str) -> list[StopLink]: ...
    def note_outcome(self, item_ids: Sequence[str], code: str, message: str) -> None:
        """Write the verdict a settlement gave items (their decline code and text)."""

    def make_due(self, item_ids: Sequence[str]) -> None:
        """Clear the next attempt of items no worker holds (a released stop's items)."""

    def payout_stopped(self, payout_id: str) -> bool:
        """Whether any active stop covers the payout (its customer, account or a code)."""

    def trace(self, stop_id: str, limit: int) -> list[TraceRow]: ...
    def held_sales(self, customer_id: str) -> list[HeldSale]:
        """The customer's items an active stop covers, with the stop that holds each."""
