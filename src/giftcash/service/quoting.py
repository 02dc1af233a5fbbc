"""Quotes for the API and CLI: the domain's price plus its lawful routes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from giftcash.domain.quotes import Quote, quote
from giftcash.service import catalogue
from giftcash.service.deps import Deps
from giftcash.service.errors import NotFound


@dataclass(frozen=True, slots=True)
class Route:
    route: str
    cash: int
    currency: str
    note: str


@dataclass(frozen=True, slots=True)
class QuoteView:
    quote: Quote
    routes: list[Route]
    declined: tuple[str, str] | None


def make_quote(
    deps: Deps, brand_id: str, face_value: int, funding: str, days_to_bill: int | None = None
) -> QuoteView:
    live = catalogue.live_catalogue(deps)
    brand = live.brands.get(brand_id)
    if brand is None:
        raise NotFound(f"no brand {brand_id[:40]!r}", brand_id=brand_id[:40])
    q = quote(
        brand,
        face_value,
        funding,
        now=deps.clock.now(),
        valid_for=timedelta(seconds=deps.limits.quote_valid_s),
        days_to_bill=days_to_bill,
    )
    routes = [
        Route("sell_here", q.payout, q.currency, f"giftcash pays {q.payout:,} now"),
        Route("keep", 0, q.currency, "keep the voucher and use it"),
    ]
    declined = live.decline_for(brand)
    return QuoteView(q, routes, declined)
