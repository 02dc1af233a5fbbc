"""Product-type coupons (물품형): the price of a coupon that names one product, from the
product's list price and the days left before it expires.

The next holder must use the coupon before it expires, so a coupon is worth less as its
expiry nears: each brand has expiry bands (``brands.ExpiryBand``), each a discount off the
brand's rate, and under its ``min_days_left`` it is not bought at all: the customer keeps
the routes the issuer owes them (use or gift it, ask the issuer for the 3-month extension,
the refund after expiry; DOMAIN-FACTS §2, §7). Because a band is a discount off the brand's
rate, the operator's rate override for the brand moves every band at once.

Days left count whole Korean calendar days from today to the expiry date, the way the
coupon prints it ("유효기간 2025.03.31"): a coupon expiring tomorrow has 1 day left.
Rounding: the payout is floored to the won (``money.bps_of``): we never quote more than
we pay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from giftcash.domain import declines as dc
from giftcash.domain.brands import Brand, ExpiryBand, Kind
from giftcash.domain.errors import DomainError
from giftcash.domain.money import bps_of

KST = timezone(timedelta(hours=9), "KST")


class NotAProductCoupon(DomainError):
    code = "not_a_product_coupon"


class ProductNotFound(DomainError):
    code = "product_not_found"
    kind = "not_found"


@dataclass(frozen=True, slots=True)
class CouponPrice:
    brand_id: str
    product_id: str
    list_price: int
    currency: str
    days_left: int
    band: ExpiryBand | None  # None: under the brand's minimum, not bought
    rate_bps: int  # 0 when not bought
    payout: int
    fee: int
    # A decline from the registry when the coupon cannot be bought now, else None.
    decline: dc.DeclineCode | None


def days_left(expires_at: datetime, now: datetime) -> int:
    """Whole Korean calendar days from today to the expiry day (negative once past)."""
    assert expires_at.tzinfo is not None and now.tzinfo is not None
    return (expires_at.astimezone(KST).date() - now.astimezone(KST).date()).days


def band_for(brand: Brand, days: int) -> ExpiryBand | None:
    if days < brand.min_days_left:
        return None
    return next((b for b in brand.expiry_bands if days >= b.min_days_left), None)


def price_coupon(brand: Brand, product_id: str, expires_at: datetime, now: datetime) -> CouponPrice:
    """The payout for one product coupon of ``brand`` expiring at ``expires_at``. Pure.

    A coupon under the minimum days left is priced at nothing and carries
    ``coupon_near_expiry``. A coupon whose brand is resold (no issuer buy-back) is priced
    the same way: its seller is paid this, and it is stocked instead of redeemed."""
    if brand.kind is not Kind.PRODUCT:
        raise NotAProductCoupon(f"{brand.name} is not a product coupon", brand_id=brand.id)
    product = brand.product(product_id)
    if product is None:
        raise ProductNotFound(f"{brand.name} has no such product", brand_id=brand.id)
    days = days_left(expires_at, now)
    band = band_for(brand, days)
    if band is None:
        return CouponPrice(
            brand.id, product.id, product.price, brand.currency, days, None, 0, 0,
            product.price, dc.COUPON_NEAR_EXPIRY,
        )  # fmt: skip
    rate = max(brand.buyback_rate_bps - band.discount_bps, 0)  # an operator may set it low
    payout = bps_of(product.price, rate)
    return CouponPrice(
        brand.id, product.id, product.price, brand.currency, days, band, rate, payout,
        product.price - payout, None,
    )  # fmt: skip
