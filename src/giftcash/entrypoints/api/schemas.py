"""Request and response bodies of the v1 contract (DESIGN.md). Money fields are integers
in minor units with a ``currency`` beside them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from giftcash.domain.jurisdictions import DEFAULT_JURISDICTION
from giftcash.service.deps import MAX_ITEMS_PER_SUBMISSION

FundingSourceName = Literal[
    "cash", "debit_card", "bank_transfer", "gift", "credit_card", "carrier_billing", "unknown"
]
MinorUnits = Annotated[int, Field(strict=True, ge=0, le=10**12)]
PositiveMinor = Annotated[int, Field(strict=True, gt=0, le=10**12)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignupIn(Strict):
    phone: str = Field(min_length=9, max_length=20)
    name: str = Field(min_length=1, max_length=50)
    birth_date: date
    password: str = Field(min_length=1, max_length=200)


class SignupOut(BaseModel):
    customer_id: str
    # sms: a code was texted (POST /v1/signup/verify); identity: the person confirms the
    # request on their phone (POST /v1/signup/identity)
    verification: str = "sms"


class DueDiligenceOut(BaseModel):
    """``in_force`` false: no identity provider is configured and no sale waits for a
    level (the amounts left are then null). ``next_step``: verify_identity |
    check_id_document | answer_edd | null."""

    in_force: bool
    tier: int
    currency: str
    day_used: int
    day_left: int | None
    month_used: int
    month_left: int | None
    next_step: str | None
    edd_one_off_value: int


class IdentitySignupIn(Strict):
    phone: str = Field(min_length=9, max_length=20)


class IdentitySignupOut(BaseModel):
    status: str
    customer_id: str


class VerifyPhoneIn(Strict):
    phone: str = Field(min_length=9, max_length=20)
    code: str = Field(min_length=1, max_length=10)


class Status(BaseModel):
    status: str


class TokenIn(Strict):
    phone: str = Field(min_length=1, max_length=20)
    password: str = Field(min_length=1, max_length=200)


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int


class CodeFormatOut(BaseModel):
    lengths: list[int]
    alphabet: Literal["digits", "alphanumeric"]
    groups: list[int]
    prefixes: list[str]
    pin_length: int | None
    pin_label: str
    description: str


class FaceValuesOut(BaseModel):
    fixed: list[int]
    minimum: int
    maximum: int
    step: int


class BrandOut(BaseModel):
    id: str
    name: str
    name_ko: str
    issuer: str
    currency: str
    buyback_rate_bps: int
    fee_bps: int
    enabled: bool
    code_format: CodeFormatOut
    face_values: FaceValuesOut


class BrandList(BaseModel):
    data: list[BrandOut]


class QuoteIn(Strict):
    brand_id: str = Field(min_length=1, max_length=64)
    face_value: PositiveMinor
    funding_source: FundingSourceName
    days_to_bill: int | None = Field(default=None, ge=1, le=366)
    purchased_at: AwareDatetime | None = None
    jurisdiction: Literal["KR", "US"] | None = None


class RouteOut(BaseModel):
    route: str
    cash: int
    currency: str
    note: str
    deadline: datetime | None = None


class DeclineOut(BaseModel):
    code: str
    message: str
    kind: str = Field(
        default="",
        description="statutory | fraud | format | issuer | limit | operator (the decline "
        "registry's kind of reason).",
    )
    retryable: bool = Field(
        default=False, description="'Not now' rather than 'never': the code may be sent again."
    )
    routes: list[RouteOut] = Field(
        default=[], description="The lawful routes that go with this decline, if any."
    )


class QuoteOut(BaseModel):
    brand_id: str
    face_value: int
    fee: int
    payout: int
    fee_bps: int
    currency: str
    funding_source: str
    annualized_cost_bps: int | None
    days_to_bill: int | None
    expires_at: datetime
    routes: list[RouteOut]
    routes_note: str | None = None
    declined: DeclineOut | None
    jurisdiction: str = DEFAULT_JURISDICTION


class BankAccountIn(Strict):
    bank_code: str = Field(pattern=r"^\d{3}$")
    account_number: str = Field(min_length=6, max_length=30)
    holder_name: str = Field(min_length=1, max_length=50)


class BankAccountVerifyIn(Strict):
    code: str = Field(min_length=1, max_length=10)


class BankAccountOut(BaseModel):
    id: str
    bank_code: str
    bank_name: str
    account_number_masked: str
    holder_name: str
    status: Literal["verifying", "verified", "failed"]
    created_at: datetime
    verified_at: datetime | None


class BankAccountList(BaseModel):
    data: list[BankAccountOut]


class ItemIn(Strict):
    brand_id: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=64)
    pin: str | None = Field(default=None, max_length=32)
    face_value: PositiveMinor
    funding_source: FundingSourceName
    purchased_at: AwareDatetime | None = Field(
        default=None, description="When the voucher was bought (the purchase record)."
    )


class SubmissionIn(Strict):
    bank_account_id: str = Field(min_length=1, max_length=64)
    items: list[ItemIn] = Field(min_length=1, max_length=MAX_ITEMS_PER_SUBMISSION)


class SubmissionAccountIn(Strict):
    bank_account_id: str = Field(min_length=1, max_length=64)


class PaymentStopHoldOut(BaseModel):
    """A bank, the police or our fraud team asked us to stop payment: whom to call."""

    requester: str  # bank | police | internal
    requester_name: str
    requester_contact: str
    since: datetime


class ItemOut(BaseModel):
    id: str
    brand_id: str
    status: str
    masked_code: str
    face_value: int
    fee: int
    payout: int
    currency: str
    funding_source: str
    payout_id: str | None
    decline: DeclineOut | None
    warning: str | None = Field(
        default=None, description="A warning the customer must read (e.g. the scam check)."
    )
    hold_until: datetime | None = Field(
        default=None, description="A first-sale hold: the payout waits until then."
    )
    review_reason: str | None = None
    payment_stop: PaymentStopHoldOut | None = Field(
        default=None,
        description="A payment stop holds this item: nothing is paid until it is lifted.",
    )


class Totals(BaseModel):
    currency: str
    items: int
    face_value: int
    fee: int
    payout: int
    paid: int
    by_status: dict[str, int]


class SubmissionOut(BaseModel):
    id: str
    status: str
    bank_account_id: str
    created_at: datetime
    items: list[ItemOut]
    totals: Totals


class SubmissionSummary(BaseModel):
    id: str
    status: str
    bank_account_id: str
    item_count: int
    created_at: datetime


class SubmissionList(BaseModel):
    data: list[SubmissionSummary]
    next_cursor: str | None


class PayoutOut(BaseModel):
    id: str
    status: str
    amount: int
    currency: str
    bank_account_id: str
    bank_tran_id: str
    created_at: datetime
    sent_at: datetime | None
    confirmed_at: datetime | None
    item_ids: list[str] = []


class PayoutList(BaseModel):
    data: list[PayoutOut]
    next_cursor: str | None


class Health(BaseModel):
    status: str
    checks: dict[str, str] = {}


class WebhookEndpointIn(Strict):
    url: str = Field(min_length=8, max_length=2000)
    event_types: list[Literal["item.updated", "payout.updated", "*"]] = []


class WebhookEndpointOut(BaseModel):
    id: str
    url: str
    event_types: list[str]
    secret: str | None = Field(
        default=None, description="Shown once, when the endpoint is created (whsec_…)."
    )


class WebhookEndpointList(BaseModel):
    data: list[WebhookEndpointOut]
