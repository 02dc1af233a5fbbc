"""What is on offer (GET /v1/offers): stocked units grouped by brand, face value and
price, with how many there are. A unit too close to expiry, or of a brand with no resale
pricing, is not offered."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from giftcash.domain.resale import ResalePricing, days_left, discount_bps, offer_price_won
from giftcash.domain.states import UnitStatus
from giftcash.service.ports.uow import UnitOfWork

PricingFor = Callable[[str], ResalePricing | None]


@dataclass(frozen=True, slots=True)
class Offer:
    brand_id: str
    currency: str
    face_value: int
    price: int
    in_stock: int
    discount_bps: int = 0  # the band's discount off face value
    expires_before: datetime | None = None  # no unit of the offer expires later


def list_offers(
    uow: UnitOfWork, pricing_for: PricingFor, now: datetime, limit: int = 5_000
) -> list[Offer]:
    counts: Counter[tuple[str, str, int, int]] = Counter()
    bands: dict[tuple[str, str, int, int], int] = {}
    latest: dict[tuple[str, str, int, int], datetime] = {}
    for u in uow.inventory.in_status(UnitStatus.STOCKED.value, limit):
        pricing = pricing_for(u.brand_id)
        if pricing is None or u.expires_at is None:
            continue
        left = days_left(u.expires_at, now)
        price = offer_price_won(pricing, u.face_value, left)
        if price is not None:
            key = (u.brand_id, u.currency, u.face_value, price)
            counts[key] += 1
            bands[key] = discount_bps(pricing, left) or 0
            latest[key] = max(latest.get(key, u.expires_at), u.expires_at)
    return [
        Offer(brand, currency, face, price, n, bands[k], latest[k])
        for k, n in sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][2], -kv[0][3]))
        for (brand, currency, face, price) in [k]
    ]
