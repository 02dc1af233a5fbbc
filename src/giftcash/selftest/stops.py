"""Payment stops (지급정지) against the issuer and bank simulators, with workers running:

1. a stop by account, by customer and by code, each filed while that customer's items
   are in flight (some being asked about, some at the issuer, some paid out): from the
   stop's commit until its release, the simulators record no redemption and no transfer
   of anything in the stop's set, except the calls the stop itself found in flight (they
   were claimed before it); its tracing export lists every item of the set; a release
   pays them once (every item paid, one transfer per payout), a settlement pays nothing;
2. a stop naming an account nobody has used yet: recorded, it matches nothing; the
   customer who adds that account later sells, nothing is redeemed or paid until the
   release, then paid once;
3. a stop and its release racing worker passes, again and again (two workers, filing
   and releasing from another thread at random moments): the same window rule holds.

Then the end checks of ``checks.run_checks`` from both sides (double redemptions and
payouts, lost won, the ledger and ``giftcash ledger check``). Every figure must be 0."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, or_, select

from giftcash.adapters.db import tables as t
from giftcash.adapters.db.stop_filters import item_stopped
from giftcash.identity.operators import Operator
from giftcash.selftest.checks import EndCheck, unsettled_now
from giftcash.selftest.races import RacePlan, Stack, end_checks, race_stack
from giftcash.selftest.registry import Context, Row
from giftcash.selftest.stack import BANK_CODE, Customer, buy, make_customer, submit
from giftcash.stops import filing, tracing

STAFF = Operator("selftest-finance", "selftest-finance", "finance")
BANK = Operator("selftest-bank", "selftest-bank", "stop_requester")
LIVE_ITEMS = ("received", "review", "redeeming", "redeemed", "stocked", "paying")


@dataclass(frozen=True)
class StopPlan:
    items_per_customer: int = 4
    race_cycles: int = 6
    settle_s: float = 180.0  # an upper bound: a loaded machine (CI, two cores) is slow
    lease_s: float = 2.0
    latency_ms: int = 60  # the simulators' answer time (and as much again of jitter)


@dataclass
class StopReport:
    items: int = 0
    stops: int = 0
    after_ack: int = 0  # simulator records of a stopped set while it was stopped
    untraced: int = 0  # items of a set missing from its tracing export
    release_unpaid: int = 0  # items of a released set not paid once
    settle_paid: int = 0  # items of a settled set paid anyway
    unknown_account_matched: int = 0  # the unknown account's stop matched something at once
    found: Counter[str] = field(default_factory=Counter)  # what the stops found, summed
    harness_errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    check: EndCheck = field(default_factory=EndCheck)


def _aware(moment: str | datetime) -> datetime:
    at = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return at if at.tzinfo else at.replace(tzinfo=UTC)


@contextmanager
def _workers(st: Stack, n: int) -> Iterator[None]:
    from giftcash.entrypoints.worker import Worker

    workers = [
        Worker(
            st.deps,
            worker_id=f"stops-worker-{i}",
            concurrency=4,
            per_issuer=4,
            batch=8,
            idle_sleep_s=0.02,
            cases_every_s=None,
        )
        for i in range(n)
    ]
    stop = threading.Event()
    threads = [threading.Thread(target=w.run, args=(stop,), daemon=True) for w in workers]
    for th in threads:
        th.start()
    try:
        yield
    finally:
        stop.set()
        for th in threads:
            th.join(timeout=60)
        for w in workers:
            w.close()


def _busy(engine: Engine) -> int:
    """Items and payouts a worker still has to move, not counting what a stop holds."""
    i, p = t.items.c, t.payouts.c
    now = datetime.now(UTC)
    with engine.connect() as conn:
        items = conn.execute(
            select(func.count()).where(
                i.status.in_(LIVE_ITEMS),
                or_(~item_stopped(t.items), i.lease_expires_at > now),
            )
        ).scalar_one()
        payouts = conn.execute(
            select(func.count()).where(p.status.in_(("pending", "sending", "unknown", "sent")))
        ).scalar_one()
    return int(items) + int(payouts)


def _wait(engine: Engine, settle_s: float, *, all_done: bool = False) -> bool:
    deadline = time.monotonic() + settle_s
    while time.monotonic() < deadline:
        if (unsettled_now(engine) if all_done else _busy(engine)) == 0:
            return True
        time.sleep(0.1)
    return False


def _sim_records(st: Stack) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    sims = st.sims
    redemptions = sims.http.get(f"{sims.issuer_url}/sim/redemptions").json()["redemptions"]
    transfers = sims.http.get(f"{sims.bank_url}/sim/transfers").json()["transfers"]
    return redemptions, transfers


def _window_breaks(st: Stack, stop_id: str, out: StopReport) -> int:
    """Simulator records of the stop's set made while it was active, except the calls it
    found in flight (claimed before its commit)."""
    detail = filing.get_stop(st.deps, STAFF, stop_id)
    s = detail.stop
    start, end = s.created_at, s.closed_at or datetime.now(UTC)
    allowed_items = {x.item_id for x in detail.links if x.finding in ("in_flight", "in_doubt")}
    allowed_payouts = {
        x.payout_id for x in detail.links if x.finding in ("in_flight", "in_doubt") and x.payout_id
    }
    item_ids = {x.item_id for x in detail.links}
    with st.engine.connect() as conn:
        i, p = t.items.c, t.payouts.c
        keys = {f"rdm_{item_id}": item_id for item_id in item_ids}
        payouts = dict(
            conn.execute(
                select(p.bank_tran_id, p.id).where(
                    p.id.in_(select(i.payout_id).where(i.id.in_(item_ids)))
                )
            ).all()
        )
    redemptions, transfers = _sim_records(st)
    bad = 0
    for r in redemptions:
        item_id = keys.get(r["idempotency_key"])
        if item_id and start < _aware(r["at"]) < end and item_id not in allowed_items:
            bad += 1
    for x in transfers:
        payout_id = payouts.get(x["bank_tran_id"])
        if payout_id and start < _aware(x["at"]) < end and payout_id not in allowed_payouts:
            bad += 1
    if bad:
        out.notes.append(f"stop {stop_id}: {bad} calls of its set while it was active")
    return bad


def _untraced(st: Stack, stop_id: str) -> int:
    detail = filing.get_stop(st.deps, STAFF, stop_id)
    report = tracing.export(st.deps, BANK, stop_id, fmt="json")
    traced = {row["item_id"] for row in json.loads(report.content)["chain"]}
    return len({x.item_id for x in detail.links} - traced)


def _statuses(st: Stack, stop_id: str) -> dict[str, str]:
    detail = filing.get_stop(st.deps, STAFF, stop_id)
    ids = [x.item_id for x in detail.links]
    with st.engine.connect() as conn:
        q = select(t.items.c.id, t.items.c.status).where(t.items.c.id.in_(ids))
        return {str(item_id): str(status) for item_id, status in conn.execute(q)}


def _held_then_paid(st: Stack, stop_id: str) -> int:
    """Items a settled stop held (nothing in flight) that were paid all the same."""
    held = {
        x.item_id for x in filing.get_stop(st.deps, STAFF, stop_id).links if x.finding == "held"
    }
    return sum(1 for i, s in _statuses(st, stop_id).items() if i in held and s == "paid")


def _paid_once(st: Stack, stop_id: str) -> int:
    """Items of a released stop that are not paid, plus payouts moved more than once."""
    statuses = _statuses(st, stop_id)
    unpaid = sum(1 for s in statuses.values() if s not in ("paid", "declined", "invalid"))
    with st.engine.connect() as conn:
        ids = list(statuses)
        tran_ids = set(
            conn.scalars(
                select(t.payouts.c.bank_tran_id).where(
                    t.payouts.c.id.in_(select(t.items.c.payout_id).where(t.items.c.id.in_(ids)))
                )
            )
        )
    _, transfers = _sim_records(st)
    moved: dict[str, int] = {}
    for x in transfers:
        if x["bank_tran_id"] in tran_ids and x["status"] in ("done", "pending"):
            moved[x["bank_tran_id"]] = moved.get(x["bank_tran_id"], 0) + 1
    return unpaid + sum(n - 1 for n in moved.values())


def _request(scope: str, **subject: str) -> filing.StopRequest:
    return filing.StopRequest(
        scope=scope,
        requester="bank",
        requester_name="selftest bank fraud desk",
        requester_contact="1588-0000",
        reference=f"SELFTEST-{scope}",
        reason="phishing proceeds (selftest)",
        **subject,
    )


def _vouchers(st: Stack, n: int) -> list[dict[str, Any]]:
    """Small vouchers: a customer's first day stays under the first-sale hold."""
    return buy(st.sims, "cultureland", 2_000, n)


def _one_scope(
    st: Stack,
    plan: StopPlan,
    rng: random.Random,
    out: StopReport,
    c: Customer,
    scope: str,
    *,
    settle: bool,
) -> None:
    vouchers = _vouchers(st, plan.items_per_customer)
    out.items += submit(st.deps, c, vouchers)
    time.sleep(rng.uniform(0.0, 0.6))  # the items are somewhere in the pipeline now
    subject: dict[str, str] = {
        "account": {"bank_code": BANK_CODE, "account_number": c.account_number},
        "customer": {"customer_id": c.id},
        "code": {"code": vouchers[0]["code"]},
    }[scope]
    detail = filing.file_stop(st.deps, BANK, _request(scope, **subject))
    out.stops += 1
    out.found.update(detail.found)
    out.notes.append(f"{scope} stop found {detail.found}")
    if not _wait(st.engine, plan.settle_s):
        out.harness_errors.append(f"{scope}: the pipeline did not come to rest")
    out.untraced += _untraced(st, detail.stop.id)
    if settle:
        filing.settle_stop(st.deps, STAFF, detail.stop.id, "returned to the victim (selftest)")
        _wait(st.engine, plan.settle_s, all_done=True)
        out.after_ack += _window_breaks(st, detail.stop.id, out)
        out.settle_paid += _held_then_paid(st, detail.stop.id)
    else:
        filing.release_stop(st.deps, STAFF, detail.stop.id, "no fraud found (selftest)")
        if not _wait(st.engine, plan.settle_s, all_done=True):
            out.harness_errors.append(f"{scope}: the release did not settle")
        out.after_ack += _window_breaks(st, detail.stop.id, out)
        out.release_unpaid += _paid_once(st, detail.stop.id)


def _unknown_account(st: Stack, plan: StopPlan, out: StopReport, n: int) -> None:
    number = f"41{n:011d}"  # the account make_customer(n) opens, unknown until then
    detail = filing.file_stop(
        st.deps, BANK, _request("account", bank_code=BANK_CODE, account_number=number)
    )
    out.stops += 1
    out.unknown_account_matched += len(detail.links)
    c = make_customer(st.deps, st.sims, n)
    assert c is not None, "the 1-won deposit did not arrive"
    sold = submit(st.deps, c, _vouchers(st, plan.items_per_customer))
    out.items += sold
    if not _wait(st.engine, plan.settle_s):
        out.harness_errors.append("unknown account: the pipeline did not come to rest")
    # the worker's pass records the sales the stop holds (a visible hold, and traced)
    deadline = time.monotonic() + plan.settle_s
    while len(filing.get_stop(st.deps, STAFF, detail.stop.id).links) < sold:
        if time.monotonic() > deadline:
            out.untraced += sold - len(filing.get_stop(st.deps, STAFF, detail.stop.id).links)
            break
        time.sleep(0.05)
    out.untraced += _untraced(st, detail.stop.id)
    filing.release_stop(st.deps, STAFF, detail.stop.id, "account holder verified (selftest)")
    if not _wait(st.engine, plan.settle_s, all_done=True):
        out.harness_errors.append("unknown account: the release did not settle")
    out.after_ack += _window_breaks(st, detail.stop.id, out)
    out.release_unpaid += _paid_once(st, detail.stop.id)


def _racing(st: Stack, plan: StopPlan, rng: random.Random, out: StopReport, c: Customer) -> None:
    stop_ids: list[str] = []
    for _cycle in range(plan.race_cycles):
        out.items += submit(st.deps, c, _vouchers(st, 2))
        time.sleep(rng.uniform(0.0, 0.2))
        detail = filing.file_stop(st.deps, BANK, _request("customer", customer_id=c.id))
        out.stops += 1
        out.found.update(detail.found)
        stop_ids.append(detail.stop.id)
        released = threading.Thread(
            target=filing.release_stop,
            args=(st.deps, STAFF, detail.stop.id, "lifted at once (selftest)"),
        )
        time.sleep(rng.uniform(0.0, 0.1))  # a worker pass runs meanwhile
        released.start()
        released.join(timeout=30)
    if not _wait(st.engine, plan.settle_s, all_done=True):
        out.harness_errors.append("race: the pipeline did not settle")
    for stop_id in stop_ids:
        out.after_ack += _window_breaks(st, stop_id, out)
        out.release_unpaid += _paid_once(st, stop_id)


def run_stops(ctx: Context, plan: StopPlan = StopPlan()) -> tuple[Row, StopReport]:
    rng = random.Random(ctx.seed)
    began = time.monotonic()
    out = StopReport()
    with race_stack(ctx, RacePlan(lease_s=plan.lease_s)) as st:
        people = [make_customer(st.deps, st.sims, n) for n in range(1, 5)]
        if any(p is None for p in people):
            out.harness_errors.append("a 1-won deposit did not arrive")
        else:
            a, b, c, d = (p for p in people if p is not None)
            # slow enough that a stop finds items at every step: being asked about, at
            # the issuer, redeemed, in a payout at the bank
            for kind in ("issuer", "bank"):
                st.sims.faults(
                    kind,
                    latency_ms=plan.latency_ms,
                    latency_jitter_ms=plan.latency_ms,
                    seed=rng.randrange(2**31),
                )
            with _workers(st, 2):
                for who, scope, settle in (
                    (a, "account", False),
                    (b, "customer", False),
                    (c, "code", True),
                ):
                    ctx.progress(f"stops: a stop by {scope} while items are in flight")
                    _one_scope(st, plan, rng, out, who, scope, settle=settle)
                ctx.progress("stops: a stop naming an account nobody has used yet")
                _unknown_account(st, plan, out, 9)
                ctx.progress(f"stops: {plan.race_cycles} stops and releases racing workers")
                _racing(st, plan, rng, out, d)
            out.check = end_checks(st)
    return _row(ctx, out, time.monotonic() - began), out


def _row(ctx: Context, out: StopReport, seconds: float) -> Row:
    check = out.check
    breaks = (
        out.after_ack
        + out.untraced
        + out.release_unpaid
        + out.settle_paid
        + out.unknown_account_matched
    )
    return Row(
        f"stops ({ctx.backend})",
        items=out.items,
        double_redemptions=check.double_redemptions,
        double_payouts=check.double_payouts,
        lost_won=check.lost_won,
        invariant_breaks=check.invariant_breaks + breaks,
        unsettled=check.unsettled,
        harness_errors=len(out.harness_errors) + check.check_errors,
        seconds=seconds,
        notes=[
            f"seed {ctx.seed}",
            f"{out.stops} stops; {out.after_ack} calls while stopped, {out.untraced} untraced,"
            f" {out.release_unpaid} not paid once after release; found {dict(out.found)}",
            *out.harness_errors,
            *out.notes[:12],
            *check.notes,
        ],
    )
