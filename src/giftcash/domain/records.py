"""Plain records the service layer reads and writes (immutable; a change is a new record)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    phone: str
    name: str
    birth_date: date
    password_hash: str
    status: str
    phone_verified_at: datetime | None
    created_at: datetime

    @property
    def verified(self) -> bool:
        return self.phone_verified_at is not None


@dataclass(frozen=True, slots=True)
class BankAccount:
    id: str
    customer_id: str
    bank_code: str
    account_number_masked: str
    holder_name: str
    status: str  # verifying | verified | failed
    verify_attempts: int
    verify_bank_tran_id: str | None
    created_at: datetime
    verified_at: datetime | None


@dataclass(frozen=True, slots=True)
class Item:
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
    masked_code: str
    decline_code: str | None
    decline_message: str | None
    payout_id: str | None
    attempts: int
    created_at: datetime
    updated_at: datetime
    warning: str | None = None  # for the customer (the scam warning)
    hold_until: datetime | None = None  # the payout waits until then
    decision: dict[str, Any] | None = None  # the policy's last decision (routes, rule)
    review_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Submission:
    id: str
    customer_id: str
    bank_account_id: str
    status: str
    item_count: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Payout:
    id: str
    customer_id: str
    bank_account_id: str
    currency: str
    amount: int
    status: str
    bank_tran_id: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    confirmed_at: datetime | None
    failure_code: str | None
    # the reopening the receiving bank announced when it last refused as closed
    bank_closed_until: datetime | None = None
