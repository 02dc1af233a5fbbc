"""The buyer's side of resale (DESIGN.md "Resale", issue 15 items 2 and 3): what a unit is
offered at, how much one buyer may order, and whether a deposit to an order's virtual
account is kept or returned whole.

Pure functions over integer won. The discounts are the operator's per brand and per expiry
band; the judgment of a deposit is the rule that keeps third-party money out of the
exchange's accounts (a stranger's deposit is how scams get an account frozen).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from itertools import pairwise
from typing import Any

from giftcash.domain.banks import same_holder
from giftcash.domain.errors import DomainError

BPS = 10_000


@dataclass(frozen=True, slots=True)
class ExpiryBand:
    """From ``min_days_left`` days before expiry (inclusive) the unit sells at
    ``discount_bps`` off its face value."""

    min_days_left: int
    discount_bps: int


@dataclass(frozen=True, slots=True)
class ResalePricing:
    """A brand's resale prices, set by the operator. Under ``min_days_left`` a unit is not
    sold at all; above it the band with the largest ``min_days_left`` not over the days
    left applies."""

    min_days_left: int
    bands: tuple[ExpiryBand, ...]

    def __post_init__(self) -> None:
        assert self.min_days_left >= 0
        assert self.bands, "a resold brand has at least one band"
        days = [b.min_days_left for b in self.bands]
        assert days == sorted(days) and len(set(days)) == len(days), "bands ascend by days"
        assert self.bands[0].min_days_left <= self.min_days_left, "every sold unit has a band"
        assert all(0 <= b.discount_bps < BPS for b in self.bands)
        discounts = [b.discount_bps for b in self.bands]
        # closer to expiry, cheaper: a longer-lived unit never has the bigger discount
        assert discounts == sorted(discounts, reverse=True), "discounts fall with days left"


class InvalidResalePricing(DomainError):
    """The operator's (or the catalogue's) resale pricing is refused: bands not listed
    longest first, a discount that does not grow as expiry nears, a discount of 100% or
    more, or a least days left no band covers. Nothing is written."""

    code = "invalid_resale_pricing"


MAX_DAYS = 3_650  # ten years: further than any voucher's validity


def _whole(value: Any, what: str, top: int) -> int:
    if type(value) is not int or not 0 <= value <= top:
        raise InvalidResalePricing(f"{what} is a whole number from 0 to {top}", field=what)
    return value


def parse_pricing(data: Mapping[str, Any]) -> ResalePricing:
    """A brand's resale pricing from its wire form (the catalogue entry, the operator's
    PATCH): ``{"min_days_left": 7, "bands": [{"min_days_left": 30, "discount_bps": 500},
    {"min_days_left": 7, "discount_bps": 750}]}``, the bands longest first like a product
    coupon's ``expiry_bands``, each discount at least the one before it (closer to expiry,
    cheaper) and under 100%. Raises ``InvalidResalePricing``."""
    if not isinstance(data, Mapping) or set(data) - {"min_days_left", "bands"}:
        raise InvalidResalePricing("resale pricing has min_days_left and bands, nothing else")
    least = _whole(data.get("min_days_left"), "min_days_left", MAX_DAYS)
    raw = data.get("bands")
    if not isinstance(raw, Sequence) or isinstance(raw, str) or not 1 <= len(raw) <= 20:
        raise InvalidResalePricing("bands is a list of 1 to 20 bands", field="bands")
    bands: list[ExpiryBand] = []
    for b in raw:
        if not isinstance(b, Mapping) or set(b) != {"min_days_left", "discount_bps"}:
            raise InvalidResalePricing(
                "each band has min_days_left and discount_bps", field="bands"
            )
        days = _whole(b["min_days_left"], "min_days_left", MAX_DAYS)
        bps = _whole(b["discount_bps"], "discount_bps", BPS)
        if bps >= BPS:
            raise InvalidResalePricing("a discount is under 100% (10000)", field="discount_bps")
        bands.append(ExpiryBand(days, bps))
    for longer, shorter in pairwise(bands):
        if shorter.min_days_left >= longer.min_days_left:
            raise InvalidResalePricing(
                "bands are listed longest first, each with fewer days left", field="bands"
            )
        if shorter.discount_bps < longer.discount_bps:
            raise InvalidResalePricing(
                "a band nearer expiry has at least the discount of the one before it",
                field="bands",
            )
    if bands[-1].min_days_left > least:
        raise InvalidResalePricing(
            "the last band must cover min_days_left (its min_days_left at most that)",
            field="min_days_left",
        )
    return ResalePricing(least, tuple(reversed(bands)))


def pricing_wire(pricing: ResalePricing) -> dict[str, Any]:
    """The wire form ``parse_pricing`` reads (bands longest first)."""
    return {
        "min_days_left": pricing.min_days_left,
        "bands": [
            {"min_days_left": b.min_days_left, "discount_bps": b.discount_bps}
            for b in reversed(pricing.bands)
        ],
    }


DEFAULT_MIN_DAYS_LEFT = 7  # a buyer needs time to use what they buy
DEFAULT_LONG_DAYS = 30


def default_pricing(fee_bps: int) -> ResalePricing:
    """A resell brand's pricing until its operator sets one: from 30 days before expiry
    half the brand's buying fee off face value, from 7 days three quarters of it, under 7
    not sold. Every discount stays under the fee, so a unit bought at the brand's rate
    sells above its cost."""
    assert 0 < fee_bps < BPS
    return ResalePricing(
        DEFAULT_MIN_DAYS_LEFT,
        (
            ExpiryBand(DEFAULT_MIN_DAYS_LEFT, fee_bps * 3 // 4),
            ExpiryBand(DEFAULT_LONG_DAYS, fee_bps // 2),
        ),
    )


def discount_bps(pricing: ResalePricing, days_left: int) -> int | None:
    """The discount for a unit with ``days_left`` days before expiry; None: not sold."""
    if days_left < pricing.min_days_left:
        return None
    chosen = [b for b in pricing.bands if b.min_days_left <= days_left]
    return chosen[-1].discount_bps


def offer_price_won(pricing: ResalePricing, face_value_won: int, days_left: int) -> int | None:
    """What a buyer pays for a unit; None: too close to expiry to sell.

    The discount is rounded down (ROUND_FLOOR on the won taken off) so that a buyer never
    gets more off than the operator set; the price is a whole won."""
    assert face_value_won > 0
    bps = discount_bps(pricing, days_left)
    if bps is None:
        return None
    return face_value_won - face_value_won * bps // BPS


def days_left(expires_at: datetime, now: datetime) -> int:
    """Whole days before expiry (a unit expiring in 23 hours has 0 days left)."""
    return (expires_at - now).days


class LimitRefusal(StrEnum):
    DAILY = "buyer_daily_limit"
    MONTHLY = "buyer_monthly_limit"


@dataclass(frozen=True, slots=True)
class BuyerLimits:
    """Rule params: the most one buyer may order per day and per calendar month (won of
    open and paid orders; expired orders do not count)."""

    per_day_won: int
    per_month_won: int


def limit_refusal(
    limits: BuyerLimits, today_won: int, month_won: int, order_won: int
) -> LimitRefusal | None:
    """Why this order is over the buyer's limits, or None if it fits."""
    assert order_won > 0 and today_won >= 0 and month_won >= today_won
    if today_won + order_won > limits.per_day_won:
        return LimitRefusal.DAILY
    if month_won + order_won > limits.per_month_won:
        return LimitRefusal.MONTHLY
    return None


class ReturnReason(StrEnum):
    """Why a deposit is returned whole (the order shows it)."""

    SECOND_DEPOSIT = "second_deposit"
    LATE = "late"
    WRONG_AMOUNT = "wrong_amount"
    OTHER_NAME = "other_name"
    # kept and the order paid, but its units could not be delivered (resale/delivery.py)
    NOT_DELIVERED = "not_delivered"
    # delivered, but the buyer's claim was upheld (resale/claims.py): its price back
    CLAIM_REFUNDED = "claim_refunded"


@dataclass(frozen=True, slots=True)
class DepositFacts:
    amount_won: int
    payer_name: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class OrderTerms:
    amount_won: int
    buyer_verified_name: str
    deadline: datetime
    # a deposit is kept only as the first for the order: False once one was matched
    awaiting_payment: bool
    # the order expired unpaid (its units went back to stock): nothing more is kept
    expired: bool = False


def judge_deposit(deposit: DepositFacts, order: OrderTerms) -> ReturnReason | None:
    """None: keep the deposit and mark the order paid; otherwise return it whole, for the
    first reason that applies. The deposit's own faults come before ``second_deposit`` so
    that a bad deposit gives the same reason whichever notification came first."""
    if order.expired or deposit.received_at >= order.deadline:
        return ReturnReason.LATE
    if deposit.amount_won != order.amount_won:
        return ReturnReason.WRONG_AMOUNT
    if not same_holder(deposit.payer_name, order.buyer_verified_name):
        return ReturnReason.OTHER_NAME
    if not order.awaiting_payment:
        return ReturnReason.SECOND_DEPOSIT
    return None


def judge_all(deposits: Sequence[DepositFacts], order: OrderTerms) -> list[ReturnReason | None]:
    """The judgments of deposits in the order they were recorded: at most one is kept."""
    judged: list[ReturnReason | None] = []
    awaiting = order.awaiting_payment
    for d in deposits:
        terms = OrderTerms(
            order.amount_won, order.buyer_verified_name, order.deadline, awaiting, order.expired
        )
        verdict = judge_deposit(d, terms)
        if verdict is None:
            awaiting = False
        judged.append(verdict)
    return judged
