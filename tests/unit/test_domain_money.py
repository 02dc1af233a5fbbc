"""Money: integer minor units, one currency at a time, exact parsing and plain formatting."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from giftcash.domain.errors import CurrencyMismatch, InvalidAmount, UnknownCurrency
from giftcash.domain.money import CURRENCY_SCALE, MAX_AMOUNT, Money, bps_of, currency_scale

PROPERTY = settings(deadline=None)


# -- construction ---------------------------------------------------------------------


@pytest.mark.parametrize("amount", [True, False, 1.0, 0.5, Decimal(1), Decimal("1.5"), "1", None])
def test_only_plain_integers_are_amounts(amount: object) -> None:
    with pytest.raises(InvalidAmount) as caught:
        Money(amount, "KRW")  # type: ignore[arg-type]
    assert caught.value.code == "invalid_amount"


@pytest.mark.parametrize("amount", [0, 1, -1, 50_000, 10**30])
def test_integers_of_any_sign_are_amounts(amount: int) -> None:
    assert Money(amount, "KRW").amount == amount


@pytest.mark.parametrize("currency", ["XYZ", "krw", "", "KRW ", "WON"])
def test_unknown_currency_is_refused(currency: str) -> None:
    with pytest.raises(UnknownCurrency) as caught:
        Money(1, currency)
    assert caught.value.code == "unknown_currency"
    with pytest.raises(UnknownCurrency):
        currency_scale(currency)


def test_currency_scales_follow_iso_4217() -> None:
    assert currency_scale("KRW") == 0
    assert currency_scale("JPY") == 0
    assert currency_scale("USD") == 2
    assert currency_scale("EUR") == 2


# -- arithmetic -----------------------------------------------------------------------


def test_same_currency_arithmetic() -> None:
    a, b = Money(50_000, "KRW"), Money(5_000, "KRW")
    assert a + b == Money(55_000, "KRW")
    assert a - b == Money(45_000, "KRW")
    assert -b == Money(-5_000, "KRW")
    assert b < a and b <= a and a > b and a >= b and a >= a
    assert Money.zero("USD") == Money(0, "USD")


@pytest.mark.parametrize(
    "operation",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
)
def test_mixed_currencies_are_refused(operation) -> None:
    with pytest.raises(CurrencyMismatch) as caught:
        operation(Money(100, "KRW"), Money(100, "USD"))
    assert caught.value.code == "currency_mismatch"


def test_equal_amounts_in_different_currencies_are_not_equal() -> None:
    assert Money(100, "KRW") != Money(100, "JPY")


def test_money_does_not_mix_with_bare_numbers() -> None:
    with pytest.raises(TypeError):
        Money(1, "KRW") + 1  # type: ignore[operator]


def test_require_positive() -> None:
    assert Money(1, "KRW").require_positive() == Money(1, "KRW")
    for amount in (0, -1):
        with pytest.raises(InvalidAmount):
            Money(amount, "KRW").require_positive("payout")


# -- parse ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("50,000", "KRW", 50_000),
        ("50000", "KRW", 50_000),
        (" 1,000,000 ", "KRW", 1_000_000),
        ("12.34", "USD", 1_234),
        ("12.3", "USD", 1_230),
        ("12", "USD", 1_200),
        ("12.340", "USD", 1_234),  # a trailing zero is not a third decimal
        ("0.01", "USD", 1),
        ("-5", "KRW", -5),
        ("9223372036854775807", "KRW", MAX_AMOUNT),
    ],
)
def test_parse_is_exact(text: str, currency: str, minor: int) -> None:
    assert Money.parse(text, currency) == Money(minor, currency)


@pytest.mark.parametrize(
    ("text", "currency"),
    [
        ("12.345", "USD"),
        ("0.001", "USD"),
        ("12.5", "KRW"),
        ("abc", "KRW"),
        ("", "KRW"),
        ("12 34", "KRW"),
        ("NaN", "KRW"),
        ("nan", "USD"),
        ("sNaN", "USD"),
        ("inf", "KRW"),
        ("-Infinity", "USD"),
        ("0x10", "KRW"),
        # Decimal's default 28-digit context used to round these silently:
        ("1.0000000000000000000000000000001", "USD"),
        ("1234567890123456789012345678.9", "KRW"),
        # what a BIGINT cannot hold, and what would take forever to turn into an int
        ("9223372036854775808", "KRW"),
        ("1e999999", "KRW"),
        ("1e-999999", "USD"),
    ],
)
def test_parse_refuses_what_is_not_an_exact_amount(text: str, currency: str) -> None:
    with pytest.raises(InvalidAmount) as caught:
        Money.parse(text, currency)
    assert caught.value.code == "invalid_amount"


def test_parse_refuses_an_unknown_currency() -> None:
    with pytest.raises(UnknownCurrency):
        Money.parse("1", "XYZ")


# -- format ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(50_000, "KRW"), "50,000 KRW"),
        (Money(0, "KRW"), "0 KRW"),
        (Money(1_250, "USD"), "12.50 USD"),
        (Money(5, "USD"), "0.05 USD"),
        (Money(-123_456, "EUR"), "-1,234.56 EUR"),
        (Money(12_345_678_901_234_567_890_123_456_789_012, "KRW"), None),
    ],
)
def test_format(money: Money, text: str | None) -> None:
    expected = text or f"{money.amount:,} KRW"  # past 28 digits too, nothing rounded
    assert money.format() == expected
    assert str(money) == expected


@PROPERTY
@given(
    amount=st.integers(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT),
    currency=st.sampled_from(sorted(CURRENCY_SCALE)),
)
def test_format_then_parse_gives_the_same_money(amount: int, currency: str) -> None:
    money = Money(amount, currency)
    number, shown_currency = money.format().split(" ")
    assert shown_currency == currency
    assert Money.parse(number, currency) == money
    assert Fraction(money.to_decimal()) == Fraction(amount, 10 ** currency_scale(currency))


@PROPERTY
@given(amount=st.integers(min_value=-(10**40), max_value=10**40))
def test_format_never_rounds(amount: int) -> None:
    shown = Money(amount, "USD").format().removesuffix(" USD").replace(",", "").replace(".", "")
    assert int(shown) == amount


# -- basis points ---------------------------------------------------------------------


@PROPERTY
@given(amount=st.integers(min_value=-(10**15), max_value=10**15), bps=st.integers(0, 10_000))
def test_bps_of_rounds_toward_zero(amount: int, bps: int) -> None:
    exact = Fraction(amount * bps, 10_000)
    got = bps_of(amount, bps)
    assert abs(got) <= abs(exact) < abs(got) + 1
    assert got == int(exact)  # int() truncates toward zero


@pytest.mark.parametrize("bps", [-1, 10_001])
def test_bps_out_of_range_is_refused(bps: int) -> None:
    with pytest.raises(InvalidAmount):
        bps_of(100, bps)
