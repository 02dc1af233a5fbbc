"""What is on offer (GET /v1/offers): stocked units grouped by brand, face value and
price, with how many there are. A unit too close to expiry, or of a brand with no resale
pricing, is not offered."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from giftcash.domain.resale import ResalePricing, days_left, offer_price_won
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


def list_offers(
    uow: UnitOfWork, pricing_for: PricingFor, now: datetime, limit: int = 5_000
) -> list[Offer]:
    counts: Counter[tuple[str, str, int, int]] = Counter()
    for u in uow.inventory.in_status(UnitStatus.STOCKED.value, limit):
        pricing = pricing_for(u.brand_id)
        if pricing is None or u.expires_at is None:
            continue
        price = offer_price_won(pricing, u.face_value, days_left(u.expires_at, now))
        if price is not None:
            counts[(u.brand_id, u.currency, u.face_value, price)] += 1
    return [
        Offer(brand, currency, face, price, n)
        for (brand, currency, face, price), n in sorted(
            counts.items(), key=lambda kv: (kv[0][0], kv[0][2], -kv[0][3])
        )
    ]
