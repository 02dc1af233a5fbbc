"""Request and answer shapes of the buyer's side (resale): ``/v1/offers``, ``/v1/orders``.
A unit's code is never in any of them (delivery shows it to its buyer elsewhere), nor a
payer's account."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

MAX_QUANTITY = 20


class OfferOut(BaseModel):
    brand_id: str
    brand_name: str
    currency: str
    face_value: int
    price: int = Field(description="what one unit costs, won")
    discount_bps: int = Field(description="the price's discount off face value")
    expires_before: datetime | None = Field(
        default=None, description="no unit of this offer expires later than this"
    )
    in_stock: int


class OfferList(BaseModel):
    data: list[OfferOut]


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    brand_id: str = Field(min_length=1, max_length=64)
    face_value: Annotated[int, Field(strict=True, gt=0, le=10**9)]
    quantity: Annotated[int, Field(strict=True, ge=1, le=MAX_QUANTITY)]


class VirtualAccountOut(BaseModel):
    bank_code: str | None
    account_number: str


class DepositOut(BaseModel):
    id: str
    amount: int
    state: str = Field(description="received, matched, returning or returned")
    return_reason: str | None = Field(
        description="second_deposit, late, wrong_amount or other_name: returned in full;"
        " not_delivered or claim_refunded: returned to you in full as a refund"
    )
    received_at: datetime


class OrderUnitOut(BaseModel):
    id: str = Field(description="the unit's id: what a claim names")
    brand_id: str
    face_value: int
    expires_at: datetime | None
    state: str = Field(
        description="reserved, delivered, withdrawn (found spent before delivery and"
        " replaced), claimed (under review), refunded or upheld"
    )


class ClaimIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_id: str = Field(min_length=1, max_length=64)
    reason: str | None = Field(default=None, max_length=500)


class ClaimEvidenceOut(BaseModel):
    issuer_status: str = Field(description="what the issuer said: used, active, expired, ...")
    used_at: datetime | None = Field(description="when the issuer says it was spent")
    used_where: str | None = Field(description="where the issuer says it was spent")


class ClaimOut(BaseModel):
    id: str
    order_id: str
    unit_id: str
    state: str = Field(
        description="refunded: spent before delivery, your money is on its way back;"
        " refused: spent after delivery (see evidence); review: an operator decides"
    )
    currency: str
    amount: int = Field(description="the unit's price: what a refund gives back, won")
    refund: str | None = Field(
        description="deposit_return (your deposit back whole), payout (to your verified"
        " bank account) or owed (add a verified bank account); null when not refunded"
    )
    evidence: ClaimEvidenceOut
    reason: str | None
    created_at: datetime


class OrderOut(BaseModel):
    id: str
    status: str = Field(description="awaiting_payment, paid, delivered, expired or refunded")
    brand_id: str
    face_value: int
    quantity: int
    currency: str
    amount: int = Field(description="the exact amount to transfer, won")
    virtual_account: VirtualAccountOut | None = Field(
        description="where to transfer; null while the bank has not issued it"
    )
    deadline: datetime
    created_at: datetime
    deposits: list[DepositOut]
    units: list[OrderUnitOut]
    claims: list[ClaimOut] = Field(default_factory=list)


class OrderList(BaseModel):
    data: list[OrderOut]
    next_cursor: str | None


class NotificationOut(BaseModel):
    status: str = Field(description="taken: recorded now; seen: recorded before")
    kept: bool
