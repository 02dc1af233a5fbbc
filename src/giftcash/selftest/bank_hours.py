"""The bank-hours scenario of ``giftcash selftest``: the bank simulator closes the
customers' bank for a few seconds (its fault mode), while our calendar knows only the
first half of that window (the bank extended its maintenance without telling us). An
in-process worker drains a batch through it: in the half we know, no payout is attempted;
in the half we do not, the bank refuses as closed and the payouts wait for the reopening
it announced; after the window every payout is sent.

Checked from the bank simulator's own transfer records: no payout transfer is dated
inside the window, and each payout was sent once (the end checks' double payouts: one
transfer per id, no transfer we hold no id for, nobody paid more than their items)."""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from giftcash.bootstrap import build_deps, make_engine_from_settings
from giftcash.entrypoints.worker import Worker
from giftcash.payouts import bank_hours
from giftcash.selftest.checks import EndCheck, check_world, unsettled_now
from giftcash.selftest.registry import Context, Row, scenario
from giftcash.selftest.stack import BANK_CODE, Simulators, populate, provision, settings_for


@dataclass(frozen=True)
class BankHoursPlan:
    items: int = 40
    window_s: float = 6.0  # the bank's whole window; we know its first half
    lead_s: float = 0.5  # from setting the window to its start (the worker starts then)
    settle_s: float = 60.0


QUICK = BankHoursPlan()
LONG = BankHoursPlan(items=200, window_s=12.0, settle_s=120.0)


@scenario("bank-hours", order=25)
def bank_hours_scenario(ctx: Context) -> Row:
    """Payouts wait out a bank's window (known, then announced only by refusing), once."""
    return run_bank_hours(ctx, LONG if ctx.long else QUICK)[0]


def run_bank_hours(ctx: Context, plan: BankHoursPlan) -> tuple[Row, EndCheck]:
    rng = random.Random(ctx.seed)
    root = ctx.workdir
    root.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    sims = Simulators(root)
    db = engine = None
    check: EndCheck | None = None
    kept = None
    refusals = in_window = 0
    try:
        db = provision(ctx.database_url, root)
        settings = settings_for(db, sims, root / "data")
        engine = make_engine_from_settings(settings)
        deps = build_deps(settings, engine=engine, fast_passwords=True)
        deps.limits = dataclasses.replace(deps.limits, bank_closed_retry_s=2)
        batch = populate(deps, sims, rng, item_count=plan.items)  # accounts verified first
        starts = datetime.now(UTC) + timedelta(seconds=plan.lead_s)
        ends = starts + timedelta(seconds=plan.window_s)
        known_until = starts + timedelta(seconds=plan.window_s / 2)
        window = {"bank_code": BANK_CODE, "starts_at": starts.isoformat()}
        sims.bank_hours(maintenance=[{**window, "ends_at": ends.isoformat()}])
        bank_hours.add_maintenance(deps, "system:selftest", BANK_CODE, starts, known_until, "")
        ctx.progress(f"bank-hours: {batch.items} items, bank {BANK_CODE} closed {plan.window_s}s")
        time.sleep(max((starts - datetime.now(UTC)).total_seconds(), 0.0))  # all of it waits
        worker = Worker(deps, concurrency=8, per_issuer=8, batch=32)
        stop = threading.Event()
        thread = threading.Thread(target=worker.run, args=(stop,), name="selftest-worker")
        thread.start()
        settled = False
        try:
            deadline = time.monotonic() + plan.settle_s
            while time.monotonic() < deadline:
                if datetime.now(UTC) > ends and unsettled_now(engine) == 0:
                    settled = True
                    break
                time.sleep(0.25)
        finally:
            stop.set()
            thread.join(timeout=60)
            worker.close()
        said = sims.http.get(f"{sims.bank_url}/sim/faults/bank-hours").json()
        refusals = int(said["closed_refusals"])
        transfers = sims.http.get(f"{sims.bank_url}/sim/transfers").json()["transfers"]
        in_window = sum(
            1
            for x in transfers
            if x["amount"] > 1 and starts <= datetime.fromisoformat(x["at"]) < ends
        )
        sims.clear_faults()
        ctx.progress(f"bank-hours: settled={settled}, {refusals} refusals as closed")
        check = check_world(engine, db.url, sims, deps.vault)
    finally:
        if engine is not None:
            engine.dispose()
        sims.stop()
        if db is not None:
            kept = db.finish(keep=check is None or not check.clean or in_window > 0)
    assert check is not None
    row = Row(
        f"bank-hours ({ctx.backend})",
        items=check.items,
        faults=refusals,
        double_redemptions=check.double_redemptions,
        double_payouts=check.double_payouts,
        lost_won=check.lost_won,
        invariant_breaks=check.invariant_breaks + in_window,
        unsettled=check.unsettled,
        # a run in which the bank never refused did not test the window we did not know
        harness_errors=check.check_errors + (refusals == 0),
        seconds=time.monotonic() - began,
        notes=[
            f"seed {ctx.seed}",
            *([kept] if kept else []),
            f"{refusals} deposits refused as closed; {in_window} payouts sent inside the window",
            *check.notes,
        ],
    )
    return row, check
