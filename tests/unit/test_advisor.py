"""The liquidity advisor: which lawful routes exist on which day (Korean time, civil-law
periods), and what each yields, rounded down where the issuer pays a share."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from giftcash.domain.advisor import (
    KST,
    US_TERMS,
    UnknownJurisdiction,
    advise,
    end_of_years_after,
    routes,
)
from giftcash.domain.brands import CULTURELAND, GOOGLE_PLAY, Brand, CodeFormat, FaceValues
from giftcash.domain.errors import InvalidAmount

ANY_FACE = Brand(
    id="any",
    name="Any",
    name_ko="아무",
    issuer="any",
    currency="KRW",
    buyback_rate_bps=9_000,
    code_format=CodeFormat(lengths=(16,)),
    face_values=FaceValues(minimum=1, maximum=10**12, step=1),
)


def kst(*args: int) -> datetime:
    return datetime(*args, tzinfo=KST)  # type: ignore[misc]


def by_id(face: int = 50_000, brand: Brand = CULTURELAND, **kw: object) -> dict:
    kw.setdefault("funding_source", "carrier_billing")
    found = routes(brand, face, **kw)  # type: ignore[arg-type]
    ids = [r.route for r in found]
    assert len(ids) == len(set(ids))
    return {r.route: r for r in found}


# -- cancel the payment: the same calendar month in Korea ------------------------------


def test_cancel_payment_closes_at_the_korean_month_end() -> None:
    bought = kst(2025, 3, 31, 23, 30)
    last_minute = by_id(purchased_at=bought, now=kst(2025, 3, 31, 23, 59, 59))
    r = last_minute["cancel_payment"]
    assert (r.cash, r.value, r.deadline) == (50_000, 50_000, kst(2025, 4, 1))
    assert "cancel_payment" not in by_id(purchased_at=bought, now=kst(2025, 4, 1))


def test_the_month_is_counted_in_korea_not_in_utc() -> None:
    # 16:00 UTC on 31 March is 01:00 on 1 April in Seoul: April's bill, not March's
    bought = datetime(2025, 3, 31, 16, 0, tzinfo=UTC)
    r = by_id(purchased_at=bought, now=datetime(2025, 4, 20, tzinfo=UTC))["cancel_payment"]
    assert r.deadline == kst(2025, 5, 1)


def test_december_rolls_into_the_next_year() -> None:
    r = by_id(purchased_at=kst(2025, 12, 5), now=kst(2025, 12, 31, 23))["cancel_payment"]
    assert r.deadline == kst(2026, 1, 1)


@pytest.mark.parametrize("source", ["carrier_billing", "credit_card"])
def test_cancel_payment_is_for_bills_and_cards_only(source: str) -> None:
    when = {"purchased_at": kst(2025, 3, 2), "now": kst(2025, 3, 3)}
    assert "cancel_payment" in by_id(funding_source=source, **when)
    for other in ("cash", "debit_card", "bank_transfer", "gift", "unknown"):
        assert "cancel_payment" not in by_id(funding_source=other, **when)
    assert "cancel_payment" not in by_id(funding_source=source, used_value=1, **when)


# -- the 7-day withdrawal: day 7 is in, day 8 is out -----------------------------------


def test_withdrawal_runs_to_the_end_of_the_seventh_day() -> None:
    bought = kst(2025, 3, 1, 10, 0)
    day_7 = by_id(purchased_at=bought, now=kst(2025, 3, 8, 23, 59, 59), funding_source="cash")
    assert day_7["withdraw_7_days"].cash == 50_000
    assert day_7["withdraw_7_days"].deadline == kst(2025, 3, 9)
    day_8 = by_id(purchased_at=bought, now=kst(2025, 3, 9), funding_source="cash")
    assert "withdraw_7_days" not in day_8


def test_withdrawal_needs_an_unused_voucher() -> None:
    when = {"purchased_at": kst(2025, 3, 1), "now": kst(2025, 3, 2)}
    assert "withdraw_7_days" in by_id(**when)
    assert "withdraw_7_days" not in by_id(used_value=1_000, **when)


# -- the issuer's refund of the remainder ----------------------------------------------


@pytest.mark.parametrize(
    ("face", "used", "shown"),
    [
        (10_000, 6_000, True),  # 60% of a 10,000-won voucher
        (10_000, 5_999, False),
        (50_000, 30_000, True),
        (9_000, 7_200, True),  # 80% below 10,000 won
        (9_000, 7_199, False),
        (9_999, 7_999, False),
        (10_000, 10_000, False),  # nothing left to refund
        (10_000, 0, False),
    ],
)
def test_remainder_refund_thresholds(face: int, used: int, shown: bool) -> None:
    found = by_id(face, ANY_FACE, used_value=used, now=kst(2025, 3, 1), funding_source="cash")
    assert ("issuer_refund_remainder" in found) is shown
    if shown:
        assert found["issuer_refund_remainder"].cash == face - used


def test_issuers_that_refund_nothing_show_no_refund_routes() -> None:
    found = by_id(
        50_000,
        GOOGLE_PLAY,
        used_value=40_000,
        expires_at=kst(2024, 1, 1),
        purchased_at=kst(2023, 1, 1),
        now=kst(2025, 3, 1),
        funding_source="cash",
    )
    assert set(found) == set()  # expired: nothing to keep either


# -- after expiry: 95% / 90% in cash or 100% as points, within 5 years of purchase ------


def test_after_expiry_refund_lasts_five_years_from_the_purchase_date() -> None:
    bought, expires = kst(2020, 1, 3, 15), kst(2021, 1, 3)
    last = by_id(purchased_at=bought, expires_at=expires, now=kst(2025, 1, 3, 23, 59))
    assert last["issuer_refund_after_expiry"].deadline == kst(2025, 1, 4)
    assert last["issuer_points_after_expiry"].deadline == kst(2025, 1, 4)
    assert "keep" not in last and "sell_here" not in last
    gone = by_id(purchased_at=bought, expires_at=expires, now=kst(2025, 1, 4))
    assert gone == {}


def test_a_29_february_purchase_ends_with_february() -> None:
    assert end_of_years_after(kst(2024, 2, 29, 12), 5, KST) == kst(2029, 3, 1)
    assert end_of_years_after(kst(2024, 2, 29, 12), 4, KST) == kst(2028, 3, 1)


@pytest.mark.parametrize(
    ("face", "used", "cash"),
    [
        (50_000, 0, 45_000),  # 5만원 이하: 90%
        (50_001, 0, 47_500),  # above 50,000: 95%, 47,500.95 rounded down
        (100_000, 0, 95_000),
        (33_333, 0, 29_999),  # 29,999.7 rounded down
        (100_000, 45_555, 51_722),  # the band follows the face: 95% of 54,445 = 51,722.75
    ],
)
def test_after_expiry_cash_is_rounded_down(face: int, used: int, cash: int) -> None:
    found = by_id(
        face,
        ANY_FACE,
        used_value=used,
        expires_at=kst(2025, 1, 1),
        purchased_at=kst(2024, 1, 1),
        now=kst(2025, 3, 1),
    )
    r = found["issuer_refund_after_expiry"]
    assert (r.cash, r.value) == (cash, cash)
    p = found["issuer_points_after_expiry"]
    assert (p.cash, p.value) == (0, face - used)  # points are not cash
    assert "rounded down" in r.note


@settings(deadline=None)
@given(
    face=st.integers(min_value=1, max_value=10**12),
    used_share=st.fractions(min_value=0, max_value=1),
)
def test_after_expiry_refund_never_promises_more_than_the_issuer_pays(
    face: int, used_share: Fraction
) -> None:
    used = math.floor(face * used_share)
    found = by_id(
        face,
        ANY_FACE,
        used_value=used,
        expires_at=kst(2025, 1, 1),
        purchased_at=kst(2024, 1, 1),
        now=kst(2025, 3, 1),
    )
    if face == used:
        assert "issuer_refund_after_expiry" not in found
        return
    share = Fraction(95, 100) if face > 50_000 else Fraction(90, 100)
    exact = (face - used) * share
    assert found["issuer_refund_after_expiry"].cash == math.floor(exact)


def test_before_expiry_the_refund_is_shown_as_opening_later() -> None:
    found = by_id(
        purchased_at=kst(2025, 1, 1),
        expires_at=kst(2026, 1, 1),
        now=kst(2025, 3, 1),
        funding_source="cash",
        payout=45_000,
    )
    assert list(found) == [
        "sell_here",
        "issuer_refund_after_expiry",
        "issuer_points_after_expiry",
        "keep",
    ]
    assert found["issuer_refund_after_expiry"].opens_at == kst(2026, 1, 1)
    assert found["keep"].deadline == kst(2026, 1, 1)
    assert (found["keep"].cash, found["keep"].value) == (0, 50_000)


# -- what is shown when ----------------------------------------------------------------


def test_an_unknown_purchase_date_hides_the_routes_that_need_it_and_says_so() -> None:
    advice = advise(
        CULTURELAND,
        50_000,
        funding_source="carrier_billing",
        expires_at=kst(2025, 1, 1),
        now=kst(2025, 3, 1),
    )
    ids = [r.route for r in advice.routes]
    assert ids == ["issuer_refund_after_expiry", "issuer_points_after_expiry"]
    assert advice.routes[0].deadline is None
    assert "5 years after the purchase date" in advice.routes[0].note
    assert advice.note is not None and "purchase date is unknown" in advice.note
    known = advise(
        CULTURELAND,
        50_000,
        funding_source="carrier_billing",
        purchased_at=kst(2025, 2, 1),
        now=kst(2025, 2, 3),
    )
    assert known.note is None


def test_a_declined_voucher_is_not_offered_for_sale_here() -> None:
    when = {"purchased_at": kst(2025, 3, 1), "now": kst(2025, 3, 2)}
    assert "sell_here" not in by_id(payout=None, **when)
    offered = by_id(payout=45_000, **when)["sell_here"]
    assert (offered.cash, offered.currency) == (45_000, "KRW")
    assert "45,000 KRW" in offered.note


def test_the_order_of_routes_is_fixed() -> None:
    found = by_id(
        ANY_FACE.face_values.maximum,
        ANY_FACE,
        purchased_at=kst(2025, 3, 1),
        expires_at=kst(2026, 3, 1),
        now=kst(2025, 3, 2),
        payout=1,
    )
    assert list(found) == [
        "sell_here",
        "cancel_payment",
        "withdraw_7_days",
        "issuer_refund_after_expiry",
        "issuer_points_after_expiry",
        "keep",
    ]


def test_the_us_terms_have_only_selling_and_keeping() -> None:
    usd = replace(CULTURELAND, currency="USD")
    found = by_id(
        5_000,
        usd,
        purchased_at=kst(2025, 3, 1),
        expires_at=kst(2024, 3, 1) + timedelta(days=800),
        used_value=4_000,
        now=kst(2025, 3, 2),
        payout=4_000,
        jurisdiction="US",
    )
    assert list(found) == ["sell_here", "keep"]
    assert "40.00 USD" in found["sell_here"].note
    assert routes(usd, 5_000, funding_source="cash", now=kst(2025, 1, 1), jurisdiction=US_TERMS)


def test_bad_input_is_refused() -> None:
    now = kst(2025, 3, 1)
    with pytest.raises(InvalidAmount):
        routes(CULTURELAND, 50_000, funding_source="cash", now=now, used_value=50_001)
    with pytest.raises(InvalidAmount):
        routes(CULTURELAND, 0, funding_source="cash", now=now)
    with pytest.raises(UnknownJurisdiction):
        routes(CULTURELAND, 50_000, funding_source="cash", now=now, jurisdiction="XX")
