"""The schema, as SQLAlchemy Core tables. Alembic's revisions are generated from it.

Ids are UUIDv7 text (``ids.new_id``), amounts BIGINT minor units, timestamps aware UTC.
Voucher codes, PINs, account numbers and secrets are stored only encrypted (``*_enc``,
with the key id beside them so keys rotate) and looked up by keyed hash (``*_hmac``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

CUSTOMER_LIABILITY = "customer_liability"
GENESIS_HASH = "0" * 64


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out. SQLite keeps no zone, so UTC is stored naive there
    and the zone is put back on reading; a naive datetime is refused on the way in."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime: timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


Json = JSON().with_variant(JSONB(), "postgresql")
# SQLite autoincrements only an INTEGER PRIMARY KEY (the rowid).
BigSerial = BigInteger().with_variant(Integer(), "sqlite")

Id = Text  # UUIDv7 text, 36 characters
Hash = String(64)  # sha256 hex


def _id(name: str = "id") -> Column[Any]:
    return Column(name, Id, primary_key=True)


def _created_at() -> Column[Any]:
    return Column("created_at", UtcDateTime, nullable=False)


# -- ledger -----------------------------------------------------------------------------

ledger_accounts = Table(
    "ledger_accounts",
    metadata,
    Column("path", Text, primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("balance", BigInteger, nullable=False, server_default=text("0")),
    # 'customer_liability' for liabilities:customer:* and liabilities:buyer:* (the ledger's
    # must_stay_credit), else the account type (assets, ...)
    Column("kind", String(32), nullable=False),
    _created_at(),
    # What we owe a customer never goes below zero (credit balances are negative).
    CheckConstraint(f"kind <> '{CUSTOMER_LIABILITY}' OR balance <= 0", name="liability_floor"),
)

ledger_transfers = Table(
    "ledger_transfers",
    metadata,
    _id(),
    # Position in the hash chain: 1, 2, 3 ... assigned under the ledger_head lock.
    Column("seq", BigInteger, nullable=False, unique=True),
    Column("currency", String(3), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("ref", Text, nullable=True),
    Column("reverses", Id, ForeignKey("ledger_transfers.id"), nullable=True, unique=True),
    Column("memo", Text, nullable=False, server_default=text("''")),
    _created_at(),
    Column("prev_hash", Hash, nullable=False),
    Column("hash", Hash, nullable=False),
    Index(None, "ref"),
)

ledger_postings = Table(
    "ledger_postings",
    metadata,
    _id(),
    Column("transfer_id", Id, ForeignKey("ledger_transfers.id"), nullable=False),
    Column("account", Text, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", BigInteger, nullable=False),  # debit > 0, credit < 0
    CheckConstraint("amount <> 0", name="amount_nonzero"),
    ForeignKeyConstraint(
        ["account", "currency"], ["ledger_accounts.path", "ledger_accounts.currency"]
    ),
    Index(None, "account"),
    Index(None, "transfer_id"),
)

# One row: the head of the transfers' hash chain. Writers lock it (FOR UPDATE on
# PostgreSQL) so every transfer links to exactly one predecessor.
ledger_head = Table(
    "ledger_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", Hash, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

# -- customers and operators -------------------------------------------------------------

customers = Table(
    "customers",
    metadata,
    _id(),
    Column("phone", String(32), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("status", String(32), nullable=False),
    Column("phone_verified_at", UtcDateTime, nullable=True),
    _created_at(),
    # The retention schedule (domain/retention.py, privacy/purge.py): ``status`` is
    # active | withdrawn | pseudonymised; the last sign-in (NULL: none since sign-up); the
    # withdrawal (탈퇴); when the person's data was replaced by a pseudonym.
    Column("last_active_at", UtcDateTime, nullable=True),
    Column("withdrawn_at", UtcDateTime, nullable=True),
    Column("pseudonymised_at", UtcDateTime, nullable=True),
    Index(None, "status", "id"),
)

sms_challenges = Table(
    "sms_challenges",
    metadata,
    _id(),
    Column("phone", String(32), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("code_hash", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime, nullable=True),
    _created_at(),
    Index(None, "phone", "purpose", "created_at"),
)

access_tokens = Table(
    "access_tokens",
    metadata,
    Column("token_hash", Hash, primary_key=True),
    Column("subject_type", String(16), nullable=False),
    Column("subject_id", Id, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    _created_at(),
    CheckConstraint("subject_type IN ('customer', 'operator')", name="subject_type"),
    Index(None, "subject_type", "subject_id"),
)

operators = Table(
    "operators",
    metadata,
    _id(),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("totp_secret_enc", LargeBinary, nullable=False),
    Column("totp_key_id", String(32), nullable=False),
    Column("role", String(16), nullable=False),
    _created_at(),
    # The last TOTP time step accepted: a code is never accepted twice (RFC 6238 §5.2).
    Column("last_totp_step", BigInteger, nullable=True),
)

bank_accounts = Table(
    "bank_accounts",
    metadata,
    _id(),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False),
    Column("bank_code", String(8), nullable=False),
    Column("account_number_enc", LargeBinary, nullable=False),
    Column("account_key_id", String(32), nullable=False),
    # Keyed hash of the normalised number: one account linked by many customers is a
    # fraud signal, and the number itself is only stored encrypted.
    Column("account_number_hmac", Hash, nullable=True),
    Column("account_number_masked", String(32), nullable=False),
    Column("holder_name", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("verify_code_hash", Text, nullable=True),
    Column("verify_attempts", Integer, nullable=False, server_default=text("0")),
    Column("verify_bank_tran_id", String(32), nullable=True, unique=True),
    _created_at(),
    Column("verified_at", UtcDateTime, nullable=True),
    # Destroyed by the retention schedule: number, hash, mask and holder emptied, the key id
    # set to ``destroyed`` (privacy/purge.py); the row stays for the payouts naming it.
    Column("destroyed_at", UtcDateTime, nullable=True),
    CheckConstraint("status IN ('verifying', 'verified', 'failed')", name="status"),
    Index(None, "customer_id"),
    Index(None, "account_number_hmac"),
)

# -- submissions and items -----------------------------------------------------------------

submissions = Table(
    "submissions",
    metadata,
    _id(),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False),
    Column("bank_account_id", Id, ForeignKey("bank_accounts.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("item_count", Integer, nullable=False),
    _created_at(),
    Index(None, "customer_id", "created_at"),
    Index(None, "bank_account_id"),  # a payment stop's sales to one account (stops/)
)

items = Table(
    "items",
    metadata,
    _id(),
    Column("submission_id", Id, ForeignKey("submissions.id"), nullable=False),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False),
    Column("brand_id", String(64), nullable=False),
    Column("issuer", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("face_value", BigInteger, nullable=False),
    Column("fee", BigInteger, nullable=False),
    Column("payout", BigInteger, nullable=False),
    Column("funding_source", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("code_enc", LargeBinary, nullable=False),
    Column("pin_enc", LargeBinary, nullable=True),
    Column("key_id", String(32), nullable=False),
    Column("code_hmac", Hash, nullable=False),
    Column("masked_code", String(64), nullable=False),
    Column("decline_code", String(64), nullable=True),
    Column("decline_message", Text, nullable=True),
    # The idempotency key of the redemption call, stored before the call is made.
    Column("redeem_key", String(64), nullable=True, unique=True),
    Column("issuer_redemption_id", Text, nullable=True),
    # What the issuer says the voucher was bought with (wins over the declaration).
    Column("purchase_channel", String(32), nullable=True),
    Column("redeemed_at", UtcDateTime, nullable=True),
    Column("payout_id", Id, ForeignKey("payouts.id"), nullable=True),
    # Why an item waits in ``review`` (set by the rule that sent it there) and the flags
    # an operator sees beside it; then who decided, when, and the operator's reason.
    Column("review_reason", Text, nullable=True),
    Column("flags", Json, nullable=True),
    Column("reviewed_by", Id, nullable=True),
    Column("reviewed_at", UtcDateTime, nullable=True),
    Column("review_note", Text, nullable=True),
    # What the policy engine decided and what the issuer told us before redemption.
    Column("hold_until", UtcDateTime, nullable=True),  # payout waits until then
    Column("warning", Text, nullable=True),  # shown to the customer (scam warning)
    Column("decision", Json, nullable=True),  # rule, outcome, findings of the last decision
    Column("issuer_purchased_at", UtcDateTime, nullable=True),
    Column("issuer_expires_at", UtcDateTime, nullable=True),
    Column("lease_owner", Text, nullable=True),
    Column("lease_expires_at", UtcDateTime, nullable=True),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    _created_at(),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("face_value > 0 AND fee >= 0 AND payout >= 0", name="amounts"),
    Index(None, "status", "next_attempt_at"),
    Index(None, "customer_id"),
    Index(None, "code_hmac"),
    Index(None, "submission_id"),
    Index(None, "payout_id"),
)

# The unique registry of sold codes: a code (by keyed hash) is stored as sold once.
# No foreign key to items, so a code can be registered before its item row is written.
code_registry = Table(
    "code_registry",
    metadata,
    Column("code_hmac", Hash, primary_key=True),
    Column("item_id", Id, nullable=False),
    Column("customer_id", Id, nullable=False),
    _created_at(),
)

# Append-only history beside each item.
item_events = Table(
    "item_events",
    metadata,
    _id(),
    Column("item_id", Id, ForeignKey("items.id"), nullable=False),
    Column("from_status", String(16), nullable=True),
    Column("to_status", String(16), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("detail", Json, nullable=True),
    Index(None, "item_id"),
)

payouts = Table(
    "payouts",
    metadata,
    _id(),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False),
    Column("bank_account_id", Id, ForeignKey("bank_accounts.id"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    # The idempotency key of the deposit call, stored before the call is made.
    Column("bank_tran_id", String(32), nullable=True, unique=True),
    Column("attempts", Integer, nullable=False, server_default=text("0")),  # worker claims
    Column("lease_owner", Text, nullable=True),
    Column("lease_expires_at", UtcDateTime, nullable=True),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    _created_at(),
    Column("updated_at", UtcDateTime, nullable=True),
    Column("sent_at", UtcDateTime, nullable=True),
    # Claims to send (each may call the bank's deposit); ``attempts`` also counts the
    # claims that only ask whether a sent payout arrived, so it is not what the bank saw.
    Column("transfer_attempts", Integer, nullable=False, server_default=text("0")),
    Column("confirmed_at", UtcDateTime, nullable=True),
    Column("failure_code", String(64), nullable=True),
    # The last time the receiving bank refused the deposit as closed (a window we did not
    # know): from then until the reopening it announced (payouts/bank_hours.py).
    Column("bank_closed_from", UtcDateTime, nullable=True),
    Column("bank_closed_until", UtcDateTime, nullable=True),
    # Seconds of created..confirmed inside the bank's windows, written at confirmation:
    # the payout time the exchange promises is measured without them.
    Column("bank_window_s", Integer, nullable=True),
    CheckConstraint("amount > 0", name="amount_positive"),
    Index(None, "status", "next_attempt_at"),
    Index(None, "customer_id"),
)

# -- API idempotency, webhooks, audit, workers ---------------------------------------------

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope", Text, primary_key=True),  # e.g. "customer:<id>"
    Column("key", Text, primary_key=True),
    Column("request_hash", Hash, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("response_body", Text, nullable=True),
    Column("locked_until", UtcDateTime, nullable=True),
    _created_at(),
    Index(None, "created_at"),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    _id(),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=True),
    Column("url", Text, nullable=False),
    Column("secret_enc", LargeBinary, nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("event_types", Json, nullable=False),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    _created_at(),
)

webhook_outbox = Table(
    "webhook_outbox",
    metadata,
    _id(),
    Column("endpoint_id", Id, ForeignKey("webhook_endpoints.id"), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    Column("lease_owner", Text, nullable=True),
    Column("lease_expires_at", UtcDateTime, nullable=True),
    Column("delivered_at", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    _created_at(),
    Index(None, "delivered_at", "next_attempt_at"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigSerial, primary_key=True, autoincrement=True),
    Column("id", Id, nullable=False, unique=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", Text, nullable=True),
    Column("detail", Json, nullable=True),
    Column("prev_hash", Hash, nullable=False),
    Column("hash", Hash, nullable=False),
    # Sealed records (audit/log.py): the chain covers ``body_digest``, a digest of subject
    # and detail salted with ``salt``; redaction erases detail and salt (NULL before 0014).
    Column("body_digest", Hash, nullable=True),
    Column("salt", String(64), nullable=True),
    Column("redacted_at", UtcDateTime, nullable=True),
    # Failed operator logins are counted from here (per username, in a time window).
    Index(None, "action", "subject", "at"),
)

# One row: the head of the audit log's hash chain, locked by every writer (FOR UPDATE on
# PostgreSQL) so each record links to exactly one predecessor, as ``ledger_head`` does.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", Hash, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

# Failed attempts (invalid codes, bad logins, bad SMS codes) by customer and by device or
# IP: the brute-force guard counts these in a window. Successful sales never count.
failed_attempts = Table(
    "failed_attempts",
    metadata,
    _id(),
    Column("kind", String(32), nullable=False),
    Column("customer_id", Id, nullable=True),
    Column("device_key", String(128), nullable=True),
    Column("at", UtcDateTime, nullable=False),
    Index(None, "customer_id", "at"),
    Index(None, "device_key", "at"),
)

worker_heartbeats = Table(
    "worker_heartbeats",
    metadata,
    Column("worker_id", Text, primary_key=True),
    Column("seen_at", UtcDateTime, nullable=False),
)

# -- operator settings over the code defaults (brands, issuers, rules) --------------------
# NULL means "the catalogue's default". Statutory rules are enforced in code; a row here
# cannot switch one off.

brand_overrides = Table(
    "brand_overrides",
    metadata,
    Column("brand_id", String(64), primary_key=True),
    Column("enabled", Boolean, nullable=True),
    Column("buyback_rate_bps", Integer, nullable=True),
    Column("exposure_cap", BigInteger, nullable=True),
    # resell brands: seconds a stocked voucher's seller waits for the payout
    Column("resell_hold_s", Integer, nullable=True),
    # resell brands: the resale pricing (JSON, domain.resale.pricing_wire)
    Column("resale_pricing", Text, nullable=True),
    # redeem | resell (domain.brands.Disposition); NULL: the catalogue's
    Column("disposition", String(8), nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", Text, nullable=True),
)

issuer_overrides = Table(
    "issuer_overrides",
    metadata,
    Column("issuer", String(64), primary_key=True),
    Column("enabled", Boolean, nullable=True),  # the kill switch
    Column("exposure_cap", BigInteger, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", Text, nullable=True),
)

rule_overrides = Table(
    "rule_overrides",
    metadata,
    Column("rule_id", String(64), primary_key=True),
    Column("enabled", Boolean, nullable=True),
    Column("params", Json, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", Text, nullable=True),
)

# One row: a number bumped in the transaction of every write to the three tables above
# (``OperatorOverrides.set_*``), so a process may keep the live catalogue and rule set it
# built and read only this number to know they still hold (``catalogue/live.py``). The
# migration writes the row (id 1, version 0); a database without it reads as 0.
catalogue_version = Table(
    "catalogue_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
)

# -- reconciliation ------------------------------------------------------------------------
# Every imported bank statement line, once: the key is the bank's own (bank_tran_id,
# direction), so importing a statement twice finds its lines here and changes nothing.
# The memo is not kept (a 1-won deposit's memo carries its verification code);
# ``line_hash`` tells a line re-sent with other content from a replay.

bank_statement_lines = Table(
    "bank_statement_lines",
    metadata,
    Column("bank_tran_id", String(40), primary_key=True),
    Column("direction", String(8), primary_key=True),  # out | in | fee
    Column("booked_on", Date, nullable=False),
    Column("at", UtcDateTime, nullable=True),
    Column("currency", String(3), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("fee", BigInteger, nullable=False, server_default=text("0")),
    Column("status", String(16), nullable=True),
    Column("counterparty", Text, nullable=True),  # as the bank shows it (masked)
    Column("result", String(24), nullable=False),
    Column("matched_kind", String(16), nullable=True),  # payout | verification
    Column("matched_ref", Text, nullable=True),
    Column("line_hash", Hash, nullable=False),
    Column("import_id", Id, nullable=False),
    Column("imported_at", UtcDateTime, nullable=False),
    CheckConstraint("amount >= 0 AND fee >= 0", name="amounts"),
    CheckConstraint("direction IN ('out', 'in', 'fee')", name="direction"),
    Index(None, "booked_on"),
)

# -- suspicious-activity cases (domain/aml.py) ---------------------------------------------
# One active case per (kind, subject): ``active_key`` is "kind|subject" while the case is
# open or under review and NULL once it is reported or dismissed, and it is unique (NULLs
# never collide), so a closed case leaves room for the next one.

aml_cases = Table(
    "aml_cases",
    metadata,
    _id(),
    Column("kind", String(32), nullable=False),
    Column("subject", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("active_key", Text, nullable=True, unique=True),
    Column("customer_ids", Json, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total_amount", BigInteger, nullable=False, server_default=text("0")),
    Column("evidence_count", Integer, nullable=False, server_default=text("0")),
    Column("summary", Text, nullable=False, server_default=text("''")),
    Column("period_start", UtcDateTime, nullable=True),
    Column("period_end", UtcDateTime, nullable=True),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("notes", Json, nullable=False),  # [{at, by, from, to, note}], oldest first
    CheckConstraint("status IN ('open', 'under_review', 'reported', 'dismissed')", name="status"),
    CheckConstraint("total_amount >= 0 AND evidence_count >= 0", name="amounts"),
    Index(None, "status", "opened_at"),
    Index(None, "kind", "subject"),
)

# Append-only: the facts behind each case. A fact is kept once per (kind, subject) across
# all its cases, so a rescan finds it again and adds nothing, and a dismissed case's facts
# do not open the next case.
aml_case_evidence = Table(
    "aml_case_evidence",
    metadata,
    _id(),
    Column("case_id", Id, ForeignKey("aml_cases.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("subject", Text, nullable=False),
    Column("key", Text, nullable=False),  # item:<id> | account:<id> | attempt:<id>
    Column("at", UtcDateTime, nullable=False),
    Column("amount", BigInteger, nullable=False, server_default=text("0")),
    Column("item_id", Id, nullable=True),
    Column("customer_id", Id, nullable=True),
    Column("masked", String(64), nullable=True),  # a masked code or account number only
    Column("note", Text, nullable=False, server_default=text("''")),
    Column("added_at", UtcDateTime, nullable=False),
    CheckConstraint("amount >= 0", name="amount"),
    UniqueConstraint("kind", "subject", "key"),
    Index(None, "case_id", "at"),
)

# One row: when the detectors last ran. Each scan locks it (FOR UPDATE on PostgreSQL) while
# it writes, so two workers scanning at once cannot both open the same case.
aml_scan_state = Table(
    "aml_scan_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("scanned_at", UtcDateTime, nullable=True),
    Column("scans", BigInteger, nullable=False, server_default=text("0")),
    CheckConstraint("id = 1", name="single_row"),
)


# -- the operators' actions on customers (identity/blocks.py) -----------------------
# A block on a customer (subject: the customer id) or a device (subject: the device key the
# customer site records, the client address today). Unblocking deletes the row: the audit
# log keeps the history.
blocks = Table(
    "blocks",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("subject", Text, primary_key=True),
    Column("reason", Text, nullable=False),
    Column("blocked_by", Text, nullable=False),
    Column("blocked_at", UtcDateTime, nullable=False),
    CheckConstraint("kind IN ('customer', 'device')", name="kind"),
)

# Append-only notes an operator writes on a customer.
customer_notes = Table(
    "customer_notes",
    metadata,
    _id(),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False),
    Column("author", Text, nullable=False),
    Column("body", Text, nullable=False),
    _created_at(),
    Index(None, "customer_id", "created_at"),
)

# -- bounds on foreign calls that cost money or trust (abuse/bounds.py) -----------------
# One row per bounded call (an SMS, a real-name inquiry, a 1-won deposit, an issuer inquiry
# that found an unknown code, a webhook delivery) or bounded event (a failed login for a
# phone, a failed account verification), recorded with the call's intent before the call.
# Each key is what one bound counts by; a key that does not apply is NULL. Phones and
# account numbers are keyed hashes (vault.hmac), never the number.
bounded_calls = Table(
    "bounded_calls",
    metadata,
    _id(),
    Column("kind", String(32), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("address", String(128), nullable=True),  # the client address
    Column("person", String(128), nullable=True),  # a customer id or a phone's hash
    Column("range_key", String(32), nullable=True),  # a phone's first digits
    Column("account", String(128), nullable=True),  # an account's hash, a webhook endpoint
    Index(None, "kind", "at"),
    Index(None, "kind", "address", "at"),
    Index(None, "kind", "person", "at"),
    Index(None, "kind", "range_key", "at"),
    Index(None, "kind", "account", "at"),
)

# One row per kind, locked (an UPDATE) by every check-and-record of that kind, so two
# requests at once cannot both see room for one more call (PostgreSQL's READ COMMITTED;
# SQLite's writers are serialised already). ``calls`` counts them all, for operators.
bound_heads = Table(
    "bound_heads",
    metadata,
    Column("kind", String(32), primary_key=True),
    Column("calls", BigInteger, nullable=False, server_default=text("0")),
)

# The circuit breaker of each provider (sms, bank, issuer): a trip refuses that provider's
# bounded calls until ``until``; each trip is also one audit record.
breaker_trips = Table(
    "breaker_trips",
    metadata,
    _id(),
    Column("provider", String(16), nullable=False),
    Column("tripped_at", UtcDateTime, nullable=False),
    Column("until", UtcDateTime, nullable=False),
    Column("calls", Integer, nullable=False),
    Index(None, "provider", "until"),
)

# -- consents (identity/consents.py) ----------------------------------------------------------
# One row per answer a customer gave to one version of one document (이용약관, 개인정보
# 수집·이용 동의, optional ones), append-only: a new version asked again adds a row, a
# withdrawn optional consent adds a row with ``agreed`` false.
customer_consents = Table(
    "customer_consents",
    metadata,
    _id(),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False),
    Column("document", String(32), nullable=False),
    Column("version", String(32), nullable=False),
    Column("agreed", Boolean, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index(None, "customer_id", "document", "at"),
)


# -- notices (payouts/notices.py) -------------------------------------------------------------
# The notices a customer chose (paid, declined, held, returned), one row per customer; no
# row: the default (payouts/notices.py). ``events`` is a comma-separated list.
notice_choices = Table(
    "notice_choices",
    metadata,
    Column("customer_id", Id, ForeignKey("customers.id"), primary_key=True),
    Column("events", String(64), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# One row per money event a notice may tell of, written in the transaction of the state
# change; (event, subject_id) is the notice's idempotency key, the row's id the SMS port's
# key. The worker settles it: ``outcome`` 'sent', or 'not_chosen' (the customer's choice).
notice_outbox = Table(
    "notice_outbox",
    metadata,
    _id(),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False),
    Column("event", String(16), nullable=False),
    Column("subject_id", Id, nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("outcome", String(16), nullable=True),
    Column("settled_at", UtcDateTime, nullable=True),
    _created_at(),
    UniqueConstraint("event", "subject_id"),
    Index(None, "outcome", "next_attempt_at"),
)


# -- bank hours (payouts/bank_hours.py) ------------------------------------------------------
# Announced maintenance of one bank, [starts_at, ends_at); the nightly windows are settings.
bank_maintenance = Table(
    "bank_maintenance",
    metadata,
    _id(),
    Column("bank_code", String(3), nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("note", String(200), nullable=False),
    Column("created_by", Text, nullable=False),
    _created_at(),
    CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    Index(None, "ends_at"),
)

# -- dispute evidence (redemption/evidence.py) -------------------------------------------------
# The issuer's answers about an item (balance inquiry, redemption), append-only, each row
# written in the transaction of the state change it caused.
issuer_evidence = Table(
    "issuer_evidence",
    metadata,
    _id(),
    Column("item_id", Id, ForeignKey("items.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # inquiry | redemption
    Column("issuer", String(64), nullable=False),
    Column("asked_at", UtcDateTime, nullable=False),
    Column("answered_at", UtcDateTime, nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("used_at", UtcDateTime, nullable=True),  # the issuer's own "used at"
    Column("used_where", String(64), nullable=True),  # the issuer's place or channel
    Column("issuer_ref", String(64), nullable=True),  # the issuer's reference
    Column("amount", BigInteger, nullable=True),  # captured, or the balance reported
    _created_at(),
    CheckConstraint("kind IN ('inquiry', 'redemption')", name="kind_known"),
    Index(None, "item_id"),
)

# -- payment stops (stops/, domain/stops.py) ----------------------------------------------
# A stop names a customer (``customer_id``), or a code or an account by keyed hash
# (``subject_hmac``, vault.hmac of the normalised code or of "account:<bank>:<number>");
# ``subject_masked`` is what operators and reports show. The worker's claims read the
# active stops (adapters/db/stop_filters.py), so a stop holds what it names from its
# commit on, future sales too.
payment_stops = Table(
    "payment_stops",
    metadata,
    _id(),
    Column("scope", String(16), nullable=False),
    Column("customer_id", Id, nullable=True),
    Column("subject_hmac", Hash, nullable=True),
    Column("subject_masked", String(64), nullable=False),
    Column("bank_code", String(8), nullable=True),
    Column("requester", String(16), nullable=False),
    Column("requester_name", Text, nullable=False),
    Column("requester_contact", Text, nullable=False),
    Column("reference", String(128), nullable=False),
    Column("reason", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("requested_by", Text, nullable=False),  # the actor who filed it
    _created_at(),
    Column("closed_at", UtcDateTime, nullable=True),
    Column("closed_by", Text, nullable=True),
    Column("close_reason", Text, nullable=True),
    CheckConstraint("scope IN ('account', 'customer', 'code')", name="scope"),
    CheckConstraint("requester IN ('bank', 'police', 'internal')", name="requester"),
    CheckConstraint("state IN ('active', 'released', 'settled')", name="state"),
    CheckConstraint(
        "(scope = 'customer' AND customer_id IS NOT NULL)"
        " OR (scope <> 'customer' AND subject_hmac IS NOT NULL)",
        name="subject",
    ),
    Index(None, "state", "scope"),
    Index(None, "subject_hmac"),
    Index(None, "customer_id"),
)

# What a stop found, one row per item it covers: the item's and its payout's state when
# the stop (or the worker's pass after it) first saw them, and what that meant
# (``finding``: held, in_flight, in_doubt, paid_before, closed; domain/stops.py).
payment_stop_links = Table(
    "payment_stop_links",
    metadata,
    _id(),
    Column("stop_id", Id, ForeignKey("payment_stops.id"), nullable=False),
    Column("item_id", Id, ForeignKey("items.id"), nullable=False),
    Column("payout_id", Id, nullable=True),
    Column("finding", String(16), nullable=False),
    Column("item_status", String(16), nullable=False),
    Column("payout_status", String(16), nullable=True),
    Column("at", UtcDateTime, nullable=False),
    UniqueConstraint("stop_id", "item_id"),
    Index(None, "item_id"),
)

# -- identity (identity/verification.py) and due diligence (identity/tiers.py) ----------------
# One verified person per customer and one customer per person: the CI (연계정보) is kept
# only as a keyed hash (vault.hmac), unique; the DI and the verified name, birth date, sex,
# carrier and phone are one encrypted JSON blob (key id beside it, so keys rotate).
customer_identities = Table(
    "customer_identities",
    metadata,
    Column("customer_id", Id, ForeignKey("customers.id"), primary_key=True),
    Column("ci_hmac", Hash, nullable=False, unique=True),
    Column("details_enc", LargeBinary, nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("verified_at", UtcDateTime, nullable=False),
    # 신분증 진위확인 passed (tier 2); the ID number itself is never stored
    Column("document_checked_at", UtcDateTime, nullable=True),
)

# Each identity verification asked of the provider: the intent (our id is the provider's
# idempotency key) before the call, the provider's transaction id once it answered, the
# outcome after. A sign-up's customer does not exist until the person is verified, so
# what the sign-up form gave (the password's hash, the consents) waits here.
identity_checks = Table(
    "identity_checks",
    metadata,
    _id(),
    Column("purpose", String(16), nullable=False),
    Column("phone", String(32), nullable=False),
    Column("customer_id", Id, nullable=False),
    Column("status", String(16), nullable=False),
    Column("transaction_id", String(128), nullable=True, unique=True),
    Column("password_hash", Text, nullable=True),
    Column("consents", Json, nullable=True),
    Column("expires_at", UtcDateTime, nullable=False),
    _created_at(),
    Column("completed_at", UtcDateTime, nullable=True),
    CheckConstraint("purpose IN ('signup', 'link')", name="purpose"),
    CheckConstraint("status IN ('started', 'completed', 'refused', 'failed')", name="status"),
    Index(None, "phone", "purpose", "created_at"),
    Index(None, "customer_id"),
)

# Enhanced due diligence (특정금융정보법 고객확인): required above the one-off threshold or
# by an operator for one customer; the answers (occupation, source of funds, purpose) are
# one encrypted JSON blob.
customer_due_diligence = Table(
    "customer_due_diligence",
    metadata,
    Column("customer_id", Id, ForeignKey("customers.id"), primary_key=True),
    Column("required_by", Text, nullable=True),
    Column("required_reason", Text, nullable=True),
    Column("required_at", UtcDateTime, nullable=True),
    Column("answers_enc", LargeBinary, nullable=True),
    Column("answers_key_id", String(32), nullable=True),
    Column("answered_at", UtcDateTime, nullable=True),
)

# -- the log of console views of personal data (privacy/access_log.py) ------------------------
# One row per customer whose personal data a console page or export showed (a page that
# showed none: one row with no customer): who (operator id and role), what (the page, the
# fields), when. Ids only, never the data itself. Kept at least 2 years (the purge's
# ``access_log_keep_days``, floor 730).
personal_data_access = Table(
    "personal_data_access",
    metadata,
    _id(),
    Column("view_id", Id, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("operator_id", Id, nullable=False),
    Column("role", String(16), nullable=False),
    Column("page", String(32), nullable=False),
    Column("subject", Text, nullable=True),  # the page's own subject: case:<id>, payout:<id>
    Column("customer_id", Id, nullable=True),
    Column("fields", String(200), nullable=False),
    Index(None, "at"),
    Index(None, "customer_id", "at"),
    Index(None, "operator_id", "at"),
)


# Resale (issue 15): a verified voucher of a resell brand the exchange holds to sell. The
# seller's item (``items``) is paid; the unit is what is sold. The code stays encrypted
# on the item (``items.code_enc``), never copied here.
inventory_units = Table(
    "inventory_units",
    metadata,
    _id(),
    Column("item_id", Id, ForeignKey("items.id"), nullable=False, unique=True),
    Column("brand_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("face_value", BigInteger, nullable=False),
    Column("cost", BigInteger, nullable=False),  # what the seller is paid
    Column("expires_at", UtcDateTime, nullable=True),  # as the issuer reported it
    Column("status", String(16), nullable=False),
    _created_at(),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("face_value > 0 AND cost > 0 AND cost <= face_value", name="amounts"),
    CheckConstraint(
        "status IN ('stocked', 'reserved', 'delivered', 'withdrawn', 'claimed', 'refunded',"
        " 'upheld')",
        name="status",
    ),
    Index(None, "brand_id", "status", "expires_at"),
    # the order a reserved (then delivered) unit belongs to; a unit is reserved by one
    # order only because the reservation is a conditional UPDATE from ``stocked``
    Column("order_id", Id, ForeignKey("orders.id"), nullable=True, index=True),
)

orders = Table(
    "orders",
    metadata,
    _id(),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False),
    Column("brand_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("face_value", BigInteger, nullable=False),  # of each unit
    Column("quantity", Integer, nullable=False),
    Column("amount", BigInteger, nullable=False),  # the exact deposit expected
    Column("status", String(24), nullable=False),
    Column("deadline", UtcDateTime, nullable=False),
    # made before the virtual account is asked for, so a retry finds the same account
    Column("virtual_account_key", String(64), nullable=False, unique=True),
    Column("virtual_account_id", Text, nullable=True),
    Column("virtual_account_number", Text, nullable=True),
    _created_at(),
    Column("updated_at", UtcDateTime, nullable=False),
    # an expired order's account, closed at the bank (NULL: the close is still due)
    Column("account_closed_at", UtcDateTime, nullable=True),
    # when its units were delivered: a buyer's claim is taken for the guarantee window
    # from here, and the issuer's time of spending is judged against it
    Column("delivered_at", UtcDateTime, nullable=True),
    # when its buyer first saw the codes (delivered_codes): a voucher spent after
    # delivery but before this was not spent by the buyer
    Column("codes_revealed_at", UtcDateTime, nullable=True),
    CheckConstraint("face_value > 0 AND quantity > 0 AND amount > 0", name="amounts"),
    CheckConstraint(
        "status IN ('awaiting_payment', 'paid', 'delivered', 'expired', 'refunded')",
        name="status",
    ),
    Index(None, "customer_id", "created_at"),
    Index(None, "status", "deadline"),
)

order_deposits = Table(
    "order_deposits",
    metadata,
    _id(),
    Column("order_id", Id, ForeignKey("orders.id"), nullable=False, index=True),
    # the bank's id: a repeated notification or inquiry records nothing new
    Column("bank_deposit_id", Text, nullable=False, unique=True),
    Column("amount", BigInteger, nullable=False),
    # NULL once erased, past the transaction records' keep period (privacy/purge.py)
    Column("payer_name", Text, nullable=True),
    Column("received_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("return_reason", String(32), nullable=True),
    Column("return_key", String(64), nullable=True, unique=True),  # made before the call
    _created_at(),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("amount >= 0", name="amount"),
    CheckConstraint(
        "status IN ('received', 'matched', 'returning', 'returned')",
        name="status",
    ),
)

# A buyer's claim that a delivered unit does not work (resale/claims.py): one per unit,
# recorded with the verdict of the issuer's answer and that answer as evidence.
claims = Table(
    "claims",
    metadata,
    _id(),
    Column("order_id", Id, ForeignKey("orders.id"), nullable=False, index=True),
    Column("unit_id", Id, ForeignKey("inventory_units.id"), nullable=False, unique=True),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False),  # the buyer
    Column("seller_id", Id, ForeignKey("customers.id"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", BigInteger, nullable=False),  # the unit's price: what a refund gives
    Column("status", String(16), nullable=False),
    Column("reason", String(500), nullable=True),  # the buyer's words, if any
    Column("issuer_status", String(16), nullable=False),
    Column("used_at", UtcDateTime, nullable=True),
    Column("used_where", String(200), nullable=True),
    Column("refund", String(16), nullable=True),
    Column("payout_id", Id, ForeignKey("payouts.id"), nullable=True),
    # a claim in review settled by an operator (resale/claim_review.py): who, when, why
    Column("resolved_by", String(64), nullable=True),
    Column("resolved_at", UtcDateTime, nullable=True),
    Column("resolution_note", String(500), nullable=True),
    _created_at(),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("amount > 0", name="amount"),
    CheckConstraint("status IN ('review', 'refunded', 'refused')", name="status"),
    CheckConstraint(
        "refund IS NULL OR refund IN ('deposit_return', 'payout', 'owed')", name="refund"
    ),
)
