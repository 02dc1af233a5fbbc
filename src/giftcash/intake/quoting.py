"""Quotes for the API, the web site and the CLI: the domain's price, the policy's verdict
at the ``quote`` stage (a statutory decline is never a worse price), and every lawful
route with the cash it yields (the liquidity advisor)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from giftcash.catalogue import live as catalogue
from giftcash.domain.advisor import Route
from giftcash.domain.jurisdictions import DEFAULT_JURISDICTION
from giftcash.domain.policy import ItemFacts, Outcome, Stage, evaluate
from giftcash.domain.quotes import Quote, quote
from giftcash.service.deps import Deps
from giftcash.service.errors import NotFound


@dataclass(frozen=True, slots=True)
class QuoteView:
    quote: Quote
    routes: list[Route]
    declined: tuple[str, str] | None
    routes_note: str | None = None
    jurisdiction: str = DEFAULT_JURISDICTION


def make_quote(
    deps: Deps,
    brand_id: str,
    face_value: int,
    funding: str,
    days_to_bill: int | None = None,
    *,
    purchased_at: datetime | None = None,
    jurisdiction: str | None = None,
) -> QuoteView:
    jurisdiction = jurisdiction or deps.jurisdiction
    with deps.reader() as uow:
        live = catalogue.live_catalogue_in(uow, deps.brand_catalogue)
        rules = catalogue.rules_in(
            uow, deps.brand_catalogue, jurisdiction, live, configured=deps.rule_params
        )
    brand = live.brands.get(brand_id)
    if brand is None:
        raise NotFound(f"no brand {brand_id[:40]!r}", brand_id=brand_id[:40])
    now = deps.clock.now()
    q = quote(
        brand,
        face_value,
        funding,
        now=now,
        valid_for=timedelta(seconds=deps.limits.quote_valid_s),
        days_to_bill=days_to_bill,
    )
    d = evaluate(
        rules,
        ItemFacts(brand, face_value, funding, purchased_at=purchased_at),
        now=now,
        stage=Stage.QUOTE,
        payout=q.payout,
    )
    declined = (d.code, d.message) if d.outcome is Outcome.DECLINE and d.code else None
    return QuoteView(q, list(d.routes), declined, d.routes_note, rules.jurisdiction)
