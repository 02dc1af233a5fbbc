"""Records that cross the service↔storage boundary: what the repositories take and give.

Immutable (a change is a new record); the rows behind them stay inside the adapters.
The domain's own records (customers, items, payouts...) are in ``domain/records.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# A read model the operators' screens show as it comes (figures, support, reconciliation,
# cases, the console): typed per key is still to come; the money path never uses it.
RowView = Mapping[str, Any]

# The policy's decision as stored with an item (JSON: outcome, code, routes, findings).
DecisionRecord = dict[str, Any]


@dataclass(frozen=True, slots=True)
class NewItem:
    """One item of a submission as intake stores it (the code already encrypted)."""

    id: str
    submission_id: str
    customer_id: str
    brand_id: str
    issuer: str
    currency: str
    face_value: int
    fee: int
    payout: int
    funding_source: str
    status: str
    code_enc: bytes
    pin_enc: bytes | None
    key_id: str
    code_hmac: str
    masked_code: str
    decline_code: str | None = None
    decline_message: str | None = None
    review_reason: str | None = None
    flags: list[str] | None = None
    hold_until: datetime | None = None
    warning: str | None = None
    decision: DecisionRecord | None = None


@dataclass(frozen=True, slots=True)
class LeasedItem:
    """An item a worker leased (``items.claim``): what the next step needs."""

    id: str
    customer_id: str
    issuer: str
    brand_id: str
    currency: str
    face_value: int
    payout: int
    funding_source: str
    redeem_key: str | None
    code_enc: bytes
    pin_enc: bytes | None
    key_id: str
    attempts: int
    submission_id: str
    reviewed_at: datetime | None
    decision: DecisionRecord | None
    hold_until: datetime | None

    @property
    def device_key(self) -> str | None:
        device = (self.decision or {}).get("device_key")
        return device if isinstance(device, str) else None


@dataclass(frozen=True, slots=True)
class LeasedPayout:
    """A payout a worker leased (``payouts.claim``), with its account (still encrypted)."""

    id: str
    customer_id: str
    currency: str
    amount: int
    status: str
    bank_tran_id: str
    attempts: int
    created_at: datetime
    bank_account_id: str
    bank_code: str
    account_number_enc: bytes
    account_key_id: str
    holder_name: str


@dataclass(frozen=True, slots=True)
class PendingVerification:
    """A bank account whose 1-won deposit has no recorded outcome yet."""

    id: str
    status: str
    verify_bank_tran_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OperatorAccount:
    id: str
    username: str
    password_hash: str
    totp_secret_enc: bytes
    totp_key_id: str
    role: str
    created_at: datetime
    last_totp_step: int | None = None


@dataclass(frozen=True, slots=True)
class Challenge:
    id: str
    code_hash: str
    attempts: int
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True, slots=True)
class Token:
    subject_type: str
    subject_id: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    request_hash: str
    status_code: int | None
    response_body: str | None
    locked_until: datetime


@dataclass(frozen=True, slots=True)
class PayableGroup:
    customer_id: str
    bank_account_id: str
    currency: str
    item_ids: list[str]
    amount: int


@dataclass(frozen=True, slots=True)
class ConsentGiven:
    """A customer's answer to one version of one consent document (identity/consents.py)."""

    customer_id: str
    document: str
    version: str
    agreed: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class RegisteredBy:
    code_hmac: str
    item_id: str
    customer_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    id: str
    at: datetime
    actor: str  # operator:<username> | customer:<id> | system | cli:<os user> | anonymous
    action: str  # e.g. rule.update, item.approve, operator.login_failed
    subject: str | None
    detail: dict[str, Any] | None
    prev_hash: str
    hash: str
    # Sealed records (audit/log.py): the chain hashes ``body_digest``, a salted digest of
    # subject and detail, so the detail can be redacted (salt and detail erased) while
    # the chain still verifies. None: a record from before sealing (hashes its content).
    body_digest: str | None = None
    salt: str | None = None
    redacted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Block:
    """An operator's block on a customer (subject: the customer id) or a device (subject:
    the device key the customer site records)."""

    kind: str  # customer | device
    subject: str
    reason: str
    blocked_by: str
    blocked_at: datetime


@dataclass(frozen=True, slots=True)
class Note:
    """An operator's note on a customer (append-only)."""

    id: str
    author: str
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NoticeDue:
    """A notice of a money event not yet settled (payouts/notices.py): ``id`` is the SMS
    port's idempotency key, ``subject_id`` the payout, item or submission it tells of."""

    id: str
    customer_id: str
    event: str
    subject_id: str
    attempts: int
