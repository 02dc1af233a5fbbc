"""Quotes: the fee is rounded in the customer's favour, the annualised cost never
understated, and only money that was credit has an APR."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from giftcash.domain.brands import CATALOGUE, CULTURELAND, MUNHWA, Brand, CodeFormat, FaceValues
from giftcash.domain.errors import FaceValueNotOffered, InvalidAmount, UnknownFundingSource
from giftcash.domain.quotes import (
    CREDIT_SOURCES,
    DEFAULT_DAYS_TO_BILL,
    FundingSource,
    annualized_cost_bps,
    fee_for,
    funding_source,
    quote,
)

PROPERTY = settings(deadline=None)
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
NON_CREDIT = [s for s in FundingSource if s not in CREDIT_SOURCES]


def _brand(buyback_rate_bps: int) -> Brand:
    """Any face value from 1 to 10**16 minor units, at the given rate."""
    return Brand(
        id="test",
        name="Test",
        name_ko="테스트",
        issuer="test",
        currency="KRW",
        buyback_rate_bps=buyback_rate_bps,
        code_format=CodeFormat(lengths=(16,)),
        face_values=FaceValues(minimum=1, maximum=10**16, step=1),
    )


def fee_oracle(face: int, fee_bps: int) -> int:
    return math.floor(Fraction(face * fee_bps, 10_000))


def apr_oracle_exact(fee: int, face: int, days: int) -> Fraction:
    f = Fraction(fee, face)
    return f / (1 - f) * Fraction(365, days) * 10_000  # in basis points


odd_faces = st.integers(min_value=0, max_value=5 * 10**14).map(lambda n: 2 * n + 1)
rates = st.integers(min_value=1, max_value=10_000)


# -- fee and payout -------------------------------------------------------------------


@PROPERTY
@given(face=odd_faces, buyback=rates, source=st.sampled_from(list(FundingSource)))
def test_fee_is_floored_and_payout_plus_fee_is_face(
    face: int, buyback: int, source: FundingSource
) -> None:
    brand = _brand(buyback)
    q = quote(brand, face, source)
    assert q.fee == fee_oracle(face, brand.fee_bps)
    assert q.payout + q.fee == face
    # the customer gets at least what the rate promises, and less than one unit more
    promised = Fraction(face * buyback, 10_000)
    assert promised <= q.payout < promised + 1
    assert q.fee_bps == 10_000 - buyback
    assert q.currency == "KRW"


@pytest.mark.parametrize(
    ("face", "fee_bps", "fee"),
    [
        (50_000, 1_000, 5_000),
        (1_001, 1_000, 100),  # 100.1 -> 100
        (1_009, 1_000, 100),  # 100.9 -> 100, never 101
        (1, 9_999, 0),
        (3, 3_333, 0),
        (10_000, 10_000, 10_000),
        (12_345, 0, 0),
    ],
)
def test_fee_examples(face: int, fee_bps: int, fee: int) -> None:
    assert fee_for(face, fee_bps) == fee


def test_a_catalogue_quote() -> None:
    q = quote(CULTURELAND, 50_000, "cash", now=NOW)
    assert (q.face_value, q.fee, q.payout, q.fee_bps) == (50_000, 5_000, 45_000, 1_000)
    assert q.brand_id == "cultureland"
    assert q.funding_source is FundingSource.CASH
    assert q.expires_at == NOW + timedelta(minutes=15)


def test_a_quote_without_a_clock_has_no_expiry() -> None:
    assert quote(CULTURELAND, 50_000, "cash").expires_at is None
    q = quote(CULTURELAND, 50_000, "cash", now=NOW, valid_for=timedelta(minutes=1))
    assert q.expires_at == NOW + timedelta(minutes=1)


def test_a_quote_checks_the_face_value() -> None:
    with pytest.raises(FaceValueNotOffered):
        quote(MUNHWA, 7_000, "cash")
    with pytest.raises(InvalidAmount):
        quote(MUNHWA, 0, "cash")


# -- the annualised cost --------------------------------------------------------------


def test_twenty_percent_over_forty_days_is_about_228_percent() -> None:
    # DOMAIN-FACTS §2: a 20% fee with the bill due in 40 days is about 228% a year.
    apr_bps = annualized_cost_bps(fee=2_000, face_value=10_000, days=40)
    assert apr_bps == 22_813  # 22,812.5 rounded up
    assert round(apr_bps / 100) == 228


def test_a_credit_quote_carries_the_apr_over_the_default_days() -> None:
    brand = _brand(8_000)  # a 20% fee
    for source in CREDIT_SOURCES:
        q = quote(brand, 10_000, source)
        assert q.days_to_bill == DEFAULT_DAYS_TO_BILL == 40
        assert q.annualized_cost_bps == 22_813


def test_a_credit_quote_uses_the_days_it_is_given() -> None:
    q = quote(_brand(8_000), 10_000, "credit_card", days_to_bill=20)
    assert q.days_to_bill == 20
    assert q.annualized_cost_bps == 45_625


@pytest.mark.parametrize("days", [0, -1])
def test_days_to_the_bill_must_be_positive(days: int) -> None:
    # 0 used to fall back silently to the 40-day default, while -1 was refused.
    with pytest.raises(InvalidAmount):
        quote(_brand(8_000), 10_000, "credit_card", days_to_bill=days)
    with pytest.raises(InvalidAmount):
        annualized_cost_bps(2_000, 10_000, days)


def test_apr_needs_a_positive_payout() -> None:
    with pytest.raises(InvalidAmount):
        annualized_cost_bps(10_000, 10_000, 40)


@PROPERTY
@given(
    face=st.integers(min_value=1, max_value=10**12),
    fee_bps=st.integers(min_value=0, max_value=9_999),
    days=st.integers(min_value=1, max_value=3_650),
)
def test_apr_rounds_up_and_never_understates(face: int, fee_bps: int, days: int) -> None:
    fee = fee_for(face, fee_bps)
    exact = apr_oracle_exact(fee, face, days)
    apr_bps = annualized_cost_bps(fee, face, days)
    assert apr_bps == math.ceil(exact)
    assert exact <= apr_bps < exact + 1


@pytest.mark.parametrize("source", NON_CREDIT, ids=str)
def test_money_that_was_not_credit_has_no_apr(source: FundingSource) -> None:
    q = quote(MUNHWA, 50_000, source.value)
    assert q.annualized_cost_bps is None
    assert q.days_to_bill is None
    assert q.funding_source is source


def test_the_credit_sources_are_card_and_carrier_billing() -> None:
    assert {s.value for s in CREDIT_SOURCES} == {"credit_card", "carrier_billing"}


# -- funding sources ------------------------------------------------------------------


def test_the_funding_sources_are_the_contracts() -> None:
    assert [s.value for s in FundingSource] == [
        "cash",
        "debit_card",
        "bank_transfer",
        "gift",
        "credit_card",
        "carrier_billing",
        "unknown",
    ]


@pytest.mark.parametrize("value", ["paypal", "CASH", "", " cash", "credit card", None, 3])
def test_an_unknown_funding_source_is_refused(value: object) -> None:
    with pytest.raises(UnknownFundingSource) as caught:
        quote(MUNHWA, 50_000, value)  # type: ignore[arg-type]
    assert caught.value.code == "unknown_funding_source"
    with pytest.raises(UnknownFundingSource):
        funding_source(value)  # type: ignore[arg-type]


def test_an_overlong_funding_source_is_cut_in_the_context() -> None:
    with pytest.raises(UnknownFundingSource) as caught:
        funding_source("x" * 1_000)
    assert len(caught.value.context["value"]) <= 40


def test_every_catalogue_brand_can_be_quoted() -> None:
    for brand in CATALOGUE:
        face = brand.face_values.fixed[0] if brand.face_values.fixed else brand.face_values.minimum
        q = quote(brand, face, FundingSource.GIFT)
        assert q.payout + q.fee == face
        assert q.payout > 0
