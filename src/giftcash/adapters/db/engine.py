"""Engines for SQLite (the embedded default) and PostgreSQL (``postgresql+psycopg://``).

SQLite: every connection gets WAL, ``synchronous=FULL``, a busy timeout and foreign
keys. PostgreSQL: every connection sets ``synchronous_commit = on``. Either way a commit
is on disk when it returns (see "Durability" below).

Python 3.11's ``sqlite3`` starts transactions lazily with a plain ``BEGIN`` (a read lock
that must later be upgraded to a write lock, which fails with "database is locked" when
two writers try at once). So, following SQLAlchemy's documented pysqlite recipe, the
driver's own transaction handling is switched off (``isolation_level = None``) and the
engine's ``begin`` event emits ``BEGIN IMMEDIATE``: the write lock is taken up front and a
second writer waits out the busy timeout instead of deadlocking on the upgrade. A
connection with the execution option ``sqlite_begin="DEFERRED"`` starts a plain read
transaction instead (readers then never wait for writers, thanks to WAL).

SQLite's busy handler waits by sleeping (1, 2, 5 … up to 100 ms between tries), so when
many threads want to write at once they sleep past the moments the lock is free, and the
latency of a write grows far beyond its work. ``WriterGate`` queues the writers of one
database file instead: a thread lock inside the process and an ``flock`` on a file beside
the database across processes, taken before ``BEGIN IMMEDIATE`` and given back right after
the driver's commit or rollback (the dialect's ``do_commit``/``do_rollback``, which the
pool's reset-on-return uses too). SQLite's own lock stays the guard of correctness; the
gate only decides who tries next.

Durability. The pipeline commits an intent (a payout's ``bank_tran_id``, an item's
``redeem_key``) and only then calls the bank or the issuer; if that commit could vanish,
a power cut after the call would let the worker make a new payout with a new key and pay
twice. So every commit must be durable when it returns, on every connection the API, the
worker and the CLI open: SQLite's WAL with ``synchronous=NORMAL`` survives a process kill
but may lose the last transactions in an operating-system crash or a power cut (SQLite's
documentation of the pragma); ``FULL`` syncs the WAL at every commit. PostgreSQL's
``synchronous_commit = off`` acknowledges before the WAL is flushed, and ``fsync = off``
never flushes: the first is overridden on each connection, the second (a server setting)
makes :func:`verify_durable` refuse to start. No cheaper mode is kept for reads: a read
transaction commits nothing, so the setting costs it nothing.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError

from giftcash.domain.errors import DomainError

BUSY_TIMEOUT_MS = 10_000
# PostgreSQL connections kept per process, and how many more it may open at a peak. Under
# the API benchmark's 32 connections over 2 processes each serves 16 requests at once;
# with SQLAlchemy's default (5 kept, 10 more) the connections above 5 were opened and
# closed again for every burst (a new server process each), which made GET's p99
# 0.7–1.3 s; with 16 kept it was 0.13–0.25 s at the same rate (bench, PostgreSQL rows).
PG_POOL_SIZE = 16
PG_POOL_OVERFLOW = 16
# A pooled PostgreSQL connection idle longer than this is pinged before use (below).
PG_PING_AFTER_IDLE_S = 1.0
_CHECKED_IN_AT = "giftcash_checked_in_at"
SQLITE_BEGIN_OPTION = "sqlite_begin"
# SQLite's PRAGMA synchronous as it reads back: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA. In WAL
# mode FULL syncs the log at every commit; EXTRA adds only a sync of the folder after a
# rollback journal is deleted, which WAL mode never does.
SQLITE_SYNCHRONOUS = "FULL"
_SQLITE_DURABLE_LEVELS = {2: "FULL", 3: "EXTRA"}
_SQLITE_LEVEL_NAMES = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
_BEGIN_MODES = {"IMMEDIATE", "DEFERRED", "EXCLUSIVE"}


def make_engine(url: str, *, sqlite_foreign_keys: bool = True, echo: bool = False) -> Engine:
    """An engine for ``url``. ``sqlite_foreign_keys=False`` is for migrations only (SQLite's
    batch table rebuilds drop referenced tables; ``migrate`` checks the keys afterwards)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, foreign_keys=sqlite_foreign_keys, echo=echo)
    if parsed.get_backend_name() == "postgresql":
        return _postgres_engine(url, echo=echo)
    raise ValueError(f"unsupported database backend {parsed.get_backend_name()!r}")


def is_sqlite(engine_or_conn: Any) -> bool:
    return engine_or_conn.dialect.name == "sqlite"


def _sqlite_engine(url: str, *, foreign_keys: bool, echo: bool) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, echo=echo)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to the "begin" hook below (pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute(f"PRAGMA synchronous = {SQLITE_SYNCHRONOUS}")
            cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        finally:
            cursor.close()

    gate = writer_gate(engine)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = str(conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")).upper()
        assert mode in _BEGIN_MODES, mode
        dbapi_conn = conn.connection.dbapi_connection
        if gate is None or mode == "DEFERRED":
            _begin(conn, dbapi_conn, mode)
            return
        gate.acquire(dbapi_conn)
        try:
            _begin(conn, dbapi_conn, mode)
        except BaseException:
            gate.release(dbapi_conn)
            raise

    if gate is not None:
        dialect = engine.dialect
        for name in ("do_commit", "do_rollback", "do_close"):
            setattr(dialect, name, _releasing(getattr(dialect, name), gate))
    return engine


def _begin(conn: Any, dbapi_conn: Any, mode: str) -> None:
    """``BEGIN <mode>`` on the driver itself: through ``exec_driver_sql`` it was a tenth of
    a one-posting unit of work's time on SQLite (cProfile of the ledger benchmark). The
    driver's error is raised as SQLAlchemy's, as ``exec_driver_sql`` would have."""
    statement = f"BEGIN {mode}"
    try:
        dbapi_conn.execute(statement)
    except sqlite3.Error as e:
        raise DBAPIError.instance(statement, None, e, sqlite3.Error, dialect=conn.dialect) from e


def _postgres_engine(url: str, *, echo: bool) -> Engine:
    engine = create_engine(url, echo=echo, pool_size=PG_POOL_SIZE, max_overflow=PG_POOL_OVERFLOW)
    _ping_when_idle(engine)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Whatever the server's or the role's default: a commit waits for its WAL flush.
        # Outside a transaction, so that the pool's rollback on return cannot undo it.
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        try:
            dbapi_connection.execute("SET synchronous_commit TO on")
        finally:
            dbapi_connection.autocommit = autocommit

    return engine


def _ping_when_idle(engine: Engine) -> None:
    """A pooled connection is pinged at check-out only if it sat in the pool for more than
    ``PG_PING_AFTER_IDLE_S``; a dead one is replaced (``DisconnectionError`` makes the pool
    connect afresh). SQLAlchemy's ``pool_pre_ping`` pings at every check-out: one more
    round trip per unit of work, the largest cost left around a one-posting commit after
    the posting itself (cProfile of the ledger benchmark). A connection handed back
    moments ago was alive then; one that dies in between fails its statement, and the
    pool invalidates it as it would any disconnect."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in_at = record.info.get(_CHECKED_IN_AT)
        if checked_in_at is None or time.monotonic() - checked_in_at <= PG_PING_AFTER_IDLE_S:
            return  # just connected, or back in the pool moments ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as e:
            raise DisconnectionError(f"pooled connection failed its ping: {e}") from e


# -- durability ------------------------------------------------------------------------


class NotDurable(DomainError):
    """The database would acknowledge a commit that a power cut can still undo."""

    code = "database_not_durable"
    kind = "unavailable"


def durability_of(conn: Any) -> dict[str, str]:
    """What this connection does at commit, read back from the database itself:
    SQLite ``{"synchronous": "FULL"}``; PostgreSQL ``{"synchronous_commit": "on",
    "fsync": "on"}``. ``conn`` is a SQLAlchemy connection (pooled or not)."""
    if is_sqlite(conn):
        level = int(conn.exec_driver_sql("PRAGMA synchronous").scalar_one())
        return {"synchronous": _SQLITE_LEVEL_NAMES.get(level, str(level))}
    return {
        "synchronous_commit": str(conn.exec_driver_sql("SHOW synchronous_commit").scalar_one()),
        "fsync": str(conn.exec_driver_sql("SHOW fsync").scalar_one()),
    }


def durability_problem(settings: dict[str, str]) -> str | None:
    """Why these settings (from :func:`durability_of`) are not durable, or None."""
    if "synchronous" in settings:
        if settings["synchronous"] in _SQLITE_DURABLE_LEVELS.values():
            return None
        return (
            f"SQLite runs with synchronous={settings['synchronous']}: a commit that precedes "
            "a bank or issuer call could be lost in a power cut (giftcash needs FULL)"
        )
    # Every value but "off" waits for the local WAL flush (remote_* wait for more).
    if settings.get("synchronous_commit") == "off":
        return (
            "PostgreSQL runs this session with synchronous_commit=off: a commit is "
            "acknowledged before it is on disk, and a power cut could undo one that "
            "preceded a bank or issuer call (giftcash needs it on)"
        )
    if settings.get("fsync") != "on":
        return (
            f"the PostgreSQL server runs with fsync={settings.get('fsync')}: nothing it "
            "commits is sure to survive an operating-system crash or a power cut; "
            "set fsync = on in postgresql.conf"
        )
    return None


def verify_durable(engine: Engine, *, connections: int = 1) -> None:
    """Refuse (``NotDurable``) a database whose commits a power cut could undo. Checks
    ``connections`` pooled connections at once, each as the pool hands it out."""
    # A read transaction on SQLite (no write turn, no write lock), for a pragma.
    held = [
        engine.connect().execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
        for _ in range(connections)
    ]
    try:
        for conn in held:
            problem = durability_problem(durability_of(conn))
            if problem:
                raise NotDurable(f"{problem}. Refusing to run: see docs/deploy.md, Durability.")
    finally:
        for conn in held:
            conn.close()


def _releasing(method: Any, gate: WriterGate) -> Any:
    def call(dbapi_conn: Any) -> None:
        try:
            method(dbapi_conn)
        finally:
            gate.release(dbapi_conn)

    return call


class WriterBusy(Exception):
    """The database stayed locked by another writer for the whole busy timeout."""


class WriterGate:
    """One writer at a time per SQLite database file, queued (see the module's text).
    ``holder`` is the driver connection whose transaction has the turn."""

    def __init__(self, lock_path: str) -> None:
        self.lock_path = lock_path
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._pid = 0
        self.holder: int | None = None

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():  # opened again after a fork
            self._fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def acquire(self, dbapi_conn: Any, timeout_s: float = BUSY_TIMEOUT_MS / 1000) -> None:
        deadline = time.monotonic() + timeout_s
        if not self._threads.acquire(timeout=timeout_s):
            raise WriterBusy(f"no write turn within {timeout_s:.0f} s")
        try:
            fd = self._file()
            pause = 0.0002
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise WriterBusy(f"no write turn within {timeout_s:.0f} s") from None
                    time.sleep(pause)
                    pause = min(pause * 2, 0.002)
        except BaseException:
            self._threads.release()
            raise
        self.holder = _driver_id(dbapi_conn)

    def release(self, dbapi_conn: Any) -> None:
        """Give the turn back if ``dbapi_conn`` has it (a no-op otherwise)."""
        if self.holder != _driver_id(dbapi_conn):
            return
        self.holder = None
        try:
            if self._fd is not None and self._pid == os.getpid():
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()


def _driver_id(conn: Any) -> int:
    """The driver connection's identity, whether given it or the pool's proxy of it."""
    return id(getattr(conn, "dbapi_connection", None) or conn)


_gates: dict[str, WriterGate] = {}
_gates_lock = threading.Lock()


def writer_gate(engine: Engine) -> WriterGate | None:
    """The gate of ``engine``'s database file; None for PostgreSQL and in-memory SQLite."""
    if not is_sqlite(engine):
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = str(Path(database).expanduser().resolve())
    with _gates_lock:
        gate = _gates.get(path)
        if gate is None:
            gate = _gates[path] = WriterGate(path + "-writer")
        return gate
