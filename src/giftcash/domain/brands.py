"""Brands, their issuers and their code formats, and the catalogue of real Korean brands.

Only format and prefix checks happen locally: no public check-digit algorithm exists for
these codes, and whether a code holds value is known only to its issuer (redeeming it).
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Any

from giftcash.domain.errors import BrandNotFound, FaceValueNotOffered, InvalidAmount, InvalidFormat
from giftcash.domain.money import currency_scale
from giftcash.domain.resale import ResalePricing, default_pricing, parse_pricing

DIGITS = string.digits
ALNUM = string.digits + string.ascii_uppercase

_SEPARATORS = re.compile(r"[\s\-]+")
# ASCII only: str.upper() turns "ß" into "SS" and "ﬁ" into "FI", which would let a code the
# customer never typed pass the alphabet check.
_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


def normalise(code: str) -> str:
    """Strip spaces and dashes, upper-case: the form that is stored, hashed and sent."""
    return _SEPARATORS.sub("", code).translate(_ASCII_UPPER)


@dataclass(frozen=True, slots=True)
class CodeFormat:
    lengths: tuple[int, ...]
    alphabet: str = DIGITS
    groups: tuple[int, ...] = ()  # how the code is shown, e.g. (4, 4, 4, 6)
    prefixes: tuple[str, ...] = ()  # empty: any prefix
    pin_length: int | None = None  # a separate PIN (e.g. issue date) when the brand has one
    pin_label: str = "PIN"
    description: str = ""
    # No public source gives this brand's format (DOMAIN-FACTS §4): ours is an assumption,
    # kept so detection and the simulator agree, and shown as such.
    assumed: bool = False
    checksum: str = ""  # "ean13": the last digit is the GS1 check digit of the others

    def validate(self, code: str, pin: str | None = None) -> tuple[str, str | None]:
        """Normalise and check a code (and PIN); return them or raise ``InvalidFormat``.

        The reason names lengths and alphabets, never the code itself."""
        norm = normalise(code)
        if not norm:
            raise InvalidFormat("the code is empty", reason="empty")
        if len(norm) not in self.lengths:
            allowed = " or ".join(str(n) for n in self.lengths)
            raise InvalidFormat(
                f"the code has {len(norm)} characters; this brand's codes have {allowed}",
                reason="length",
            )
        bad = set(norm) - set(self.alphabet)
        if bad:
            kind = "digits" if self.alphabet == DIGITS else "letters and digits"
            raise InvalidFormat(f"the code may contain only {kind}", reason="alphabet")
        if self.prefixes and not norm.startswith(self.prefixes):
            raise InvalidFormat(
                "the code does not start the way this brand's codes start", reason="prefix"
            )
        if self.checksum == "ean13" and gs1_check_digit(norm[:-1]) != norm[-1]:
            raise InvalidFormat("the code's check digit does not match", reason="checksum")
        norm_pin: str | None = None
        if self.pin_length is not None:
            norm_pin = normalise(pin or "")
            # not str.isdigit(): it also accepts "²" and Arabic-Indic digits
            if len(norm_pin) != self.pin_length or not set(norm_pin) <= set(DIGITS):
                raise InvalidFormat(
                    f"this brand needs a {self.pin_length}-digit {self.pin_label}", reason="pin"
                )
        elif pin:
            raise InvalidFormat("this brand's codes have no separate PIN", reason="pin")
        return norm, norm_pin

    def display(self, norm: str) -> str:
        if not self.groups or sum(self.groups) != len(norm):
            return norm
        parts, i = [], 0
        for g in self.groups:
            parts.append(norm[i : i + g])
            i += g
        return "-".join(parts)


def gs1_check_digit(digits: str) -> str:
    """The GS1 (EAN/UPC) check digit: weights 3 and 1 from the right, mod 10."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def mask(norm_code: str) -> str:
    """Show only the last four characters: the form used in answers, pages and logs."""
    tail = norm_code[-4:] if len(norm_code) > 4 else ""
    return "*" * max(len(norm_code) - 4, 4) + tail


@dataclass(frozen=True, slots=True)
class FaceValues:
    """Either a fixed list of denominations or a range with a step (minor units)."""

    fixed: tuple[int, ...] = ()
    minimum: int = 0
    maximum: int = 0
    step: int = 1

    def allows(self, amount: int) -> bool:
        if self.fixed:
            return amount in self.fixed
        return self.minimum <= amount <= self.maximum and (amount - self.minimum) % self.step == 0

    def describe(self) -> str:
        if self.fixed:
            return ", ".join(f"{v:,}" for v in self.fixed)
        return f"{self.minimum:,}–{self.maximum:,} in steps of {self.step:,}"


class Kind(StrEnum):
    AMOUNT = "amount"  # 금액형: a sum of money at the issuer
    PRODUCT = "product"  # 물품형: one named product


MAX_RESELL_HOLD_S = 30 * 86_400  # a seller is never kept waiting longer than this


class Disposition(StrEnum):
    REDEEM = "redeem"  # the issuer buys it back: redeemed, paid out
    RESELL = "resell"  # the issuer does not: verified, stocked and sold on (issue 15)


@dataclass(frozen=True, slots=True)
class Product:
    """One product a product-type coupon names; its list price is the coupon's face value."""

    id: str
    name: str
    name_ko: str
    price: int  # list price, minor units


@dataclass(frozen=True, slots=True)
class ExpiryBand:
    """From ``min_days_left`` days before expiry on, the brand's rate less ``discount_bps``:
    a coupon that must be used soon is worth less to the next holder."""

    min_days_left: int
    discount_bps: int


@dataclass(frozen=True, slots=True)
class Brand:
    id: str
    name: str
    name_ko: str
    issuer: str
    currency: str
    buyback_rate_bps: int  # share of face value paid to the customer
    code_format: CodeFormat
    face_values: FaceValues
    enabled: bool = True
    jurisdiction: str = "KR"
    # The issuer answers a balance inquiry with the purchase channel and time.
    reports_purchase_channel: bool = True
    issuer_refund_remainder: bool = True
    kind: Kind = Kind.AMOUNT
    disposition: Disposition = Disposition.REDEEM
    # resell brands: how long a stocked voucher's seller waits for the payout (the window
    # in which a seller who kept a copy of the code would spend it); 0 pays at once
    resell_hold_s: int = 0
    products: tuple[Product, ...] = ()  # product-type coupons only
    # Product-type: the bands by days left, longest first, and the least days bought.
    expiry_bands: tuple[ExpiryBand, ...] = ()
    min_days_left: int = 0
    category: str = ""  # e.g. "culture", "cafe": for people browsing, not for rules
    # resell brands: what a buyer pays by days left before expiry (domain/resale.py), the
    # operator's; None: not sold (every redeem brand)
    resale_pricing: ResalePricing | None = None

    def __post_init__(self) -> None:
        currency_scale(self.currency)
        assert 0 < self.buyback_rate_bps <= 10_000, self.buyback_rate_bps
        assert 0 <= self.resell_hold_s <= MAX_RESELL_HOLD_S, self.id
        assert self.resale_pricing is None or self.disposition is Disposition.RESELL, self.id
        if self.kind is Kind.PRODUCT:
            assert self.products and self.expiry_bands, self.id
            assert {p.price for p in self.products} <= set(self.face_values.fixed), self.id
            days = [b.min_days_left for b in self.expiry_bands]
            assert days == sorted(days, reverse=True) and days[-1] >= self.min_days_left
            assert all(0 <= b.discount_bps < self.buyback_rate_bps for b in self.expiry_bands)
        else:
            assert not self.products and not self.expiry_bands, self.id

    def product(self, product_id: str) -> Product | None:
        return next((p for p in self.products if p.id == product_id), None)

    @property
    def fee_bps(self) -> int:
        return 10_000 - self.buyback_rate_bps

    def check_face_value(self, amount: int) -> int:
        if type(amount) is not int or amount <= 0:
            raise InvalidAmount("face value must be a positive whole number of minor units")
        if not self.face_values.allows(amount):
            raise FaceValueNotOffered(
                f"{self.name} is not sold at {amount:,} {self.currency}; "
                f"it is sold at {self.face_values.describe()}",
                brand_id=self.id,
                face_value=amount,
            )
        return amount


# -- the catalogue ----------------------------------------------------------------------
# Rates are indicative of the Korean market (DOMAIN-FACTS §1: culture and book vouchers
# ≈90%, department-store cards 95%, coffee e-gifts 80%, Google ≈82%).

CULTURELAND = Brand(
    id="cultureland",
    name="Cultureland mobile voucher",
    name_ko="컬쳐랜드 모바일 문화상품권",
    issuer="cultureland",
    currency="KRW",
    buyback_rate_bps=9_000,
    code_format=CodeFormat(
        lengths=(16,),
        groups=(4, 4, 4, 4),
        prefixes=("416", "4180", *(f"31{d}" for d in "123456789")),
        description="16 digits (4-4-4-4) starting 416, 4180 or 311–319",
    ),
    face_values=FaceValues(minimum=1_000, maximum=500_000, step=1_000),
)

MUNHWA = Brand(
    id="munhwa",
    name="Culture gift certificate (18-digit)",
    name_ko="문화상품권",
    issuer="munhwa",
    currency="KRW",
    buyback_rate_bps=9_000,
    code_format=CodeFormat(
        lengths=(18,),
        groups=(4, 4, 4, 6),
        prefixes=("2", "3", "4", "5"),
        description="18 digits (4-4-4-6) starting 2, 3, 4 or 5",
    ),
    face_values=FaceValues(fixed=(5_000, 10_000, 30_000, 50_000, 100_000)),
)

BOOKNLIFE = Brand(
    id="booknlife",
    name="Book & Life book gift certificate",
    name_ko="북앤라이프 도서문화상품권",
    issuer="booknlife",
    currency="KRW",
    buyback_rate_bps=9_000,
    code_format=CodeFormat(
        lengths=(16, 18),
        pin_length=8,
        pin_label="issue date (YYYYMMDD)",
        description="16 or 18 digits plus the 8-digit issue date",
    ),
    face_values=FaceValues(fixed=(5_000, 10_000, 30_000, 50_000)),
)

GOOGLE_PLAY = Brand(
    id="google_play_kr",
    name="Google Play gift code (KR)",
    name_ko="구글 기프트카드",
    issuer="google",
    currency="KRW",
    buyback_rate_bps=8_200,
    code_format=CodeFormat(
        lengths=tuple(range(12, 21)),
        alphabet=ALNUM,
        description="12–20 letters and digits, checked only by the issuer",
    ),
    face_values=FaceValues(
        fixed=(5_000, 10_000, 15_000, 30_000, 50_000, 100_000, 150_000, 200_000)
    ),
    reports_purchase_channel=False,
    issuer_refund_remainder=False,
)

SHINSEGAE = Brand(
    id="shinsegae",
    name="Shinsegae mobile gift certificate",
    name_ko="신세계 모바일상품권",
    issuer="shinsegae",
    currency="KRW",
    buyback_rate_bps=9_500,
    code_format=CodeFormat(lengths=(16,), groups=(4, 4, 4, 4), description="16 digits (4-4-4-4)"),
    face_values=FaceValues(fixed=(10_000, 30_000, 50_000, 100_000, 300_000, 500_000)),
)

STARBUCKS = Brand(
    id="starbucks_kr",
    name="Starbucks e-Gift card",
    name_ko="스타벅스 e-Gift 카드",
    issuer="starbucks_kr",
    currency="KRW",
    buyback_rate_bps=8_000,
    code_format=CodeFormat(lengths=(16,), groups=(4, 4, 4, 4), description="16 digits (4-4-4-4)"),
    face_values=FaceValues(minimum=10_000, maximum=500_000, step=10_000),
)

HAPPYMONEY = Brand(
    id="happymoney",
    name="Happy Money gift certificate",
    name_ko="해피머니 상품권",
    issuer="happymoney",
    currency="KRW",
    buyback_rate_bps=9_000,
    code_format=CodeFormat(
        lengths=(16,),
        groups=(4, 4, 4, 4),
        pin_length=8,
        pin_label="issue date (YYYYMMDD)",
        description="16 digits plus the 8-digit issue date",
    ),
    face_values=FaceValues(fixed=(5_000, 10_000, 30_000, 50_000)),
    # The issuer entered rehabilitation in 2024 and is being liquidated: off by default.
    enabled=False,
)

BUILT_IN: tuple[Brand, ...] = (
    CULTURELAND,
    MUNHWA,
    BOOKNLIFE,
    GOOGLE_PLAY,
    SHINSEGAE,
    STARBUCKS,
    HAPPYMONEY,
)


# -- the market file ----------------------------------------------------------------------
# Every other brand is one ``[[brand]]`` entry of ``market.toml`` beside this module: data,
# read with the standard library, checked by the same assertions as the brands above.


def brand_from_entry(e: dict[str, Any]) -> Brand:
    code = e["code"]
    products = tuple(
        Product(p["id"], p["name"], p["name_ko"], int(p["price"])) for p in e.get("product", ())
    )
    prices = tuple(sorted({p.price for p in products}))
    disposition = Disposition(e.get("disposition", "redeem"))
    rate = int(e["buyback_rate_bps"])
    pricing: ResalePricing | None = None
    if disposition is Disposition.RESELL:
        given = e.get("resale_pricing")
        pricing = default_pricing(10_000 - rate) if given is None else parse_pricing(given)
    return Brand(
        id=e["id"],
        name=e["name"],
        name_ko=e["name_ko"],
        issuer=e["issuer"],
        currency=e.get("currency", "KRW"),
        buyback_rate_bps=rate,
        code_format=CodeFormat(
            lengths=tuple(code["lengths"]),
            alphabet=ALNUM if code.get("alphabet") == "alphanumeric" else DIGITS,
            groups=tuple(code.get("groups", ())),
            prefixes=tuple(code.get("prefixes", ())),
            pin_length=code.get("pin_length"),
            pin_label=code.get("pin_label", "PIN"),
            description=code["description"],
            assumed=bool(code.get("assumed", False)),
            checksum=code.get("checksum", ""),
        ),
        face_values=FaceValues(fixed=tuple(e.get("face_values", prices))),
        enabled=bool(e.get("enabled", True)),
        reports_purchase_channel=bool(e.get("reports_purchase_channel", True)),
        issuer_refund_remainder=bool(e.get("issuer_refund_remainder", True)),
        kind=Kind(e.get("kind", "amount")),
        disposition=disposition,
        resell_hold_s=int(e.get("resell_hold_s", 0)),
        products=products,
        expiry_bands=tuple(ExpiryBand(int(d), int(b)) for d, b in e.get("expiry_bands", ())),
        min_days_left=int(e.get("min_days_left", 0)),
        category=e.get("category", ""),
        resale_pricing=pricing,
    )


def load_market(text: str) -> tuple[Brand, ...]:
    return tuple(brand_from_entry(e) for e in tomllib.loads(text)["brand"])


MARKET: tuple[Brand, ...] = load_market(
    resources.files("giftcash.domain").joinpath("market.toml").read_text(encoding="utf-8")
)

CATALOGUE: tuple[Brand, ...] = BUILT_IN + MARKET


def brand_index(brands: Iterable[Brand]) -> dict[str, Brand]:
    return {b.id: b for b in brands}


def find_brand(brand_id: str, brands: Iterable[Brand] = CATALOGUE) -> Brand:
    for b in brands:
        if b.id == brand_id:
            return b
    raise BrandNotFound(f"no brand {brand_id!r}", brand_id=brand_id)
