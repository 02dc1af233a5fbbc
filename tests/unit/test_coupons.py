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


def test_a_resold_brand_is_priced_and_bought_like_one_bought_back() -> None:
    # resale exists: a coupon its issuer does not buy back is stocked and sold on, and
    # its seller is paid the same price
    assert STARBUCKS.disposition is Disposition.RESELL
    bought_back = replace(STARBUCKS, disposition=Disposition.REDEEM, resale_pricing=None)
    assert price(90).decline is None and price(90) == price(90, bought_back)
    d = evaluate(
        pack("KR"), ItemFacts(STARBUCKS, 4_700, "gift"), now=NOW, stage=Stage.QUOTE, payout=3_760
    )
    assert d.outcome is not Outcome.DECLINE
    assert "coupon_resale_unavailable" not in {f.code for f in d.findings}


def test_only_its_products_and_only_product_coupons() -> None:
    with pytest.raises(cp.ProductNotFound):
        cp.price_coupon(STARBUCKS, "frappuccino_venti", NOW + timedelta(days=90), NOW)
    with pytest.raises(cp.NotAProductCoupon):
        cp.price_coupon(find_brand("cultureland"), "x", NOW + timedelta(days=90), NOW)


KYOCHON_BOUGHT_BACK = replace(
    find_brand("kyochon_coupon"), disposition=Disposition.REDEEM, resale_pricing=None
)


def admitted(days: int | None, brand=KYOCHON_BOUGHT_BACK, stage=Stage.PRE_REDEEM):
    """The policy's decision on a 23,000-won coupon whose issuer reports ``days`` left."""
    expires = None if days is None else NOW + timedelta(days=days)
    facts = ItemFacts(brand, 23_000, "gift", expires_at=expires, issuer_status="active")
    return evaluate(pack("KR"), facts, now=NOW, stage=stage, payout=18_400)


def test_at_admission_the_issuer_s_expiry_under_the_minimum_declines_with_its_routes() -> None:
    d = admitted(6)
    assert d.outcome is Outcome.DECLINE and d.code == "coupon_near_expiry"
    assert "6 days" in d.message
    assert admitted(-2).code == "coupon_near_expiry"  # the issuer still says active


def test_at_admission_a_coupon_from_the_minimum_on_is_not_declined_for_its_expiry() -> None:
    assert admitted(7).code != "coupon_near_expiry"
    assert admitted(90).outcome is not Outcome.DECLINE


def test_without_the_issuer_s_expiry_nothing_is_decided_about_it() -> None:
    assert admitted(None).code != "coupon_near_expiry"  # an issuer without the date
    assert admitted(3, stage=Stage.INTAKE).code != "coupon_near_expiry"  # not asked yet


def test_an_amount_voucher_is_not_judged_by_coupon_expiry() -> None:
    cultureland = find_brand("cultureland")
    facts = ItemFacts(
        cultureland, 10_000, "cash", expires_at=NOW + timedelta(days=2), issuer_status="active"
    )
    d = evaluate(pack("KR"), facts, now=NOW, stage=Stage.PRE_REDEEM, payout=9_000)
    assert d.code != "coupon_near_expiry"


def test_a_resold_coupon_near_expiry_is_declined_for_its_expiry() -> None:
    d = admitted(3, brand=find_brand("kyochon_coupon"))
    assert d.code == "coupon_near_expiry"
    assert admitted(90, brand=find_brand("kyochon_coupon")).outcome is not Outcome.DECLINE
