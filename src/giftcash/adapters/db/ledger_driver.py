"""One transfer posted at the driver level: the hot path of ``LedgerRepository.post``.

The same rules, locks and rows as ``LedgerRepository.post_many`` (which stays the path for
batches, reversals and replays), without building a SQLAlchemy statement per call: the
SQL is fixed text run on the DB-API connection inside the caller's SQLAlchemy
transaction, and the driver keeps it prepared (psycopg after a few runs, sqlite3 in its
statement cache).

- PostgreSQL: one statement, ``ledger_post_one`` (migration 0013): one round trip (two
  when it is the transaction's first statement: psycopg sends ``BEGIN`` first). Sending
  the two in psycopg's pipeline mode was measured and was slower here (the pipeline's
  own Python work outweighs a loopback round trip), so it is not used.
- SQLite: in-process, so round trips cost nothing; the statements run one by one on the
  ``sqlite3`` connection, which already holds the write lock (``BEGIN IMMEDIATE``).

Each answers ``Outcome``: ``POSTED``, or ``TAKEN`` when the id exists (nothing written:
the caller judges the replay on the general path, under the head lock this already holds).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from giftcash.adapters.db.tables import ledger_transfers
from giftcash.domain.ledger import Transfer, apply, must_stay_credit


class Outcome(Enum):
    POSTED = "posted"
    TAKEN = "exists"


POST_ONE_PG = (
    "SELECT outcome, accounts, balances FROM ledger_post_one("
    "%s, %s, %s, %s, %s, %s, %s::text[], %s::bigint[], %s::text[], %s::boolean[], %s::text[],"
    " %s::bytea)"
)

SQLITE_HEAD_AND_TAKEN = (
    "SELECT seq, hash, EXISTS (SELECT 1 FROM ledger_transfers WHERE id = ?)"
    " FROM ledger_head WHERE id = 1"
)
SQLITE_UPSERT_ACCOUNT = (
    "INSERT INTO ledger_accounts (path, currency, balance, kind, created_at)"
    " VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (path, currency) DO UPDATE SET balance = excluded.balance"
)
SQLITE_TRANSFER = (
    "INSERT INTO ledger_transfers"
    " (id, seq, currency, kind, ref, reverses, memo, created_at, prev_hash, hash)"
    " VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?)"
)
SQLITE_POSTING = (
    "INSERT INTO ledger_postings (id, transfer_id, account, currency, amount)"
    " VALUES (?, ?, ?, ?, ?)"
)
SQLITE_SET_HEAD = "UPDATE ledger_head SET seq = ?, hash = ? WHERE id = 1"
_sqlite_balances: dict[int, str] = {}


def _sqlite_balances_sql(n: int) -> str:
    sql = _sqlite_balances.get(n)
    if sql is None:
        marks = ", ".join("?" * n)  # only placeholders go into the text
        sql = _sqlite_balances[n] = (
            "SELECT path, balance FROM ledger_accounts"  # noqa: S608
            f" WHERE currency = ? AND path IN ({marks}) ORDER BY path"
        )
    return sql


_time_binds: dict[str, Callable[[Any], Any]] = {}


def bound_time(conn: Connection, value: datetime) -> Any:
    """``value`` as the ``created_at`` columns' type stores it on this database (aware UTC
    checked; naive UTC text on SQLite), as SQLAlchemy would have bound it."""
    dialect = conn.dialect
    bind = _time_binds.get(dialect.name)
    if bind is None:
        processor = ledger_transfers.c.created_at.type.bind_processor(dialect)
        assert processor is not None
        bind = _time_binds[dialect.name] = processor
    return bind(value)


@contextmanager
def driver_errors(conn: Connection, statement: str) -> Iterator[None]:
    """The driver's errors as SQLAlchemy's (``IntegrityError`` …), as on the general path."""
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        yield
    except dbapi_error as e:
        raise DBAPIError.instance(statement, None, e, dbapi_error, dialect=conn.dialect) from e


def post_one_postgres(
    conn: Connection,
    t: Transfer,
    *,
    created_at: datetime,
    canonical_head: str,
    posting_ids: list[str],
    account_kinds: list[str],
) -> Outcome:
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    params = (
        t.id,
        t.currency,
        t.kind,
        t.ref,
        t.memo,
        bound_time(conn, created_at),
        [p.account for p in t.postings],
        [p.amount for p in t.postings],
        account_kinds,
        [must_stay_credit(p.account) for p in t.postings],
        posting_ids,
        canonical_head.encode(),
    )
    with driver_errors(conn, POST_ONE_PG):
        cur = dbapi.cursor()
        cur.execute(POST_ONE_PG, params)
        row = cur.fetchone()
    assert row is not None, "ledger_post_one answers one row"
    outcome, accounts, balances = row
    if outcome == "refused":
        before = {(a, t.currency): b for a, b in zip(accounts, balances, strict=True)}
        apply(before, t)  # the domain's rule raises its own LiabilityBelowZero
        raise AssertionError(f"ledger_post_one refused {t.id} where the domain does not")
    return Outcome(outcome)


def post_one_sqlite(
    conn: Connection,
    t: Transfer,
    *,
    created_at: datetime,
    hash_of: Callable[[int, str], str],
    posting_ids: list[str],
    account_kinds: list[str],
) -> Outcome:
    """``hash_of(seq, prev_hash)``: the chain link of ``t`` at position ``seq``."""
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None and dbapi.in_transaction, "SQLite posts inside BEGIN IMMEDIATE"
    with driver_errors(conn, "ledger post (SQLite)"):
        cur = dbapi.cursor()
        head_seq, head_hash, taken = cur.execute(SQLITE_HEAD_AND_TAKEN, (t.id,)).fetchone()
        if taken:
            return Outcome.TAKEN
        currency = t.currency
        paths = [p.account for p in t.postings]
        before = dict.fromkeys(((path, currency) for path in paths), 0)
        for path, balance in cur.execute(_sqlite_balances_sql(len(paths)), (currency, *paths)):
            before[(path, currency)] = balance
        after = apply(before, t)  # the domain's rule, before any write
        at = bound_time(conn, created_at)
        cur.executemany(
            SQLITE_UPSERT_ACCOUNT,
            sorted(
                (path, currency, after[(path, currency)], kind, at)
                for path, kind in zip(paths, account_kinds, strict=True)
            ),
        )
        seq = head_seq + 1
        digest = hash_of(seq, head_hash)
        cur.execute(
            SQLITE_TRANSFER,
            (t.id, seq, currency, t.kind, t.ref, t.memo, at, head_hash, digest),
        )
        cur.executemany(
            SQLITE_POSTING,
            [
                (pid, t.id, p.account, currency, p.amount)
                for pid, p in zip(posting_ids, t.postings, strict=True)
            ],
        )
        cur.execute(SQLITE_SET_HEAD, (seq, digest))
    return Outcome.POSTED
