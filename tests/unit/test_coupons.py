"""Product coupons are priced by the days left before they expire: nearer expiry, lower
price; under the brand's minimum, not bought, with the issuer's routes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from giftcash.domain import coupons as cp
from giftcash.domain import declines as dc
from giftcash.domain.brands import Disposition, find_brand
from giftcash.domain.jurisdictions import pack
from giftcash.domain.policy import ItemFacts, Outcome, Stage, evaluate

NOW = datetime(2025, 6, 1, 1, 0, tzinfo=UTC)  # 10:00 in Seoul
STARBUCKS = find_brand("starbucks_coupon")  # 4,700 won Americano; bands 60/30/14/7 days


def price(days: int, brand=STARBUCKS):
    return cp.price_coupon(brand, "americano_tall", NOW + timedelta(days=days), NOW)


def test_a_coupon_near_expiry_is_priced_lower() -> None:
    payouts = [price(d).payout for d in (120, 60, 45, 30, 20, 14, 10, 7)]
    assert payouts == sorted(payouts, reverse=True) and payouts[0] > payouts[-1]
    assert price(90).payout == 3_760  # 4,700 x 80.00%, floored
    assert price(20).payout == 3_055  # 4,700 x 65.00%
    assert price(7).payout == 2_350  # 4,700 x 50.00%: the last band
    assert price(7).fee + price(7).payout == 4_700


def test_under_the_minimum_it_is_not_bought_and_the_routes_are_the_issuer_s() -> None:
    p = price(6)
    assert p.decline is dc.COUPON_NEAR_EXPIRY and p.payout == 0 and p.band is None
    assert dc.COUPON_NEAR_EXPIRY.routes == (
        "issuer_refund_after_expiry", "issuer_points_after_expiry", "keep", "issuer_extension"
    )  # fmt: skip
    assert price(-1).decline is dc.COUPON_NEAR_EXPIRY  # already expired


def test_days_left_count_korean_calendar_days() -> None:
    late = datetime(2025, 6, 1, 14, 59, tzinfo=UTC)  # 23:59 in Seoul on 1 June
    assert cp.days_left(datetime(2025, 6, 2, 0, 0, tzinfo=UTC), late) == 1
    assert cp.days_left(datetime(2025, 6, 1, 15, 0, tzinfo=UTC), late) == 1  # 2 June 00:00 KST


def test_the_operator_s_rate_moves_every_band() -> None:
    higher = replace(STARBUCKS, buyback_rate_bps=8_500)
    assert price(20, higher).rate_bps == price(20).rate_bps + 500


def test_a_resold_brand_is_declined_honestly_until_resale_exists() -> None:
    assert STARBUCKS.disposition is Disposition.RESELL
    assert price(90).decline is dc.COUPON_RESALE_UNAVAILABLE
    bought_back = replace(STARBUCKS, disposition=Disposition.REDEEM)
    assert price(90, bought_back).decline is None
    d = evaluate(
        pack("KR"), ItemFacts(STARBUCKS, 4_700, "gift"), now=NOW, stage=Stage.QUOTE, payout=0
    )
    assert d.outcome is Outcome.DECLINE and d.code == "coupon_resale_unavailable"


def test_only_its_products_and_only_product_coupons() -> None:
    with pytest.raises(cp.ProductNotFound):
        cp.price_coupon(STARBUCKS, "frappuccino_venti", NOW + timedelta(days=90), NOW)
    with pytest.raises(cp.NotAProductCoupon):
        cp.price_coupon(find_brand("cultureland"), "x", NOW + timedelta(days=90), NOW)
