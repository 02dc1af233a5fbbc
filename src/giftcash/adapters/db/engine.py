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
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

BUSY_TIMEOUT_MS = 10_000
SQLITE_BEGIN_OPTION = "sqlite_begin"
_BEGIN_MODES = {"IMMEDIATE", "DEFERRED", "EXCLUSIVE"}


def make_engine(url: str, *, sqlite_foreign_keys: bool = True, echo: bool = False) -> Engine:
    """An engine for ``url``. ``sqlite_foreign_keys=False`` is for migrations only (SQLite's
    batch table rebuilds drop referenced tables; ``migrate`` checks the keys afterwards)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, foreign_keys=sqlite_foreign_keys, echo=echo)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True, echo=echo)
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

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = str(conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")).upper()
        assert mode in _BEGIN_MODES, mode
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine
