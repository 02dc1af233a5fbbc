"""Pipeline: items from ``received`` to ``paid`` per second, with the simulators and the
worker as their own processes (``giftcash simulator``, ``giftcash worker``), as they run
in production; the worker's own cost, its passes run in this process against the test
suite's in-memory issuer and bank (``tests/fakes.py``); and scale-out on PostgreSQL with
1, 2 and 4 worker processes.

The items are sold by the issuer simulator, submitted through the service layer with the
worker stopped, and then a worker is started: the clock runs from the first item the
worker claims (its first balance inquiry) to the last one ``paid``. Every run is checked
from the other side: the issuer redeemed each code once and the bank received each payout
once.
"""

from __future__ import annotations

import base64
import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, func, select

from bench import world
from bench.core import (
    ROOT,
    Result,
    Scale,
    fresh_dir,
    fresh_postgres,
    proc_status_kb,
    sqlite_url,
)
from giftcash.adapters.db import migrate, tables
from giftcash.adapters.db.engine import make_engine
from giftcash.bootstrap import build_deps
from giftcash.config import Settings
from giftcash.entrypoints.servers import free_port
from giftcash.entrypoints.worker import Worker
from giftcash.intake import submissions
from giftcash.intake.submissions import ItemIn
from giftcash.service.deps import Deps

GIFTCASH = str(Path(sys.executable).with_name("giftcash"))
LATENCY_MS = 100
ISSUER_CALLS_PER_ITEM = 2  # the balance inquiry before policy, then the redemption
WORKER_CONCURRENCY = 64  # giftcash worker's defaults: 64 calls in flight, 32 per issuer
SCALEOUT_CONCURRENCY = 4  # per worker in the scale-out runs, so 4 workers stay I/O-bound


@dataclass
class Stack:
    folder: Path
    database_url: str
    procs: list[subprocess.Popen] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    workers: list[subprocess.Popen] = field(default_factory=list)
    deps: Deps | None = None
    engine: Engine | None = None
    customer: tuple[str, str] = ("", "")
    submitted: int = 0
    rss0_kb: int = 0

    def start(self) -> Stack:
        ports = {k: free_port() for k in ("issuer", "bank", "sms")}
        self.urls = {k: f"http://127.0.0.1:{p}" for k, p in ports.items()}
        self.env = {
            **os.environ,
            "GIFTCASH_DATABASE_URL": self.database_url,
            "GIFTCASH_DATA_DIR": str(self.folder),
            "GIFTCASH_SECRET_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "GIFTCASH_ISSUER_URL": self.urls["issuer"],
            "GIFTCASH_BANK_URL": self.urls["bank"],
            "GIFTCASH_SMS_URL": self.urls["sms"],
        }
        for kind, port in ports.items():
            self.procs.append(
                self._spawn(
                    kind,
                    "simulator",
                    kind,
                    "--port",
                    str(port),
                    "--data-dir",
                    str(self.folder / f"sim-{kind}"),
                )
            )
        migrate.upgrade(self.database_url)
        for url in self.urls.values():
            _wait(url + "/sim/faults")
        settings = Settings(
            data_dir=self.folder,
            database_url=self.database_url,
            secret_key=self.env["GIFTCASH_SECRET_KEY"],
            issuer_url=self.urls["issuer"],
            bank_url=self.urls["bank"],
            sms_url=self.urls["sms"],
        )
        self.engine = make_engine(self.database_url)
        self.deps = build_deps(settings, engine=self.engine, fast_passwords=True)
        self.customer = self._seller()
        world.open_rules(self.deps)
        return self

    def _spawn(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "w")
        return subprocess.Popen([GIFTCASH, *args], env=self.env, stdout=log, stderr=log)

    def _seller(self) -> tuple[str, str]:
        assert self.deps is not None
        phone, name, number = "010-6000-0001", "박벤치", "2200000001"
        httpx.post(
            self.urls["bank"] + "/sim/accounts",
            json={"bank_code": "004", "account_number": number, "holder_name": name},
        ).raise_for_status()

        def sms_code() -> str:
            import re

            msgs = httpx.get(
                self.urls["sms"] + "/sim/outbox", params={"to": phone.replace("-", "")}
            ).json()["messages"]
            found = re.search(r"\b(\d{6})\b", msgs[-1]["text"])
            assert found is not None
            return found.group(1)

        def memo() -> str:
            txs = httpx.get(f"{self.urls['bank']}/sim/accounts/004/{number}/transactions").json()
            return [t["memo"] for t in txs["transactions"] if t["memo"].startswith("GC")][-1]

        return world.seller(self.deps, phone, name, number, sms_code, memo)

    def faults(self, kind: str, **config: Any) -> None:
        httpx.post(self.urls[kind] + "/sim/faults", json=config).raise_for_status()

    def stage(self, n: int) -> list[str]:
        """Buy ``n`` vouchers (the two brands alternating) and submit them; answers the
        submission ids. The vouchers were bought days ago, as resold vouchers are."""
        assert self.deps is not None
        bought_at = (datetime.now(UTC) - timedelta(days=3)).isoformat()
        per_brand = []
        for b in world.BRANDS:
            r = httpx.post(
                self.urls["issuer"] + "/sim/vouchers",
                json={
                    "brand_id": b,
                    "face_value": 10_000,
                    "purchase_channel": "cash",
                    "purchased_at": bought_at,
                    "count": (n + 1) // 2,
                },
                timeout=120,
            )
            r.raise_for_status()
            per_brand.append(r.json()["vouchers"])
        vouchers = [v for pair in zip(*per_brand, strict=True) for v in pair][:n]
        customer_id, account_id = self.customer
        ids = []
        size = self.deps.limits.max_items_per_submission
        for start in range(0, n, size):
            items = [
                ItemIn(v["brand_id"], v["code"], v["face_value"], "cash", v.get("pin"))
                for v in vouchers[start : start + size]
            ]
            view = submissions.submit(
                self.deps, customer_id, bank_account_id=account_id, items=items
            )
            assert all(it.status == "received" for it in view.items), Counter(
                it.status for it in view.items
            )
            ids.append(view.submission.id)
        self.submitted += n
        return ids

    def start_workers(self, k: int, concurrency: int = WORKER_CONCURRENCY) -> None:
        per_issuer = max(concurrency // 2, 1)
        for _i in range(k):
            self.workers.append(
                self._spawn(
                    f"worker-{len(self.workers) + 1}",
                    "worker",
                    "--worker-id",
                    f"bench-{len(self.workers) + 1}",
                    "--concurrency",
                    str(concurrency),
                    "--per-issuer",
                    str(per_issuer),
                )
            )

    def stop_workers(self) -> list[int]:
        """SIGTERM the workers; answers each one's peak RSS (kB) read just before."""
        peaks = [proc_status_kb(w.pid, "VmHWM") or 0 for w in self.workers]
        for w in self.workers:
            w.send_signal(signal.SIGTERM)
        for w in self.workers:
            try:
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:
                w.kill()
        self.workers = []
        return peaks

    def counts(self, submission_ids: list[str]) -> Counter:
        """Items per status; ``claimed`` counts those a worker has leased at least once
        (an item stays ``received`` while its balance inquiry is in flight)."""
        assert self.engine is not None
        c = tables.items.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(c.status, func.count())
                .where(c.submission_id.in_(submission_ids))
                .group_by(c.status)
            ).all()
            claimed = conn.execute(
                select(func.count()).where(c.submission_id.in_(submission_ids), c.attempts > 0)
            ).scalar_one()
            conn.rollback()
        return Counter({s: n for s, n in rows}) + Counter(claimed=claimed)

    def run_until_paid(
        self, subs: list[str], n: int, timeout_s: float
    ) -> tuple[float | None, int, str]:
        """Poll until every item is paid. Answers (items/s, worker RSS growth kB, note);
        ``self.rss0_kb`` keeps the worker's resident size when it started work."""
        deadline = time.monotonic() + timeout_s
        t0 = None
        rss0 = 0
        note = ""
        while time.monotonic() < deadline:
            counts = self.counts(subs)
            if t0 is None and (counts["claimed"] > 0 or counts["received"] < n):
                t0 = time.perf_counter()
                rss0 = max((proc_status_kb(w.pid, "VmRSS") or 0) for w in self.workers)
                self.rss0_kb = rss0
            if counts["paid"] == n:
                assert t0 is not None
                elapsed = time.perf_counter() - t0
                peak = max(self.stop_workers())
                return n / elapsed, max(peak - rss0, 0), note
            stuck = {s: k for s, k in counts.items() if s in ("declined", "invalid", "failed")}
            if stuck:
                note = f"items left the happy path: {dict(stuck)}"
                break
            time.sleep(0.05)
        self.stop_workers()
        return None, 0, note or f"not all paid in {timeout_s:.0f}s: {dict(self.counts(subs))}"

    def other_side(self) -> tuple[int, int, int]:
        """(redemptions, codes redeemed twice, bank_tran_ids used twice) at the simulators."""
        red = httpx.get(self.urls["issuer"] + "/sim/redemptions", timeout=60).json()
        tr = httpx.get(self.urls["bank"] + "/sim/transfers", timeout=60).json()["transfers"]
        dup_tr = sum(1 for v in Counter(t["bank_tran_id"] for t in tr).values() if v > 1)
        return red["count"], red["codes_redeemed_more_than_once"], dup_tr

    def stop(self) -> None:
        self.stop_workers()
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        if self.engine is not None:
            self.engine.dispose()


def _wait(url: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer in {timeout_s}s")


@dataclass
class InProcess:
    """The worker's own cost: its passes run in this process, the issuer and the bank are
    the test suite's in-memory fakes (``FakeIssuer``, ``FakeBank``), SQLite as configured
    for production. ``n`` items are sold by the fake issuer (bought three days earlier,
    the two brands alternating) and submitted through the service layer; then passes run
    until all are paid."""

    folder: Path
    n: int
    profile: Any = None  # a cProfile.Profile to run during the timed passes only

    def run(self) -> tuple[float, str]:
        """Answers (items/s from the first item leaving ``received`` to the last paid,
        what the fakes recorded)."""
        sys.path.insert(0, str(ROOT / "tests"))
        from fakes import FakeBank, FakeIssuer

        url = sqlite_url(self.folder)
        migrate.upgrade(url)
        engine = make_engine(url)
        issuer, bank, sms = FakeIssuer(), FakeBank(), world.StubSms()
        settings = Settings(data_dir=self.folder, database_url=url)
        deps = build_deps(
            settings, engine=engine, issuer=issuer, bank=bank, sms=sms, fast_passwords=True
        )
        try:
            phone, name, number = "010-6100-0001", "박벤치", "2200000002"
            bank.open("004", number, name)
            customer_id, account_id = world.seller(
                deps,
                phone,
                name,
                number,
                lambda: sms.last_code(phone),
                lambda: bank.memo_to("004", number),
            )
            world.open_rules(deps)
            subs = self._stage(deps, issuer, customer_id, account_id)
            worker = Worker(deps)
            try:
                if self.profile is not None:
                    self.profile.enable()
                started = time.perf_counter()
                while True:
                    worker.run_once()
                    if self._paid(engine, subs) == self.n:
                        break
                    if time.perf_counter() - started > 600:
                        raise TimeoutError("the in-process pipeline did not finish")
                elapsed = time.perf_counter() - started
            finally:
                if self.profile is not None:
                    self.profile.disable()
                worker.close()
            payouts = [t for t in bank.transfers.values() if t["amount"] > 1]
            paid = sum(t["amount"] for t in payouts)
            checked = (
                f"{self.n:,} items in {elapsed:.2f} s; the fake issuer redeemed "
                f"{len(issuer.redemptions):,} codes (each once: "
                f"{issuer.codes_redeemed_twice() == 0 and len(issuer.redemptions) == self.n}); "
                f"the fake bank took {len(payouts)} payouts of {paid:,} won, each "
                f"bank_tran_id once (a dict by id)"
            )
            return self.n / elapsed, checked
        finally:
            engine.dispose()

    def _stage(self, deps: Deps, issuer: Any, customer_id: str, account_id: str) -> list[str]:
        bought_at = datetime.now(UTC) - timedelta(days=3)
        dicts = world.item_dicts(self.n, seed=17)
        for v in dicts:
            b = world.brand(v["brand_id"])
            issuer.sell(b.issuer, v["code"], v["face_value"], "cash", purchased_at=bought_at)
        size = deps.limits.max_items_per_submission
        ids = []
        for start in range(0, self.n, size):
            items = [
                ItemIn(v["brand_id"], v["code"], v["face_value"], "cash")
                for v in dicts[start : start + size]
            ]
            view = submissions.submit(deps, customer_id, bank_account_id=account_id, items=items)
            assert all(it.status == "received" for it in view.items)
            ids.append(view.submission.id)
        return ids

    @staticmethod
    def _paid(engine: Engine, subs: list[str]) -> int:
        c = tables.items.c
        with engine.connect() as conn:
            paid = conn.execute(
                select(func.count()).where(c.submission_id.in_(subs), c.status == "paid")
            ).scalar_one()
            conn.rollback()
        return int(paid)


def run_fakes(scale: Scale, raw_rate: float) -> Result:
    n = 2 * scale.pipeline_n
    with fresh_dir("pipeline-fakes") as folder:
        rate, checked = InProcess(folder, n).run()
    return Result(
        f"pipeline: received to paid, in-process fakes ({n:,} items, SQLite)",
        rate,
        "items/s",
        raw_rate,
        "raw SQL transfer (SQLite)",
        goal_min=0.1,
        note=checked,
    )


def run_sqlite(scale: Scale, raw_rate: float) -> list[Result]:
    """Zero latency vs the raw SQL transfer rate; 100 ms issuer latency vs the ideal."""
    with fresh_dir("pipeline") as folder:
        stack = Stack(folder, sqlite_url(folder)).start()
        try:
            n = scale.pipeline_n
            subs = stack.stage(n)
            stack.start_workers(1)
            zero, growth, note = stack.run_until_paid(subs, n, timeout_s=240)
            rss0 = stack.rss0_kb
            redeemed, twice, dup = stack.other_side()
            checked = f"issuer redeemed {redeemed} (each once: {twice == 0}), bank ids reused {dup}"

            stack.faults("issuer", latency_ms=LATENCY_MS)
            m = scale.latency_n
            subs2 = stack.stage(m)
            stack.start_workers(1)
            slow, _growth2, note2 = stack.run_until_paid(subs2, m, timeout_s=240)
        finally:
            stack.stop()
    ideal = WORKER_CONCURRENCY / (ISSUER_CALLS_PER_ITEM * LATENCY_MS / 1000)
    if zero:
        ideal = min(ideal, zero)
    return [
        Result(
            f"pipeline: received to paid, zero latency ({n:,} items, SQLite)",
            zero,
            "items/s",
            raw_rate,
            "raw SQL transfer (SQLite)",
            goal_min=0.1,
            note="; ".join(x for x in (note, checked) if x),
        ),
        Result(
            f"pipeline: received to paid, issuer latency {LATENCY_MS} ms ({m:,} items)",
            slow,
            "items/s",
            ideal,
            f"ideal {WORKER_CONCURRENCY} calls / ({ISSUER_CALLS_PER_ITEM} x {LATENCY_MS} ms)",
            goal_min=0.9,
            note=note2,
        ),
        Result(
            "memory: worker peak RSS during the pipeline",
            (rss0 + growth) / 1024 if rss0 else None,
            "MB",
            rss0 / 1024 if rss0 else None,
            "the worker when it started work, MB",
            note=f"grew {growth / 1024:.1f} MB while it moved {n:,} items; it holds one claim "
            "per issuer step (4 x its calls in flight) at a time, so the growth does not "
            "scale with the "
            "items moved",
        ),
    ]


def run_scaleout(scale: Scale, server_url: str | None) -> list[Result]:
    if server_url is None:
        return [Result("scale-out (PostgreSQL)", None, "items/s", note="no PostgreSQL server")]
    rates: dict[int, float | None] = {}
    notes = []
    twice_total = 0
    with fresh_postgres(server_url) as url, fresh_dir("scaleout") as folder:
        stack = Stack(folder, url).start()
        try:
            stack.faults("issuer", latency_ms=LATENCY_MS)
            before = 0
            for k in (1, 2, 4):
                n = scale.scaleout_n
                subs = stack.stage(n)
                stack.start_workers(k, concurrency=SCALEOUT_CONCURRENCY)
                rate, _, note = stack.run_until_paid(subs, n, timeout_s=240)
                rates[k] = rate
                redeemed, twice, dup = stack.other_side()
                twice_total = twice + dup
                if redeemed - before != n:
                    notes.append(f"{k} workers: issuer redeemed {redeemed - before}, not {n}")
                before = redeemed
                if note:
                    notes.append(f"{k} workers: {note}")
        finally:
            stack.stop()
    how = (
        f"{scale.scaleout_n} items per run, issuer latency {LATENCY_MS} ms, "
        f"{SCALEOUT_CONCURRENCY} calls in flight per worker"
    )
    out = [Result("scale-out: 1 worker (PostgreSQL)", rates.get(1), "items/s", note=how)]
    for k, prev in ((2, 1), (4, 2)):
        out.append(
            Result(
                f"scale-out: {k} workers (PostgreSQL)",
                rates.get(k),
                "items/s",
                rates.get(prev),
                f"{prev} worker{'s' if prev > 1 else ''}",
                goal_min=1.0,
            )
        )
    out.append(
        Result(
            "scale-out: items redeemed or paid more than once",
            float(twice_total),
            "items",
            goal_of="value",
            goal_max=0,
            note="; ".join(notes) or "every item redeemed once, every payout sent once",
        )
    )
    return out
