"""The live catalogue under the operator's disposition overrides (``catalogue/live.py``
``build``, pure): a redeemed brand made resold is priced from its fee (the live rate's),
a resold brand made redeemed has no prices, and a stored price override only applies to
a brand that is resold."""

from __future__ import annotations

import json

from giftcash.catalogue.live import build
from giftcash.domain.brands import CATALOGUE, Disposition
from giftcash.domain.resale import ExpiryBand, ResalePricing, pricing_wire

PRICING = ResalePricing(10, (ExpiryBand(10, 400), ExpiryBand(60, 300)))


def test_no_override_keeps_the_catalogue_s_disposition_and_prices():
    live = build(CATALOGUE, {}, {})
    assert live.brands["cultureland"].disposition is Disposition.REDEEM
    assert live.brands["cultureland"].resale_pricing is None
    assert live.brands["kyobo_gift"].disposition is Disposition.RESELL
    assert live.brands["kyobo_gift"].resale_pricing == ResalePricing(
        7, (ExpiryBand(7, 750), ExpiryBand(30, 500))
    )


def test_a_redeemed_brand_made_resold_is_priced_from_its_live_fee():
    rows = {"cultureland": {"disposition": "resell", "buyback_rate_bps": 8_000}}
    brand = build(CATALOGUE, rows, {}).brands["cultureland"]
    assert brand.disposition is Disposition.RESELL
    # a 20% fee: half of it off from 30 days left, three quarters from 7
    assert brand.resale_pricing == ResalePricing(7, (ExpiryBand(7, 1_500), ExpiryBand(30, 1_000)))


def test_a_brand_bought_at_full_face_value_still_gets_prices():
    rows = {"cultureland": {"disposition": "resell", "buyback_rate_bps": 10_000}}
    pricing = build(CATALOGUE, rows, {}).brands["cultureland"].resale_pricing
    assert pricing is not None and all(b.discount_bps == 0 for b in pricing.bands)


def test_a_resold_brand_made_redeemed_drops_its_prices_even_an_override():
    stored = json.dumps(pricing_wire(PRICING))
    rows = {"kyobo_gift": {"disposition": "redeem", "resale_pricing": stored}}
    brand = build(CATALOGUE, rows, {}).brands["kyobo_gift"]
    assert brand.disposition is Disposition.REDEEM and brand.resale_pricing is None
    rows = {"kyobo_gift": {"disposition": None, "resale_pricing": stored}}
    assert build(CATALOGUE, rows, {}).brands["kyobo_gift"].resale_pricing == PRICING
