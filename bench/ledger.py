"""Ledger: redemption postings through our unit of work and ledger repository, against a
raw SQL transfer (2 updates + 1 insert per commit) on the same database, and the peer
django-hordak on the same PostgreSQL server.

Ours does more per commit than the raw transfer, on purpose: it locks the chain head,
checks the transfer id for a replay, locks three accounts, applies the domain's rule,
writes the transfer, three postings and the hash chain (``ledger_driver``: one call of
``ledger_post_one`` on PostgreSQL, driver statements on SQLite). The raw transfer is the
floor the database sets: its commit rate.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import uuid
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from bench.core import (
    HORDAK_PYTHON,
    ROOT,
    Result,
    Scale,
    best_rates,
    fresh_dir,
    fresh_postgres,
    psycopg_dsn,
    sqlite_url,
    timed,
)
from giftcash.adapters.db import migrate
from giftcash.adapters.db.app_uow import AppUnitOfWork
from giftcash.adapters.db.engine import BUSY_TIMEOUT_MS, SQLITE_SYNCHRONOUS, make_engine
from giftcash.domain import ledger

CUSTOMERS = 50
ISSUERS = ("cultureland", "munhwa")
_ids = count()


def redemption() -> ledger.Transfer:
    k = next(_ids)
    item = f"bench-{uuid.uuid4().hex}"
    return ledger.redemption(
        f"redeem:{item}",
        issuer=ISSUERS[k % len(ISSUERS)],
        customer_id=f"cust-{k % CUSTOMERS:03d}",
        face=10_000,
        payout=9_000,
        currency="KRW",
        ref=item,
    )


# -- the raw transfer: 2 updates + 1 insert per commit ------------------------------------

RAW_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS bench_accounts (id TEXT PRIMARY KEY, balance BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bench_transfers (id TEXT PRIMARY KEY, debit TEXT NOT NULL,"
    " credit TEXT NOT NULL, amount BIGINT NOT NULL, created_at TEXT NOT NULL)",
)


class RawTransfers:
    """Plain DB-API, no ORM, no checks: what one commit costs on this database."""

    def __init__(self, url: str) -> None:
        self.sqlite = url.startswith("sqlite")
        if self.sqlite:
            path = url.removeprefix("sqlite:///")
            self.conn: Any = sqlite3.connect(path, isolation_level=None)
            # The same settings as giftcash's engine (engine.py), durability included.
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute(f"PRAGMA synchronous = {SQLITE_SYNCHRONOUS}")
            self.p = "?"
        else:
            import psycopg

            self.conn = psycopg.connect(**psycopg_dsn(url))
            self.p = "%s"
        cur = self.conn.cursor()
        for stmt in RAW_SCHEMA:
            cur.execute(stmt)
        ins = f"INSERT INTO bench_accounts VALUES ({self.p}, 0)"
        for i in range(CUSTOMERS):
            cur.execute(ins, (f"cust-{i:03d}",))
        cur.execute(ins, ("issuer",))
        self._commit()

    def _begin(self) -> None:
        if self.sqlite:
            self.conn.execute("BEGIN IMMEDIATE")

    def _commit(self) -> None:
        if self.sqlite:
            if self.conn.in_transaction:
                self.conn.execute("COMMIT")
        else:
            self.conn.commit()

    def run(self, n: int) -> int:
        p = self.p
        up = f"UPDATE bench_accounts SET balance = balance + {p} WHERE id = {p}"
        ins = f"INSERT INTO bench_transfers VALUES ({p}, {p}, {p}, {p}, {p})"
        cur = self.conn.cursor()
        for k in range(n):
            customer = f"cust-{k % CUSTOMERS:03d}"
            self._begin()
            cur.execute(up, (10_000, "issuer"))
            cur.execute(up, (-10_000, customer))
            now = datetime.now(UTC).isoformat()
            cur.execute(ins, (uuid.uuid4().hex, "issuer", customer, 10_000, now))
            self._commit()
        return n

    def close(self) -> None:
        self.conn.close()


# -- ours -------------------------------------------------------------------------------


# Issue 17's goals for one posting per commit, as ratios to the raw SQL transfer in the same
# run: the raw transfer skips the chain head, the replay check and the balance rule.
SQLITE_GOAL = 0.3
POSTGRES_GOAL = 0.5


def post_one_per_commit(engine: Engine, n: int) -> int:
    for _ in range(n):
        with AppUnitOfWork(engine) as uow:
            assert uow.ledger.post(redemption())
            uow.commit()
    return n


def post_batched(engine: Engine, batches: int, size: int) -> int:
    for _ in range(batches):
        with AppUnitOfWork(engine) as uow:
            assert all(uow.ledger.post_many([redemption() for _ in range(size)]))
            uow.commit()
    return batches * size


def _compare(url: str, scale: Scale, label: str, goal_min: float) -> tuple[Result, float, Engine]:
    migrate.upgrade(url)
    engine = make_engine(url)
    raw = RawTransfers(url)
    post_one_per_commit(engine, 20)  # warm: accounts exist, statements compiled
    raw.run(20)
    n = scale.ledger_n
    rates = best_rates(
        scale.rounds,
        {
            "raw": lambda: timed(lambda: raw.run(n)),
            "ours": lambda: timed(lambda: post_one_per_commit(engine, n)),
        },
    )
    raw.close()
    result = Result(
        f"ledger: one redemption per commit ({label})",
        rates["ours"],
        "transfers/s",
        rates["raw"],
        "raw SQL transfer",
        goal_min=goal_min,
    )
    return result, rates["raw"], engine


def run_sqlite(scale: Scale) -> tuple[list[Result], float]:
    with fresh_dir("ledger") as folder:
        result, raw_rate, engine = _compare(sqlite_url(folder), scale, "SQLite", SQLITE_GOAL)
        engine.dispose()
    return [result], raw_rate


def hordak_rate(dbname: str, dsn: dict[str, Any], n: int, rounds: int) -> tuple[float | None, str]:
    if not HORDAK_PYTHON.exists():
        return None, (
            "django-hordak was not measured: bench/.venv-hordak is missing "
            "(python -m bench --setup installs it from PyPI)"
        )
    proc = subprocess.run(
        [
            str(HORDAK_PYTHON),
            str(ROOT / "bench" / "hordak_peer.py"),
            "--dbname",
            dbname,
            "--host",
            str(dsn["host"]),
            "--port",
            str(dsn["port"]),
            "--user",
            str(dsn["user"]),
            "--n",
            str(n),
            "--rounds",
            str(rounds),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
        return None, f"django-hordak failed to run: {' '.join(tail)[:200]}"
    return float(json.loads(proc.stdout.strip().splitlines()[-1])["rate_per_s"]), ""


def run_postgres(scale: Scale, server_url: str | None) -> list[Result]:
    if server_url is None:
        note = "no PostgreSQL server answered; set GIFTCASH_TEST_POSTGRES_URL"
        return [
            Result(
                "ledger: one redemption per commit (PostgreSQL)", None, "transfers/s", note=note
            ),
            Result("ledger: django-hordak, one per commit (PostgreSQL)", None, "transfers/s"),
            Result(
                "ledger: one redemption per commit vs django-hordak (PostgreSQL)",
                None,
                "transfers/s",
                note=note,
            ),
            Result("ledger: batched settlement (PostgreSQL)", None, "transfers/s", note=note),
        ]
    with fresh_postgres(server_url) as url:
        ours, raw_rate, engine = _compare(url, scale, "PostgreSQL", POSTGRES_GOAL)
        dsn = psycopg_dsn(url)
        peer, why = hordak_rate(dsn["dbname"], dsn, scale.ledger_n, scale.rounds)
        size = 64  # the worker's default batch
        batched = best_rates(
            scale.rounds,
            {"ours": lambda: timed(lambda: post_batched(engine, scale.batch_rounds, size))},
        )["ours"]
        engine.dispose()
    hordak = Result(
        "ledger: django-hordak, one per commit (PostgreSQL)",
        peer,
        "transfers/s",
        raw_rate,
        "raw SQL transfer",
        note=why or "peer row: the same 3-leg redemption, one per transaction.atomic()",
    )
    vs_peer = Result(
        "ledger: one redemption per commit vs django-hordak (PostgreSQL)",
        ours.value,
        "transfers/s",
        peer,
        "django-hordak",
        goal_min=1.5,
        note="" if peer else why,
    )
    settle = Result(
        "ledger: batched settlement, 64 per commit (PostgreSQL)",
        batched,
        "transfers/s",
        peer,
        "django-hordak",
        goal_min=3.0,
        note="" if peer else why,
    )
    return [ours, hordak, vs_peer, settle]


def raw_sqlite_rate(folder: Path, n: int, rounds: int) -> float:
    """The raw transfer rate alone (the pipeline's baseline), on a scratch database."""
    url = sqlite_url(folder)
    raw = RawTransfers(url)
    rate = best_rates(rounds, {"raw": lambda: timed(lambda: raw.run(n))})["raw"]
    raw.close()
    return rate
