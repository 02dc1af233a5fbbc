"""Resale (issue 15, measured for issue 17): orders placed per second, deposits matched
per second and paid orders delivered per second, through the service functions the API
and the worker call, against raw SQL doing the minimal equivalent writes on the same
database in the same run.

The world is in-process: the bank's virtual accounts are the test suite's fake
(tests/fakes.py ``FakeVirtualAccounts``) except that a notification is verified as the
real adapter verifies it (Standard Webhooks, HMAC-SHA256 over a JSON body, by
``adapters/banks/notifications.py``), and the issuer is ``FakeIssuer`` at zero latency.
The buyers' identities are verified through sign-up (``FakeIdentity``); the stocked units
are rows as the seller's side leaves them, their codes sealed by the deployment's vault.

One round, for each of ours and raw: stock N units (not timed), place N orders of one
unit (timed), make and sign N deposit notifications (not timed), take them (timed),
deliver the N paid orders (timed, ``deliver_paid`` passes until none is left). Within a
round each phase runs raw, then ours, back to back (a neighbour's burst then hits a pair,
not one side of a whole round); each figure keeps its best round.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select

from bench import world
from bench.core import ROOT, Result, Scale, fresh_dir, fresh_postgres, psycopg_dsn, sqlite_url
from giftcash.adapters.banks.notifications import NOTIFICATION_TYPE, verify_deposit_notification
from giftcash.adapters.db import ledger_check, migrate, tables
from giftcash.adapters.db.engine import BUSY_TIMEOUT_MS, SQLITE_SYNCHRONOUS, make_engine
from giftcash.adapters.webhooks import signing
from giftcash.bootstrap import build_deps
from giftcash.config import Settings
from giftcash.identity import customers
from giftcash.resale import buying, delivery
from giftcash.service.deps import Deps

sys.path.insert(0, str(ROOT / "tests"))
from fakes import FakeIdentity, FakeIssuer, FakeVirtualAccounts

BRAND, ISSUER, FACE, COST = "kyobo_gift", "kyobo", 10_000, 9_000
BUYERS = 10  # orders go round-robin, so one buyer's limit sums do not grow with the run
BUYER_NAME = "홍길동"
NO_LIMIT = 10**12


class Now:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class SignedAccounts(FakeVirtualAccounts):
    """The fake bank's accounts, whose notifications are signed and verified as the bank
    simulator and the real adapter do it (the fake's own ``verify_notification`` is a
    look-up)."""

    secret: str = field(default_factory=signing.new_secret)

    def notice(self, account_number: str, amount: int, payer: str) -> tuple[dict, bytes]:
        """The buyer's transfer, and the notification the bank sends for it."""
        n = self.pay(account_number, amount, payer)
        d = n.deposit
        body = json.dumps(
            {
                "type": NOTIFICATION_TYPE,
                "timestamp": d.received_at.isoformat(),
                "data": {
                    "bank_code_std": n.bank_code,
                    "account_num": n.account_number,
                    "reference": n.reference,
                    "deposit_id": d.deposit_id,
                    "tran_amt": str(d.amount),
                    "payer_name": d.payer_name,
                    "payer_bank_code_std": d.payer_bank_code,
                    "payer_account_num_masked": d.payer_account_masked,
                    "received_at": d.received_at.isoformat(),
                    "state": d.state,
                },
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        stamp = int(time.time())
        return signing.headers(self.secret, n.notification_id, stamp, body), body.encode()

    def verify_notification(self, headers: Any, body: bytes) -> Any:
        return verify_deposit_notification(self.secret, headers, body, now=datetime.now(UTC))


# -- ours ---------------------------------------------------------------------------------


@dataclass
class Ours:
    deps: Deps
    engine: Engine
    accounts: SignedAccounts
    issuer: FakeIssuer
    buyers: list[str]
    stocked: int = 0
    rounds: int = 0

    def stock(self, n: int) -> None:
        """``n`` stocked units of one seller, their codes sealed and sold at the issuer."""
        now = datetime.now(UTC)
        expires = now + timedelta(days=365)
        items, units = [], []
        for k in range(self.stocked, self.stocked + n):
            code = f"6107{k:012d}"
            enc, key = self.deps.vault.encrypt(code, f"bi-{k}")
            self.issuer.sell(ISSUER, code, FACE, expires_at=expires)
            items.append(
                {
                    "id": f"bi-{k}", "submission_id": "bench-s", "customer_id": "bench-seller",
                    "brand_id": BRAND, "issuer": ISSUER, "currency": "KRW",
                    "face_value": FACE, "fee": FACE - COST, "payout": COST,
                    "funding_source": "cash", "status": "stocked", "code_enc": enc,
                    "key_id": key, "code_hmac": f"{k:064}", "masked_code": "****",
                    "created_at": now, "updated_at": now,
                }
            )  # fmt: skip
            units.append(
                {
                    "id": f"bu-{k}", "item_id": f"bi-{k}", "brand_id": BRAND, "currency": "KRW",
                    "face_value": FACE, "cost": COST, "expires_at": expires,
                    "status": "stocked", "created_at": now, "updated_at": now,
                }
            )  # fmt: skip
        with self.engine.begin() as conn:
            conn.execute(insert(tables.items), items)
            conn.execute(insert(tables.inventory_units), units)
        self.stocked += n

    def round(self, n: int) -> Iterator[tuple[str, float]]:
        """Stock, then each timed phase in turn, its rate yielded as it ends."""
        self.stock(n)
        r = self.rounds = self.rounds + 1
        start = time.perf_counter()
        placed = [
            buying.place(
                self.deps, self.buyers[k % len(self.buyers)], f"bench-{r}-{k}", BRAND, FACE, 1
            )
            for k in range(n)
        ]
        yield "place", n / (time.perf_counter() - start)
        assert all(v.order.virtual_account_number for v in placed)
        notices = [
            self.accounts.notice(v.order.virtual_account_number or "", v.order.amount, BUYER_NAME)
            for v in placed
        ]
        start = time.perf_counter()
        outcomes = [buying.take_notification(self.deps, h, b) for h, b in notices]
        yield "deposit", n / (time.perf_counter() - start)
        assert all(o.kept for o in outcomes), [o for o in outcomes if not o.kept][:1]
        start = time.perf_counter()
        delivered = 0
        while delivered < n:
            moved = delivery.deliver_paid(self.deps, "bench")
            assert moved, f"{n - delivered} paid orders were not delivered"
            delivered += moved
        yield "deliver", n / (time.perf_counter() - start)

    def checked(self) -> str:
        o = tables.orders.c
        with self.engine.connect() as conn:
            counts: dict[str, int] = dict(
                conn.execute(select(o.status, func.count()).group_by(o.status)).all()
            )
            violations = ledger_check.check(conn)
        return (
            f"checked after the run: orders by status {counts}, "
            f"ledger check {'clean' if not violations else f'{len(violations)} violations'}"
        )


def _seller(engine: Engine) -> None:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(tables.customers).values(
                id="bench-seller", phone="01099990000", name="김판매",
                birth_date=date(1980, 1, 1), password_hash="x", status="active",
                created_at=now,
            )
        )  # fmt: skip
        conn.execute(
            insert(tables.bank_accounts).values(
                id="bench-ba", customer_id="bench-seller", bank_code="004",
                account_number_enc=b"x", account_key_id="k", account_number_masked="****0000",
                holder_name="김판매", status="verified", created_at=now,
            )
        )  # fmt: skip
        conn.execute(
            insert(tables.submissions).values(
                id="bench-s", customer_id="bench-seller", bank_account_id="bench-ba",
                status="open", item_count=0, created_at=now,
            )
        )  # fmt: skip


def _buyer(deps: Deps, identity: FakeIdentity, k: int) -> str:
    """A buyer whose identity is verified through sign-up, as ``/v1/signup/identity``."""
    phone = f"0107000{k:04d}"
    identity.person(phone, name=BUYER_NAME, birth_date=date(1990, 1, 2), ci=f"ci-bench-{k}")
    customers.signup(
        deps, phone=phone, name=BUYER_NAME, birth_date=date(1990, 1, 2), password=world.PASSWORD
    )
    identity.confirm(phone)
    return customers.complete_identity(deps, phone=phone)


def ours(folder: Path, url: str) -> Ours:
    migrate.upgrade(url)
    engine = make_engine(url)
    settings = Settings(
        data_dir=folder, database_url=url, buyer_max_day_won=NO_LIMIT, buyer_max_month_won=NO_LIMIT
    )
    issuer, identity, accounts = FakeIssuer(), FakeIdentity(), SignedAccounts(clock=Now())  # type: ignore[arg-type]
    deps = build_deps(
        settings,
        engine=engine,
        issuer=issuer,
        bank=world.StubBank(BUYER_NAME),
        sms=world.StubSms(),
        identity=identity,
        virtual_accounts=accounts,
        fast_passwords=True,
    )
    _seller(engine)
    buyers = [_buyer(deps, identity, k) for k in range(BUYERS)]
    return Ours(deps, engine, accounts, issuer, buyers)


# -- raw SQL ------------------------------------------------------------------------------

RAW_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS bench_r_units (id TEXT PRIMARY KEY, brand_id TEXT NOT NULL,"
    " face_value BIGINT NOT NULL, status TEXT NOT NULL, order_id TEXT, updated_at TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS bench_r_units_stock ON bench_r_units (brand_id, face_value,"
    " status)",
    "CREATE INDEX IF NOT EXISTS bench_r_units_order ON bench_r_units (order_id)",
    "CREATE TABLE IF NOT EXISTS bench_r_orders (id TEXT PRIMARY KEY, customer_id TEXT NOT NULL,"
    " amount BIGINT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL,"
    " updated_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bench_r_deposits (id TEXT PRIMARY KEY, order_id TEXT NOT NULL,"
    " bank_deposit_id TEXT NOT NULL UNIQUE, amount BIGINT NOT NULL, payer_name TEXT NOT NULL,"
    " status TEXT NOT NULL, created_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bench_r_postings (id TEXT PRIMARY KEY, transfer_id TEXT NOT NULL,"
    " account TEXT NOT NULL, amount BIGINT NOT NULL, created_at TEXT NOT NULL)",
)


class Raw:
    """Plain DB-API, no ORM, no checks, one transaction per order: placing is a
    conditional UPDATE reserving a stocked unit and the order's INSERT; a deposit is its
    INSERT, the order's conditional UPDATE and two postings; a delivery is the units' and
    the order's conditional UPDATEs and four postings (sale and cost of sale)."""

    def __init__(self, url: str) -> None:
        self.sqlite = url.startswith("sqlite")
        if self.sqlite:
            self.conn: Any = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
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
        self._commit()
        self.rounds = 0

    def _begin(self) -> None:
        if self.sqlite:
            self.conn.execute("BEGIN IMMEDIATE")

    def _commit(self) -> None:
        if self.sqlite:
            if self.conn.in_transaction:
                self.conn.execute("COMMIT")
        else:
            self.conn.commit()

    def round(self, n: int) -> Iterator[tuple[str, float]]:
        p = self.p
        r = self.rounds = self.rounds + 1
        cur = self.conn.cursor()
        now = datetime.now(UTC).isoformat()
        cur.executemany(
            f"INSERT INTO bench_r_units VALUES ({p}, {p}, {p}, 'stocked', NULL, {p})",
            [(f"ru-{r}-{k}", BRAND, FACE, now) for k in range(n)],
        )
        self._commit()
        orders = [f"ro-{r}-{k}" for k in range(n)]

        reserve = (
            f"UPDATE bench_r_units SET status = 'reserved', order_id = {p}, updated_at = {p}"
            f" WHERE id = (SELECT id FROM bench_r_units WHERE brand_id = {p}"
            f" AND face_value = {p} AND status = 'stocked' LIMIT 1) AND status = 'stocked'"
        )
        add_order = (
            f"INSERT INTO bench_r_orders VALUES ({p}, {p}, {p}, 'awaiting_payment', {p}, {p})"
        )
        start = time.perf_counter()
        for k, o in enumerate(orders):
            now = datetime.now(UTC).isoformat()
            self._begin()
            cur.execute(reserve, (o, now, BRAND, FACE))
            assert cur.rowcount == 1
            cur.execute(add_order, (o, f"buyer-{k % BUYERS}", 9_500, now, now))
            self._commit()
        yield "place", n / (time.perf_counter() - start)

        add_dep = f"INSERT INTO bench_r_deposits VALUES ({p}, {p}, {p}, {p}, {p}, 'matched', {p})"
        move = (
            f"UPDATE bench_r_orders SET status = {p}, updated_at = {p} WHERE id = {p}"
            f" AND status = {p}"
        )
        post = f"INSERT INTO bench_r_postings VALUES ({p}, {p}, {p}, {p}, {p})"
        start = time.perf_counter()
        for k, o in enumerate(orders):
            now = datetime.now(UTC).isoformat()
            self._begin()
            cur.execute(add_dep, (f"rd-{o}", o, f"bank-{o}", 9_500, BUYER_NAME, now))
            cur.execute(move, ("paid", now, o, "awaiting_payment"))
            assert cur.rowcount == 1
            cur.execute(post, (uuid.uuid4().hex, f"paid-{o}", "assets:clearing", 9_500, now))
            cur.execute(post, (uuid.uuid4().hex, f"paid-{o}", f"buyer:{k}", -9_500, now))
            self._commit()
        yield "deposit", n / (time.perf_counter() - start)

        deliver = (
            f"UPDATE bench_r_units SET status = 'delivered', updated_at = {p}"
            f" WHERE order_id = {p} AND status = 'reserved'"
        )
        start = time.perf_counter()
        for k, o in enumerate(orders):
            now = datetime.now(UTC).isoformat()
            self._begin()
            cur.execute(deliver, (now, o))
            assert cur.rowcount == 1
            cur.execute(move, ("delivered", now, o, "paid"))
            assert cur.rowcount == 1
            for t, account, amount in (
                ("sale", f"buyer:{k}", 9_500),
                ("sale", "income:resale", -9_500),
                ("cost", "expenses:cost-of-sales", COST),
                ("cost", f"inventory:{BRAND}", -COST),
            ):
                cur.execute(post, (uuid.uuid4().hex, f"{t}-{o}", account, amount, now))
            self._commit()
        yield "deliver", n / (time.perf_counter() - start)

    def close(self) -> None:
        self.conn.close()


# -- the rows -----------------------------------------------------------------------------

ROWS = {
    "place": (
        "resale: orders placed per second",
        "orders/s",
        "raw SQL reserve + insert",
        "buying.place (the API's POST /v1/orders under it): the buyer's verified identity "
        "read, stock priced, the buyer's day and month limits summed, the order written and "
        "its unit reserved (one commit), the in-process virtual-account fake asked, the "
        "account written (a second commit), the order read back; raw: one commit",
    ),
    "deposit": (
        "resale: deposits matched per second",
        "deposits/s",
        "raw SQL deposit + order + 2 postings",
        "buying.take_notification, the API's path, with a valid Standard Webhooks signature "
        "verified (HMAC-SHA256 and the JSON body parsed: about 45 µs, under 1% of a "
        "deposit's time): the order and its account checked, the payer judged against the "
        "buyer's verified name (decrypted), the deposit recorded and matched, the order paid "
        "and order_paid posted, one commit",
    ),
    "deliver": (
        "resale: paid to delivered per second",
        "orders/s",
        "raw SQL units + order + 4 postings",
        "delivery.deliver_paid passes (the worker's step), one unit per order: the order and "
        "its unit read, the code decrypted, the in-process issuer fake (zero latency) asked "
        "its balance, the unit and order moved and resale_sale + cost_of_sale posted, one "
        "commit per order",
    ),
}


def _rows(
    label: str, best_ours: dict[str, float], best_raw: dict[str, float], n: int, checked: str
) -> list[Result]:
    out = []
    for key, (name, unit, base, how) in ROWS.items():
        out.append(
            Result(
                f"{name} ({label})",
                best_ours[key],
                unit,
                best_raw[key],
                f"{base} ({label})",
                note=f"{how}; {n:,} orders a round" + (f"; {checked}" if key == "deliver" else ""),
            )
        )
    return out


def _unmeasured(label: str, why: str) -> list[Result]:
    return [Result(f"{name} ({label})", None, unit, note=why) for name, unit, _, _ in ROWS.values()]


def _compare(folder: Path, url: str, scale: Scale, label: str) -> list[Result]:
    subject = ours(folder, url)
    raw = Raw(url)
    try:
        n = scale.ledger_n
        for _ in zip(subject.round(10), raw.round(10), strict=True):
            pass  # warm: statements compiled, caches filled
        best_ours = dict.fromkeys(ROWS, 0.0)
        best_raw = dict.fromkeys(ROWS, 0.0)
        for _ in range(scale.rounds):
            # phase by phase, raw then ours: each pair is timed back to back
            for (k, base), (k2, rate) in zip(raw.round(n), subject.round(n), strict=True):
                assert k == k2
                best_raw[k] = max(best_raw[k], base)
                best_ours[k] = max(best_ours[k], rate)
        checked = subject.checked()
    finally:
        raw.close()
        subject.engine.dispose()
    return _rows(label, best_ours, best_raw, n, checked)


def run(scale: Scale, server_url: str | None) -> list[Result]:
    with fresh_dir("resale") as folder:
        out = _compare(folder, sqlite_url(folder), scale, "SQLite")
    if server_url is None:
        return out + _unmeasured(
            "PostgreSQL", "no PostgreSQL server answered; set GIFTCASH_TEST_POSTGRES_URL"
        )
    with fresh_postgres(server_url) as url, fresh_dir("resale-pg") as folder:
        out += _compare(folder, url, scale, "PostgreSQL")
    return out
