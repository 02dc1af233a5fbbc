"""The console's view of resale (finance and admin): inventory by brand, face value and
state with its ageing (what expires within 30 and 90 days, how long the oldest has been
held), orders by state, the deposits not kept with why, and the margin by brand (delivered
orders' amounts against their units' cost), the buyers' claims by state with those
waiting for an operator (resale/claim_review.py settles them), and what sellers owe us
(their receivables, netted from their next payouts). Read-only; no code, PIN or payer's
name is in it (a payer's name is personal data the console would have to log)."""

from __future__ import annotations

from dataclasses import dataclass

from giftcash.service.deps import Deps
from giftcash.service.ports.records import (
    BrandMargin,
    ClaimTally,
    OrderDeposit,
    OrderTally,
    ReviewClaim,
    SellerDebt,
    StockLine,
)

NOT_KEPT_SHOWN = 50
REVIEW_SHOWN = 50
DEBTS_SHOWN = 50


@dataclass(frozen=True, slots=True)
class ResaleOverview:
    stock: list[StockLine]
    orders: list[OrderTally]
    not_kept: list[OrderDeposit]
    margins: list[BrandMargin]
    claims: list[ClaimTally]
    in_review: list[ReviewClaim]
    debts: list[SellerDebt]

    @property
    def units(self) -> int:
        return sum(line.units for line in self.stock)

    @property
    def cost(self) -> int:
        return sum(line.cost for line in self.stock)

    @property
    def owed(self) -> int:
        return sum(d.owed for d in self.debts)


def overview(deps: Deps, limit: int = NOT_KEPT_SHOWN) -> ResaleOverview:
    now = deps.clock.now()
    with deps.reader() as uow:
        r = uow.resale_reports
        return ResaleOverview(
            r.stock(now),
            r.order_tallies(),
            r.not_kept(limit),
            r.margins(),
            r.claim_tallies(),
            r.claims_in_review(REVIEW_SHOWN),
            r.debts(DEBTS_SHOWN),
        )
