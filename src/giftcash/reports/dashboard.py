"""What the operator console reads: the dashboard's figures, the evidence beside each item
in review, customers with their items, holds, flags and limits. Read-only; every change
an operator makes goes through ``service.admin`` or ``service.ops`` (audited there).

Days are the exchange's calendar days (the jurisdiction pack's time zone), as the
velocity limits count them. Latencies are seconds (not money, so floats are fine); the
p95 is the nearest-rank value, so it is always a latency that really happened.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from giftcash.catalogue import live as catalogue
from giftcash.domain.advisor import local_date, start_of
from giftcash.domain.banks import same_holder
from giftcash.domain.policy import day_bounds
from giftcash.domain.records import BankAccount
from giftcash.ops import health
from giftcash.reports import volume as reports
from giftcash.review import queue as review
from giftcash.service import errors
from giftcash.service.deps import Deps
from giftcash.service.ports.records import RowView

DASHBOARD_DAYS = 14
CAPTURED = frozenset({"redeemed", "paying", "paid"})
REJECTED = frozenset({"declined", "invalid"})
ITEM_TERMINAL = frozenset({"paid", "declined", "invalid", "failed"})
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
MIN_PHONE_DIGITS = 4
MAX_RESULTS = 50
CUSTOMER_ITEMS = 50
CUSTOMER_PAYOUTS = 20


class CustomerNotFound(errors.NotFound):
    code = "customer_not_found"


# -- the dashboard ---------------------------------------------------------------------------


@dataclass
class DayFigures:
    day: date
    received: int = 0
    declined: int = 0  # declined by policy or review, or invalid at the issuer
    captured: int = 0  # redeemed at the issuer (then paying or paid)
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
        latencies = uow.console.payout_latencies_s(start, end)
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


# -- the review queue ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewCase:
    """One item in review with everything a reviewer weighs (masked code only)."""

    entry: review.ReviewEntry
    findings: list[dict[str, Any]]  # rule_id, outcome, code: every rule that had a say
    decision_code: str | None
    warning: str | None  # what the customer was shown
    purchased_at: datetime | None  # as the issuer reports it
    bought_minutes_before: int | None  # purchase to submission
    holder_matches: bool

    @property
    def item(self) -> dict[str, Any]:
        return self.entry.item


def review_cases(deps: Deps, *, cursor: str | None, limit: int) -> list[ReviewCase]:
    entries = review.review_queue(deps, cursor=cursor, limit=limit)
    with deps.reader() as uow:
        evidence = uow.console.review_evidence([e.item["id"] for e in entries])
    out = []
    for e in entries:
        ev = evidence.get(e.item["id"], {})
        decision = ev.get("decision") or {}
        bought = ev.get("issuer_purchased_at")
        before = None
        if bought is not None:
            before = max(int((e.item["created_at"] - bought).total_seconds() // 60), 0)
        out.append(
            ReviewCase(
                entry=e,
                findings=list(decision.get("findings") or []),
                decision_code=decision.get("code"),
                warning=ev.get("warning"),
                purchased_at=bought,
                bought_minutes_before=before,
                holder_matches=same_holder(e.account["holder_name"], e.customer["name"]),
            )
        )
    return out


def recent_decisions(deps: Deps, *, limit: int = 10) -> list[dict[str, Any]]:
    """Items operators decided, latest first, with where each is now."""
    with deps.reader() as uow:
        rows = uow.console.recently_reviewed(limit)
        names = uow.console.customer_names([r["customer_id"] for r in rows])
    return [{**r, "customer_name": names.get(r["customer_id"], "")} for r in rows]


# -- customers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerSummary:
    id: str
    name: str
    phone: str
    age_band: str
    verified: bool
    status: str
    created_at: datetime


def _summary(row: RowView, today: date) -> CustomerSummary:
    return CustomerSummary(
        id=row["id"],
        name=row["name"],
        phone=row["phone"],
        age_band=review.age_band(row["birth_date"], today),
        verified=row["phone_verified_at"] is not None,
        status=row["status"],
        created_at=row["created_at"],
    )


def find_customers(deps: Deps, query: str) -> list[CustomerSummary]:
    """By the last digits of the phone number (at least four) or by a part of the name."""
    q = " ".join(query.split())[:50]
    digits = q.replace("-", "").replace(" ", "")
    if not q:
        return []
    if digits.isdigit():
        if len(digits) < MIN_PHONE_DIGITS:
            raise errors.InvalidInput(
                f"search by at least {MIN_PHONE_DIGITS} digits of the phone number", field="q"
            )
        by = {"phone_suffix": digits, "name": None}
    else:
        by = {"phone_suffix": None, "name": q}
    with deps.reader() as uow:
        rows = uow.console.find_customers(**by, limit=MAX_RESULTS)
    today = deps.clock.now().date()
    return [_summary(r, today) for r in rows]


@dataclass(frozen=True)
class Limits:
    currency: str
    items_today: int
    value_today: int
    max_items: int
    max_value: int


@dataclass(frozen=True)
class CustomerRecord:
    customer: CustomerSummary
    account_age_days: int
    accounts: list[BankAccount]
    items: list[RowView]  # newest first (masked codes only)
    items_by_status: dict[str, int]
    holds: list[RowView]  # items whose payout waits for a hold
    flagged: list[RowView]  # items with flags or a review reason
    payouts: list[RowView]
    limits: Limits
    prior_sales: int
    prior_payout: int
    holder_matches: dict[str, bool] = field(default_factory=dict)  # account id -> name match


def customer_record(deps: Deps, customer_id: str) -> CustomerRecord:
    now = deps.clock.now()
    rules = catalogue.current_rules(deps, deps.jurisdiction)
    start, _ = day_bounds(rules, now)
    with deps.reader() as uow:
        customer = uow.customers.get(customer_id)
        if customer is None:
            raise CustomerNotFound("no such customer")
        accounts = uow.bank_accounts.for_customer(customer_id)
        items = uow.console.customer_items(customer_id, CUSTOMER_ITEMS)
        by_status = uow.console.customer_items_by_status(customer_id)
        payouts = uow.console.customer_payouts(customer_id, CUSTOMER_PAYOUTS)
        items_today, value_today = uow.items.day_totals(customer_id=customer_id, since=start)
        prior_sales, prior_payout = uow.review.prior_sales([customer_id]).get(customer_id, (0, 0))
    row = {
        "id": customer.id,
        "name": customer.name,
        "phone": customer.phone,
        "birth_date": customer.birth_date,
        "status": customer.status,
        "phone_verified_at": customer.phone_verified_at,
        "created_at": customer.created_at,
    }
    p = rules.params
    return CustomerRecord(
        customer=_summary(row, now.date()),
        account_age_days=max((now - customer.created_at).days, 0),
        accounts=accounts,
        items=items,
        items_by_status=by_status,
        holds=[
            i
            for i in items
            if i["hold_until"] is not None
            and i["hold_until"] > now
            and i["status"] not in ITEM_TERMINAL | {"review"}  # in review: nothing is paid
            and i["reviewed_at"] is None  # an approval replaces the first-sale hold
        ],
        flagged=[i for i in items if i["flags"] or i["review_reason"]],
        payouts=payouts,
        limits=Limits(
            p.currency,
            items_today,
            value_today,
            p.customer_max_items_per_day,
            p.customer_max_value_per_day,
        ),
        prior_sales=prior_sales,
        prior_payout=prior_payout,
        holder_matches={a.id: same_holder(a.holder_name, customer.name) for a in accounts},
    )
