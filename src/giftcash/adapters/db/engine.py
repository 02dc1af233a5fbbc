"""Engines for SQLite (the embedded default) and PostgreSQL (``postgresql+psycopg://``).

SQLite: every connection gets WAL, ``synchronous=NORMAL``, a busy timeout and foreign
keys. Python 3.11's ``sqlite3`` starts transactions lazily with a plain ``BEGIN`` (a read
lock that must later be upgraded to a write lock, which fails with "database is locked"
when two writers try at once). So, following SQLAlchemy's documented pysqlite recipe, the
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
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

BUSY_TIMEOUT_MS = 10_000
# PostgreSQL connections kept per process, and how many more it may open at a peak. Under
# the API benchmark's 32 connections over 2 processes each serves 16 requests at once;
# with SQLAlchemy's default (5 kept, 10 more) the connections above 5 were opened and
# closed again for every burst (a new server process each), which made GET's p99
# 0.7–1.3 s; with 16 kept it was 0.13–0.25 s at the same rate (bench, PostgreSQL rows).
PG_POOL_SIZE = 16
PG_POOL_OVERFLOW = 16
SQLITE_BEGIN_OPTION = "sqlite_begin"
_BEGIN_MODES = {"IMMEDIATE", "DEFERRED", "EXCLUSIVE"}


def make_engine(url: str, *, sqlite_foreign_keys: bool = True, echo: bool = False) -> Engine:
    """An engine for ``url``. ``sqlite_foreign_keys=False`` is for migrations only (SQLite's
    batch table rebuilds drop referenced tables; ``migrate`` checks the keys afterwards)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, foreign_keys=sqlite_foreign_keys, echo=echo)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(
            url,
            pool_pre_ping=True,
            echo=echo,
            pool_size=PG_POOL_SIZE,
            max_overflow=PG_POOL_OVERFLOW,
        )
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
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        finally:
            cursor.close()

    gate = writer_gate(engine)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = str(conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")).upper()
        assert mode in _BEGIN_MODES, mode
        if gate is None or mode == "DEFERRED":
            conn.exec_driver_sql(f"BEGIN {mode}")
            return
        dbapi_conn = conn.connection.dbapi_connection
        gate.acquire(dbapi_conn)
        try:
            conn.exec_driver_sql(f"BEGIN {mode}")
        except BaseException:
            gate.release(dbapi_conn)
            raise

    if gate is not None:
        dialect = engine.dialect
        for name in ("do_commit", "do_rollback", "do_close"):
            setattr(dialect, name, _releasing(getattr(dialect, name), gate))
    return engine


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
