"""Fault runs: the issuer and bank simulators answer 503 before doing anything, hang past
the client's timeout (before or after doing the work), and lose answers of work they did
(a 503 on one simulator, a connection dropped mid-answer on the other; the seed picks
which), at a combined rate of 25%; an in-process worker drains the batch; customers add
bank accounts meanwhile (1-won deposits under the same faults); then the end checks.

The adapters' HTTP timeout (0.4 s) is shorter than the simulators' injected hang (1.5 s),
so every hang is a client timeout: an ambiguous outcome the pipeline must settle by
inquiry. Backoff is shortened so a quick run drains in seconds."""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from dataclasses import dataclass

from giftcash.bootstrap import build_deps, make_engine_from_settings
from giftcash.entrypoints.worker import Worker
from giftcash.selftest.checks import EndCheck, check_world, unsettled_now
from giftcash.selftest.registry import Context, Row
from giftcash.selftest.stack import (
    Simulators,
    make_customer,
    populate,
    provision,
    settings_for,
)


@dataclass(frozen=True)
class FaultPlan:
    items: int = 300
    # customers who add their bank account while the bank fails: the 1-won deposits are
    # money calls too (ambiguous answers settled by the worker's sweeper)
    late_customers: int = 12
    error_rate: float = 0.08
    timeout_rate: float = 0.04
    timeout_after_work_rate: float = 0.05
    lost_answer_rate: float = 0.08
    latency_ms: tuple[int, int] = (2, 10)
    injected_timeout_ms: int = 1500
    http_timeout_s: float = 0.4
    settle_s: float = 90.0
    concurrency: int = 16
    per_issuer: int = 8
    batch: int = 32

    @property
    def combined_rate(self) -> float:
        return sum(
            (
                self.error_rate,
                self.timeout_rate,
                self.timeout_after_work_rate,
                self.lost_answer_rate,
            )
        )


def run_faults(ctx: Context, plan: FaultPlan = FaultPlan()) -> tuple[Row, EndCheck]:
    rng = random.Random(ctx.seed)
    root = ctx.workdir
    root.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    sims = Simulators(root)
    db = engine = None
    check: EndCheck | None = None
    kept = None
    injected: dict[str, dict[str, int]] = {}
    try:
        db = provision(ctx.database_url, root)
        settings = settings_for(db, sims, root / "data", http_timeout_s=plan.http_timeout_s)
        engine = make_engine_from_settings(settings)
        deps = build_deps(settings, engine=engine, fast_passwords=True)
        deps.limits = dataclasses.replace(
            deps.limits, lease_s=10, backoff_base_s=0.02, backoff_cap_s=0.5
        )
        batch = populate(deps, sims, rng, item_count=plan.items)
        modes = ["status", "drop"]
        rng.shuffle(modes)
        for kind, mode in zip(("issuer", "bank"), modes, strict=True):
            sims.faults(
                kind,
                latency_ms=plan.latency_ms[0],
                latency_jitter_ms=plan.latency_ms[1],
                error_rate=plan.error_rate,
                timeout_rate=plan.timeout_rate,
                timeout_after_work_rate=plan.timeout_after_work_rate,
                lost_answer_rate=plan.lost_answer_rate,
                lost_answer_mode=mode,
                timeout_ms=plan.injected_timeout_ms,
                seed=rng.randrange(2**31),
            )
        ctx.progress(f"faults: {batch.items} items, lost answers issuer/bank: {modes}")
        worker = Worker(
            deps, concurrency=plan.concurrency, per_issuer=plan.per_issuer, batch=plan.batch
        )
        stop = threading.Event()
        thread = threading.Thread(target=worker.run, args=(stop,), name="selftest-worker")
        thread.start()
        settled = False
        try:
            late = [
                make_customer(deps, sims, 1000 + n, tries=50) for n in range(plan.late_customers)
            ]
            ctx.progress(
                f"faults: {sum(c is not None for c in late)} of {len(late)} customers who"
                " added an account during the faults got the 1-won deposit"
            )
            deadline = time.monotonic() + plan.settle_s
            while time.monotonic() < deadline:
                if unsettled_now(engine) == 0:
                    settled = True
                    break
                time.sleep(0.25)
        finally:
            stop.set()
            thread.join(timeout=60)
            worker.close()
        injected = {kind: sims.fault_counts(kind) for kind in ("issuer", "bank")}
        sims.clear_faults()
        ctx.progress(f"faults: settled={settled} in {time.monotonic() - began:.1f}s")
        check = check_world(engine, db.url, sims, deps.vault)
    finally:
        if engine is not None:
            engine.dispose()
        sims.stop()
        if db is not None:
            kept = db.finish(keep=check is None or not check.clean)
    faults_total = sum(n for c in injected.values() for k, n in c.items() if k != "requests")
    requests = sum(c.get("requests", 0) for c in injected.values())
    assert check is not None
    row = Row(
        f"faults ({ctx.backend})",
        items=check.items,
        faults=faults_total,
        double_redemptions=check.double_redemptions,
        double_payouts=check.double_payouts,
        lost_won=check.lost_won,
        invariant_breaks=check.invariant_breaks,
        unsettled=check.unsettled,
        harness_errors=check.check_errors,
        seconds=time.monotonic() - began,
        notes=[
            f"seed {ctx.seed}",
            *([kept] if kept else []),
            f"{faults_total} faults in {requests} issuer and bank calls: {injected}",
            *check.notes,
        ],
    )
    return row, check
