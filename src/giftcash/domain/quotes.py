"""Quotes: face value, fee, payout, fee rate, and what the fee costs as a yearly rate.

Roundings, each in the customer's favour:
- the fee is ``face * fee_bps / 10000`` rounded *down* to the minor unit (for KRW the
  whole won), so the payout is never less than the rate promises;
- the annualised cost is rounded *up* to the basis point, so it is never understated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from giftcash.domain.brands import Brand
from giftcash.domain.errors import InvalidAmount, UnknownFundingSource
from giftcash.domain.money import bps_of


class FundingSource(StrEnum):
    CASH = "cash"
    DEBIT_CARD = "debit_card"
    BANK_TRANSFER = "bank_transfer"
    GIFT = "gift"
    CREDIT_CARD = "credit_card"
    CARRIER_BILLING = "carrier_billing"
    UNKNOWN = "unknown"


CREDIT_SOURCES = frozenset({FundingSource.CREDIT_CARD, FundingSource.CARRIER_BILLING})

# Days from purchase until the bill that pays for it falls due, when the customer does
# not say: a card or phone bill closes at the month's end and is paid about 25 days later,
# so about 40 days on average (DOMAIN-FACTS §2 uses 40 days in its worked example).
DEFAULT_DAYS_TO_BILL = 40


_SOURCES: dict[str, FundingSource] = {s.value: s for s in FundingSource}


def source_of(value: str) -> FundingSource:
    """``FundingSource(value)`` (a ``ValueError`` when unknown), by a dict lookup first:
    the enum's own lookup costs more than the rest of a quote."""
    return _SOURCES.get(value) or FundingSource(value)


def funding_source(value: str) -> FundingSource:
    try:
        return source_of(value)
    except ValueError:
        allowed = ", ".join(s.value for s in FundingSource)
        raise UnknownFundingSource(
            f"funding_source must be one of {allowed}", value=str(value)[:40]
        ) from None


@dataclass(frozen=True, slots=True)
class Quote:
    brand_id: str
    currency: str
    face_value: int
    fee: int
    payout: int
    fee_bps: int
    funding_source: FundingSource
    annualized_cost_bps: int | None
    days_to_bill: int | None
    expires_at: datetime | None


def fee_for(face_value: int, fee_bps: int) -> int:
    return bps_of(face_value, fee_bps)  # floor: the customer's favour


def annualized_cost_bps(fee: int, face_value: int, days: int) -> int:
    """APR ≈ f/(1−f)·365/days with f = fee/face: the cost of turning credit into cash
    now and repaying the full face value ``days`` later. Rounded up."""
    if days <= 0:
        raise InvalidAmount("days to the bill must be positive")
    cash = face_value - fee
    if cash <= 0:
        raise InvalidAmount("the payout must be positive")
    numerator = fee * 365 * 10_000
    denominator = cash * days
    return -(-numerator // denominator)  # ceiling division


def quote(
    brand: Brand,
    face_value: int,
    source: FundingSource | str,
    *,
    now: datetime | None = None,
    valid_for: timedelta = timedelta(minutes=15),
    days_to_bill: int | None = None,
) -> Quote:
    source = funding_source(source)
    brand.check_face_value(face_value)
    fee = fee_for(face_value, brand.fee_bps)
    apr: int | None = None
    days: int | None = None
    if source in CREDIT_SOURCES:
        days = DEFAULT_DAYS_TO_BILL if days_to_bill is None else days_to_bill
        apr = annualized_cost_bps(fee, face_value, days)
    return Quote(
        brand_id=brand.id,
        currency=brand.currency,
        face_value=face_value,
        fee=fee,
        payout=face_value - fee,
        fee_bps=brand.fee_bps,
        funding_source=source,
        annualized_cost_bps=apr,
        days_to_bill=days,
        expires_at=(now + valid_for) if now is not None else None,
    )
