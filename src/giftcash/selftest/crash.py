"""The crash harness: real ``giftcash worker`` processes over one batch of items, killed
with SIGKILL at random moments and started again, until the batch settles; then the end
checks. The issuer and bank simulators answer after 20-80 ms, so a kill often lands
between a foreign call and the commit of its outcome, and the lease is short, so a dead
worker's rows come back within seconds.

Seeded: the batch (brands, face values, who sells what), the simulators' latency draws and
the kill delays come from the seed, so a failing run is replayed with the same seed (the
wall clock still decides exactly which instruction a kill interrupts)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from giftcash.bootstrap import build_deps, make_engine_from_settings
from giftcash.selftest.checks import EndCheck, check_world, unsettled_now
from giftcash.selftest.registry import Context, Row
from giftcash.selftest.stack import (
    Simulators,
    env_for,
    giftcash_command,
    populate,
    provision,
    settings_for,
)

READY_MARK = "running (pid"


@dataclass(frozen=True)
class CrashPlan:
    items: int = 150
    workers: int = 2
    max_kills: int = 30
    kill_after_s: tuple[float, float] = (0.05, 1.0)  # after the worker says it runs
    kill_phase_s: float = 40.0  # then the workers run on, unkilled, to settle the batch
    settle_s: float = 60.0
    lease_s: int = 2
    latency_ms: tuple[int, int] = (20, 60)  # base and jitter: 20-80 ms
    worker_args: tuple[str, ...] = ("--batch", "4", "--concurrency", "4", "--per-issuer", "2")
    # The command that starts one worker, for a test that plants a bug in it.
    worker_command: tuple[str, ...] | None = None


@dataclass
class WorkerProcess:
    proc: subprocess.Popen[bytes]
    log: Path
    started: float
    kill_at: float | None = None
    ready: bool = False

    def is_ready(self) -> bool:
        if not self.ready:
            try:
                self.ready = READY_MARK in self.log.read_text(errors="replace")
            except FileNotFoundError:
                return False
        return self.ready

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class KillLog:
    sigkills: int = 0
    starts: int = 0
    exits: list[int] = field(default_factory=list)  # workers that ended by themselves


class WorkerPool:
    def __init__(self, argv: Sequence[str], env: dict[str, str], logs: Path) -> None:
        self.argv = list(argv)
        self.env = env
        self.logs = logs
        self.record = KillLog()

    def start(self) -> WorkerProcess:
        self.record.starts += 1
        log = self.logs / f"worker-{self.record.starts:04d}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(  # noqa: S603 - our own command line, no shell
                self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        return WorkerProcess(proc, log, time.monotonic())


def run_crash(ctx: Context, plan: CrashPlan = CrashPlan()) -> tuple[Row, EndCheck]:
    """One crash run; answers its summary row and the full end check."""
    rng = random.Random(ctx.seed)
    root = ctx.workdir
    root.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    sims = Simulators(root)
    db = engine = None
    check: EndCheck | None = None
    kept = None
    try:
        db = provision(ctx.database_url, root)
        settings = settings_for(db, sims, root / "data")
        engine = make_engine_from_settings(settings)
        deps = build_deps(settings, engine=engine, fast_passwords=True)
        batch = populate(deps, sims, rng, item_count=plan.items)
        ctx.progress(f"crash: {batch.items} items of {len(batch.customers)} customers submitted")
        for kind in ("issuer", "bank"):
            sims.faults(
                kind,
                latency_ms=plan.latency_ms[0],
                latency_jitter_ms=plan.latency_ms[1],
                seed=rng.randrange(2**31),
            )
        env = env_for(settings, GIFTCASH_LEASE_S=str(plan.lease_s))
        argv = [
            *(plan.worker_command or (giftcash_command(),)),
            "worker",
            "--lease-s",
            str(plan.lease_s),
            *plan.worker_args,
        ]
        logs = root / "logs"
        logs.mkdir(exist_ok=True)
        pool = WorkerPool(argv, env, logs)
        settled = _kill_until_settled(ctx, plan, rng, pool, engine)
        ctx.progress(
            f"crash: {pool.record.sigkills} SIGKILLs, settled={settled},"
            f" {time.monotonic() - began:.1f}s"
        )
        check = check_world(engine, db.url, sims, deps.vault, lease_s=plan.lease_s)
    finally:
        if engine is not None:
            engine.dispose()
        sims.stop()
        if db is not None:
            kept = db.finish(keep=check is None or not check.clean)
    assert check is not None
    row = Row(
        f"crash ({ctx.backend})",
        items=check.items,
        sigkills=pool.record.sigkills,
        recovered=check.recovered,
        double_redemptions=check.double_redemptions,
        double_payouts=check.double_payouts,
        lost_won=check.lost_won,
        invariant_breaks=check.invariant_breaks,
        unsettled=check.unsettled,
        harness_errors=len(pool.record.exits) + check.check_errors,
        seconds=time.monotonic() - began,
        notes=[f"seed {ctx.seed}", *check.notes, *([kept] if kept else [])],
    )
    if pool.record.exits:
        row.notes.append(f"workers that exited by themselves: {pool.record.exits}")
    return row, check


def _kill_until_settled(
    ctx: Context,
    plan: CrashPlan,
    rng: random.Random,
    pool: WorkerPool,
    engine: object,
) -> bool:
    workers = [pool.start() for _ in range(plan.workers)]
    kill_until = time.monotonic() + plan.kill_phase_s
    give_up = kill_until + plan.settle_s
    next_look = 0.0
    settled = False
    try:
        while True:
            now = time.monotonic()
            killing = now < kill_until and pool.record.sigkills < plan.max_kills
            for n, w in enumerate(workers):
                if w.proc.poll() is not None:
                    pool.record.exits.append(w.proc.returncode)
                    workers[n] = pool.start()
                    continue
                if killing and w.kill_at is None and w.is_ready():
                    w.kill_at = now + rng.uniform(*plan.kill_after_s)
                if killing and w.kill_at is not None and now >= w.kill_at:
                    w.kill()
                    pool.record.sigkills += 1
                    workers[n] = pool.start()
            if now >= next_look:
                next_look = now + 0.25
                if unsettled_now(engine) == 0:  # type: ignore[arg-type]
                    settled = True
                    break
            if now > give_up:
                break
            time.sleep(0.02)
    finally:
        for w in workers:
            w.stop()
    return settled
