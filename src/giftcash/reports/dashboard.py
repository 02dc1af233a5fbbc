"""The dashboard's figures: each day's sales, captures and declines, the queues an operator
watches, how long payouts took, the exposure per issuer and the worker's state.
Read-only.

Days are the exchange's calendar days (the jurisdiction pack's time zone), as the
velocity limits count them. Latencies are seconds (not money, so floats are fine); the
p95 is the nearest-rank value, so it is always a latency that really happened.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from giftcash.catalogue import live as catalogue
from giftcash.domain.advisor import local_date, start_of
from giftcash.domain.policy import day_bounds
from giftcash.ops import health
from giftcash.reports import volume as reports
from giftcash.service.deps import Deps

DASHBOARD_DAYS = 14
# bought: redeemed at the issuer, or (resale) verified and stocked; then paying or paid
CAPTURED = frozenset({"redeemed", "stocked", "paying", "paid"})
REJECTED = frozenset({"declined", "invalid"})
# The queues an operator watches: (kind, status).
QUEUES = (
    ("item", "received"),
    ("item", "review"),
    ("item", "redeeming"),
    ("payout", "pending"),
    ("payout", "sent"),
)
# Upper bounds (seconds) of the payout latency histogram's buckets; the last is open.
LATENCY_BUCKETS_S = (60, 300, 900, 3600, 4 * 3600)
# -- the dashboard ---------------------------------------------------------------------------


@dataclass
class DayFigures:
    day: date
    received: int = 0
    declined: int = 0  # declined by policy or review, or invalid at the issuer
    captured: int = 0  # redeemed at the issuer or stocked for resale (then paying or paid)
    paid: int = 0
    face_value: int = 0  # of the captured items
    payout: int = 0  # of the captured items

    @property
    def margin(self) -> int:
        return self.face_value - self.payout

    @property
    def margin_bps(self) -> int | None:
        # floor: it describes, it does not charge
        return self.margin * 10_000 // self.face_value if self.face_value else None


@dataclass(frozen=True)
class Queue:
    kind: str  # item | payout
    status: str
    count: int
    oldest_at: datetime | None


@dataclass(frozen=True)
class Latency:
    count: int
    median_s: float | None
    p95_s: float | None
    buckets: tuple[int, ...]  # counts per LATENCY_BUCKETS_S bucket, plus the open one


@dataclass(frozen=True)
class Dashboard:
    now: datetime
    currency: str
    days: list[DayFigures]  # oldest first; the last one is today
    items_by_status: dict[str, int]
    payouts_by_status: dict[str, int]
    queues: list[Queue]
    latency: Latency
    exposure: list[reports.Exposure]
    worker: str  # ok | missing | stale

    @property
    def today(self) -> DayFigures:
        return self.days[-1]


def percentile_nearest_rank(values: list[float], pct: int) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct * len(ordered) / 100))
    return ordered[rank - 1]


def latency(values_s: list[float]) -> Latency:
    buckets = [0] * (len(LATENCY_BUCKETS_S) + 1)
    for v in values_s:
        i = next((n for n, top in enumerate(LATENCY_BUCKETS_S) if v < top), len(buckets) - 1)
        buckets[i] += 1
    return Latency(
        count=len(values_s),
        median_s=statistics.median(values_s) if values_s else None,
        p95_s=percentile_nearest_rank(values_s, 95),
        buckets=tuple(buckets),
    )


def _days(deps: Deps, rules: Any, now: datetime, n_days: int) -> list[DayFigures]:
    today = local_date(now, rules.tz)
    first = today - timedelta(days=n_days - 1)
    _, end = day_bounds(rules, now)
    with deps.reader() as uow:
        items = uow.figures.items_between(start_of(first, rules.tz), end)
    days = {first + timedelta(days=i): DayFigures(first + timedelta(days=i)) for i in range(n_days)}
    for it in items:
        d = days.get(local_date(it["created_at"], rules.tz))
        if d is None or it["currency"] != rules.currency:
            continue
        d.received += 1
        if it["status"] in REJECTED:
            d.declined += 1
        if it["status"] in CAPTURED:
            d.captured += 1
            d.face_value += it["face_value"]
            d.payout += it["payout"]
        if it["status"] == "paid":
            d.paid += 1
    return [days[k] for k in sorted(days)]


def dashboard(deps: Deps, *, n_days: int = DASHBOARD_DAYS) -> Dashboard:
    now = deps.clock.now()
    rules = catalogue.current_rules(deps, deps.jurisdiction)
    state = health.state_figures(deps)
    start, end = day_bounds(rules, now)
    with deps.reader() as uow:
        latencies = uow.figures.payout_latencies_s(start, end)
    oldest = {"item": state["item_oldest"], "payout": state["payout_oldest"]}
    counts = {"item": state["items"], "payout": state["payouts"]}
    worker = health.readiness(deps).checks.get("worker", "missing")
    return Dashboard(
        now=now,
        currency=rules.currency,
        days=_days(deps, rules, now, n_days),
        items_by_status=state["items"],
        payouts_by_status=state["payouts"],
        queues=[
            Queue(kind, status, counts[kind].get(status, 0), oldest[kind].get(status))
            for kind, status in QUEUES
        ],
        latency=latency(latencies),
        exposure=reports.exposure(deps),
        worker=worker.partition(":")[0],
    )
