"""The catalogue as wide as the market: every brand's format accepts the codes the issuer
simulator sells for it and refuses the near-misses a person makes typing one off a picture
(one digit short, one too many, a wrong prefix, a letter, a wrong check digit)."""

from __future__ import annotations

import random
import secrets
from datetime import UTC, datetime

import pytest

from giftcash.domain.brands import (
    BUILT_IN,
    CATALOGUE,
    DIGITS,
    MARKET,
    Brand,
    Disposition,
    Kind,
    load_market,
)
from giftcash.domain.errors import InvalidFormat
from giftcash.simulators.issuer import issue_code, issue_pin

SAMPLE = 40  # codes per brand: the simulator's random codes
PURCHASED = datetime(2025, 3, 1, 3, 0, tzinfo=UTC)


def sold_codes(brand: Brand, n: int = SAMPLE) -> list[tuple[str, str | None]]:
    rng = secrets.SystemRandom()
    fmt = brand.code_format
    return [(issue_code(fmt, rng), issue_pin(fmt, PURCHASED, rng)) for _ in range(n)]


def refuses(brand: Brand, code: str, pin: str | None) -> bool:
    try:
        brand.code_format.validate(code, pin)
    except InvalidFormat:
        return True
    return False


def near_misses(brand: Brand, code: str) -> dict[str, str]:
    """Mistakes that the format must catch: each is dropped when the format cannot tell
    it (a length it also allows, a letter where letters are allowed)."""
    fmt = brand.code_format
    misses: dict[str, str] = {}
    if len(code) - 1 not in fmt.lengths:
        misses["one short"] = code[:-1]
    if len(code) + 1 not in fmt.lengths:
        misses["one long"] = code + "7"
    if fmt.alphabet == DIGITS:
        misses["a letter"] = code[:5] + "O" + code[6:]  # O for 0: the classic misread
    if fmt.prefixes:
        wrong = next(
            w + code[1:]
            for w in "0123456789"
            if not (w + code[1:]).startswith(fmt.prefixes) and w != code[0]
        )
        misses["wrong prefix"] = wrong
    if fmt.checksum:
        last = str((int(code[-1]) + 1) % 10)
        misses["wrong check digit"] = code[:-1] + last
    return misses


@pytest.mark.parametrize("brand", CATALOGUE, ids=lambda b: b.id)
def test_every_format_accepts_the_simulator_s_codes_and_refuses_near_misses(
    brand: Brand,
) -> None:
    for code, pin in sold_codes(brand):
        assert brand.code_format.validate(code, pin) == (code, pin)
        for what, miss in near_misses(brand, code).items():
            assert refuses(brand, miss, pin), f"{brand.id}: {what} accepted"


def test_the_catalogue_is_as_wide_as_the_market() -> None:
    ids = [b.id for b in CATALOGUE]
    assert len(ids) == len(set(ids)) and len(CATALOGUE) >= 25
    categories = {b.category for b in MARKET}
    for needed in ("books", "department_store", "hypermarket", "convenience_store", "dining",
                   "cafe", "bakery", "ice_cream", "chicken"):  # fmt: skip
        assert needed in categories, needed
    product = [b for b in CATALOGUE if b.kind is Kind.PRODUCT]
    amount = [b for b in CATALOGUE if b.kind is Kind.AMOUNT]
    assert len(product) >= 10 and len(amount) >= 15
    product_cats = {b.category for b in product}
    assert {"cafe", "bakery", "ice_cream", "chicken", "convenience_store"} <= product_cats


@pytest.mark.parametrize("brand", MARKET, ids=lambda b: b.id)
def test_every_market_entry_is_honest(brand: Brand) -> None:
    fmt = brand.code_format
    # no public source for these formats: each says so, to operators and customers
    assert fmt.assumed and "assumed" in fmt.description
    assert brand.name_ko and brand.category
    if brand.kind is Kind.PRODUCT:
        assert brand.disposition is Disposition.RESELL  # no issuer buys coupons back
        assert all(p.price > 0 and p.name_ko for p in brand.products)
        assert brand.face_values.fixed == tuple(sorted({p.price for p in brand.products}))
        assert brand.min_days_left >= 1
    # amount vouchers between the coffee e-gift (80%) and department stores (95%)
    lo = 7_000 if brand.kind is Kind.PRODUCT else 8_000
    assert lo <= brand.buyback_rate_bps <= 9_500


def test_formats_tell_the_market_brands_apart() -> None:
    """No two brands that declare a prefix share one that could fit the same code."""
    formats = [(b.id, b.code_format) for b in MARKET + BUILT_IN if b.code_format.prefixes]
    for i, (a, fa) in enumerate(formats):
        for b, fb in formats[i + 1 :]:
            if not set(fa.lengths) & set(fb.lengths) or fa.pin_length != fb.pin_length:
                continue
            for pa in fa.prefixes:
                for pb in fb.prefixes:
                    assert not (pa.startswith(pb) or pb.startswith(pa)), (a, b)


def test_adding_a_brand_is_one_entry() -> None:
    entry = """
[[brand]]
id = "new_cafe_coupon"
name = "A new café coupon"
name_ko = "새 카페 쿠폰"
issuer = "new_cafe"
category = "cafe"
kind = "product"
disposition = "resell"
buyback_rate_bps = 7500
expiry_bands = [[30, 0], [7, 2000]]
min_days_left = 7
code = { lengths = [12], prefixes = ["9999"], assumed = true, description = "12 digits (assumed)" }
product = [{ id = "latte", name = "Latte", name_ko = "라떼", price = 4500 }]
"""
    (brand,) = load_market(entry)
    assert brand.kind is Kind.PRODUCT and brand.face_values.fixed == (4500,)
    code = issue_code(brand.code_format, random.Random(1))  # type: ignore[arg-type]
    assert brand.code_format.validate(code) == (code, None)
