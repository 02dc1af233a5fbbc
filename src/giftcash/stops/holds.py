"""The worker's pass over the active payment stops, and what a customer is shown.

The claims already skip whatever an active stop covers (adapters/db/stop_filters.py);
this pass makes it visible within one worker pass: every item a stop names that it has
not recorded yet (a sale made after the stop, an item the stop's own transaction could
not see) is recorded with what the stop found, and its payout, if the bank has not been
asked about it, is frozen (``held``)."""

from __future__ import annotations

from giftcash.service.deps import Deps
from giftcash.service.ports.records import HeldSale
from giftcash.stops.filing import hold_covered

MAX_STOPS_PER_PASS = 200


def freeze(deps: Deps, limit: int = MAX_STOPS_PER_PASS) -> int:
    """Record and freeze what the active stops cover and have not recorded; answers how
    many items were newly recorded. One transaction; nothing to do costs one read."""
    with deps.reader() as uow:
        if not uow.stops.active(1):
            return 0
    now = deps.clock.now()
    recorded = 0
    with deps.uow() as uow:
        for stop in uow.stops.active(limit):
            recorded += len(hold_covered(uow, stop, now, unlinked_only=True))
        if recorded:
            uow.commit()
    return recorded


def held_sales(deps: Deps, customer_id: str) -> dict[str, HeldSale]:
    """The customer's items an active stop holds (item id -> the first stop holding it)."""
    with deps.reader() as uow:
        rows = uow.stops.held_sales(customer_id)
    out: dict[str, HeldSale] = {}
    for h in rows:
        out.setdefault(h.item_id, h)
    return out
