"""Resale, the buyer's side: offer prices fall with days left and never go under the
operator's discount, buyer limits per day and month, and the judgment of a deposit (kept
only if exact, own-name, in time and the first; otherwise returned whole with a reason)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from giftcash.domain.resale import (
    BPS,
    BuyerLimits,
    DepositFacts,
    ExpiryBand,
    LimitRefusal,
    OrderTerms,
    ResalePricing,
    ReturnReason,
    days_left,
    judge_all,
    judge_deposit,
    limit_refusal,
    offer_price_won,
)

PRICING = ResalePricing(
    min_days_left=7,
    bands=(ExpiryBand(0, 1500), ExpiryBand(30, 800), ExpiryBand(180, 300)),
)
NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
DEADLINE = NOW + timedelta(hours=1)
TERMS = OrderTerms(9_500, "홍길동", DEADLINE, awaiting_payment=True)


def test_bands_set_the_price():
    assert offer_price_won(PRICING, 10_000, 365) == 9_700
    assert offer_price_won(PRICING, 10_000, 30) == 9_200
    assert offer_price_won(PRICING, 10_000, 29) == 8_500
    assert offer_price_won(PRICING, 10_000, 7) == 8_500


def test_under_the_minimum_days_left_a_unit_is_not_sold():
    assert offer_price_won(PRICING, 10_000, 6) is None
    assert offer_price_won(PRICING, 10_000, -1) is None


def test_a_longer_lived_band_with_a_bigger_discount_is_refused():
    with pytest.raises(AssertionError):
        ResalePricing(7, (ExpiryBand(0, 100), ExpiryBand(30, 800)))


def test_days_left_are_whole_days():
    assert days_left(NOW + timedelta(hours=23), NOW) == 0
    assert days_left(NOW + timedelta(days=3, hours=1), NOW) == 3


@st.composite
def pricings(draw):
    n = draw(st.integers(1, 5))
    days = sorted(draw(st.sets(st.integers(1, 400), min_size=n - 1, max_size=n - 1)))
    days = [0, *days]
    discounts = sorted(draw(st.lists(st.integers(0, BPS - 1), min_size=n, max_size=n)))
    bands = tuple(ExpiryBand(d, b) for d, b in zip(days, reversed(discounts), strict=True))
    return ResalePricing(draw(st.integers(0, 60)), bands)


@given(pricings(), st.integers(1, 10_000_000), st.integers(-10, 800), st.integers(0, 400))
def test_closer_to_expiry_is_never_dearer(pricing, face, days, more):
    nearer = offer_price_won(pricing, face, days)
    later = offer_price_won(pricing, face, days + more)
    if nearer is not None:
        assert later is not None and later >= nearer


@given(pricings(), st.integers(1, 10_000_000), st.integers(-10, 800))
def test_price_is_a_whole_won_within_the_discount(pricing, face, days):
    price = offer_price_won(pricing, face, days)
    if days < pricing.min_days_left:
        assert price is None
        return
    assert price is not None and 0 < price <= face
    off = face - price
    chosen = [b for b in pricing.bands if b.min_days_left <= days][-1]
    bps = chosen.discount_bps
    # floor: never more off than the operator set, and less than one won short of it
    assert off * BPS <= face * bps < (off + 1) * BPS


LIMITS = BuyerLimits(per_day_won=500_000, per_month_won=2_000_000)


def test_limits_per_day_and_month():
    assert limit_refusal(LIMITS, 0, 0, 500_000) is None
    assert limit_refusal(LIMITS, 1, 1, 500_000) is LimitRefusal.DAILY
    assert limit_refusal(LIMITS, 0, 1_600_000, 400_000) is None
    assert limit_refusal(LIMITS, 0, 1_600_001, 400_000) is LimitRefusal.MONTHLY


@given(st.integers(0, 3_000_000), st.integers(0, 3_000_000), st.integers(1, 3_000_000))
def test_an_accepted_order_stays_within_both_limits(today, extra, order):
    month = today + extra
    if limit_refusal(LIMITS, today, month, order) is None:
        assert today + order <= LIMITS.per_day_won and month + order <= LIMITS.per_month_won


def deposit(amount=9_500, name="홍길동", at=NOW):
    return DepositFacts(amount, name, at)


def test_an_exact_own_name_deposit_in_time_is_kept():
    assert judge_deposit(deposit(), TERMS) is None
    assert judge_deposit(deposit(name=" 홍 길동 "), TERMS) is None


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        (deposit(name="김철수"), ReturnReason.OTHER_NAME),
        (deposit(amount=9_000), ReturnReason.WRONG_AMOUNT),
        (deposit(amount=10_000), ReturnReason.WRONG_AMOUNT),
        (deposit(at=DEADLINE), ReturnReason.LATE),
    ],
)
def test_anything_else_is_returned_with_its_reason(facts, reason):
    assert judge_deposit(facts, TERMS) is reason


def test_a_second_deposit_is_returned_even_if_exact():
    assert judge_all([deposit(), deposit()], TERMS) == [None, ReturnReason.SECOND_DEPOSIT]


names = st.sampled_from(["홍길동", "홍 길동", "HONG gildong", "hong GILDONG", "김철수", ""])
deposits = st.builds(
    DepositFacts,
    st.sampled_from([9_500, 9_499, 9_501, 0, 19_000]),
    names,
    st.sampled_from([NOW, DEADLINE - timedelta(seconds=1), DEADLINE, DEADLINE + timedelta(1)]),
)


@given(st.lists(deposits, max_size=8), st.sampled_from(["홍길동", "Hong Gildong"]))
def test_at_most_one_deposit_is_kept_and_only_a_good_one(script, buyer):
    terms = OrderTerms(9_500, buyer, DEADLINE, awaiting_payment=True)
    verdicts = judge_all(script, terms)
    kept = [d for d, v in zip(script, verdicts, strict=True) if v is None]
    assert len(kept) <= 1
    for d in kept:
        assert d.amount_won == 9_500 and d.received_at < DEADLINE
        assert "".join(d.payer_name.split()).casefold() == "".join(buyer.split()).casefold()
    # after the kept one a good deposit is a second deposit, a bad one keeps its own reason
    if kept:
        first = verdicts.index(None)
        fresh = OrderTerms(9_500, buyer, DEADLINE, awaiting_payment=True)
        for d, v in zip(script[first + 1 :], verdicts[first + 1 :], strict=True):
            own = judge_deposit(d, fresh)
            assert v is (ReturnReason.SECOND_DEPOSIT if own is None else own)
    # a deposit that is returned has exactly one reason, and the same facts judge the same
    for d, v in zip(script, verdicts, strict=True):
        if v is not None and v is not ReturnReason.SECOND_DEPOSIT:
            assert judge_deposit(d, terms) is v
