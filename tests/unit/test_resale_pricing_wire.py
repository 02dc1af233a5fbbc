"""A brand's resale pricing as the catalogue and the operator's PATCH write it
(``parse_pricing``) and back (``pricing_wire``): every refusal names its field, and what is
accepted survives the round trip and prices a unit cheaper as its expiry nears."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from giftcash.domain.resale import (
    BPS,
    MAX_DAYS,
    ExpiryBand,
    InvalidResalePricing,
    ResalePricing,
    default_pricing,
    offer_price_won,
    parse_pricing,
    pricing_wire,
)

GOOD = {
    "min_days_left": 7,
    "bands": [
        {"min_days_left": 30, "discount_bps": 500},
        {"min_days_left": 7, "discount_bps": 750},
    ],
}


def test_the_wire_form_reads_longest_band_first_and_stores_them_ascending():
    pricing = parse_pricing(GOOD)
    assert pricing == ResalePricing(7, (ExpiryBand(7, 750), ExpiryBand(30, 500)))
    assert pricing_wire(pricing) == GOOD


def _with(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (_with(extra=1), None),
        ([], None),
        (_with(min_days_left=-1), "min_days_left"),
        (_with(min_days_left=True), "min_days_left"),  # a bool is not a number of days
        (_with(min_days_left="7"), "min_days_left"),
        (_with(min_days_left=MAX_DAYS + 1), "min_days_left"),
        (_with(bands=[]), "bands"),
        (_with(bands="30:500"), "bands"),
        (_with(bands=[{"min_days_left": 7}]), "bands"),
        (_with(bands=[{"min_days_left": 7, "discount_bps": BPS}]), "discount_bps"),
        (_with(bands=[{"min_days_left": 7, "discount_bps": 1.5}]), "discount_bps"),
        # not longest first
        (
            _with(
                bands=[
                    {"min_days_left": 7, "discount_bps": 750},
                    {"min_days_left": 30, "discount_bps": 500},
                ]
            ),
            "bands",
        ),
        # nearer expiry but a smaller discount: a buyer would pay more for less time
        (
            _with(
                bands=[
                    {"min_days_left": 30, "discount_bps": 750},
                    {"min_days_left": 7, "discount_bps": 500},
                ]
            ),
            "bands",
        ),
        # sold from 3 days left, but no band says at what price under 7
        (_with(min_days_left=3), "min_days_left"),
    ],
)
def test_refusals_name_their_field(data: Any, field: str | None):
    with pytest.raises(InvalidResalePricing) as info:
        parse_pricing(data)
    assert info.value.code == "invalid_resale_pricing"
    if field is not None:
        assert info.value.context.get("field") == field


def test_the_catalogue_default_round_trips_and_stays_under_the_fee():
    for fee_bps in (1, 800, 1_500, BPS - 1):
        pricing = default_pricing(fee_bps)
        assert parse_pricing(pricing_wire(pricing)) == pricing
        assert all(b.discount_bps < fee_bps for b in pricing.bands)


@st.composite
def wire_pricings(draw: st.DrawFn) -> dict[str, Any]:
    days = sorted(draw(st.sets(st.integers(0, 400), min_size=1, max_size=6)), reverse=True)
    discounts = sorted(
        draw(st.lists(st.integers(0, BPS - 1), min_size=len(days), max_size=len(days)))
    )
    least = draw(st.integers(days[-1], 400))
    bands = [{"min_days_left": d, "discount_bps": b} for d, b in zip(days, discounts, strict=True)]
    return {"min_days_left": least, "bands": bands}


@given(wire_pricings(), st.integers(1, 1_000_000), st.integers(-5, 500), st.integers(0, 500))
def test_accepted_pricing_round_trips_and_never_charges_more_nearer_expiry(
    data: dict[str, Any], face: int, days: int, fewer: int
):
    pricing = parse_pricing(data)
    assert pricing_wire(pricing) == data
    later = offer_price_won(pricing, face, days)
    sooner = offer_price_won(pricing, face, days - fewer)
    if days < pricing.min_days_left:
        assert later is None
    else:
        assert later is not None and 0 < later <= face
    if sooner is not None:
        assert later is not None and sooner <= later
