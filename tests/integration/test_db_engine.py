"""Engine settings: SQLite pragmas and BEGIN IMMEDIATE; aware UTC timestamps both ways."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.pool import NullPool

from giftcash.adapters.db import engine as engine_module
from giftcash.adapters.db.engine import SQLITE_BEGIN_OPTION, make_engine
from giftcash.adapters.db.tables import worker_heartbeats


@pytest.fixture
def sqlite_file(tmp_path):
    path = tmp_path / "nested" / "folder" / "giftcash.db"
    engine = make_engine(f"sqlite:///{path}")
    yield engine, path
    engine.dispose()


def test_sqlite_creates_the_parent_folder_and_sets_pragmas(sqlite_file):
    engine, path = sqlite_file
    with engine.connect() as conn:
        pragmas = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
        conn.rollback()
    assert path.parent.is_dir()
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 2,  # FULL: durable at every commit (test_durability.py)
        "foreign_keys": 1,
        "busy_timeout": 10_000,
    }


def _other_writer_can_start(path) -> bool:
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as e:
        assert "locked" in str(e)
        return False
    finally:
        other.close()


def test_sqlite_transactions_take_the_write_lock_at_begin(sqlite_file):
    engine, path = sqlite_file
    with engine.connect() as conn:
        conn.begin()
        conn.execute(text("SELECT 1"))  # no write yet, and still the lock is held
        assert not _other_writer_can_start(path)
        conn.rollback()
    assert _other_writer_can_start(path)


def test_sqlite_read_only_transactions_are_deferred(sqlite_file):
    engine, path = sqlite_file
    with engine.connect() as conn:
        conn.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
        conn.begin()
        conn.execute(text("SELECT 1"))
        assert _other_writer_can_start(path)
        conn.rollback()


def test_timestamps_are_aware_utc_on_the_way_out(engine):
    seoul = timezone(timedelta(hours=9))
    at = datetime(2026, 3, 1, 9, 30, 0, 123456, tzinfo=seoul)
    with engine.begin() as conn:
        conn.execute(worker_heartbeats.insert().values(worker_id="w1", seen_at=at))
    with engine.connect() as conn:
        seen = conn.execute(select(worker_heartbeats.c.seen_at)).scalar_one()
        # Compared in SQL with an aware bound value: UTC stored, UTC compared.
        later = conn.execute(
            select(worker_heartbeats.c.worker_id).where(
                worker_heartbeats.c.seen_at < datetime(2026, 3, 1, 0, 31, tzinfo=UTC)
            )
        ).all()
    assert seen == at
    assert seen.tzinfo is not None and seen.utcoffset() == timedelta(0)
    assert later == [("w1",)]


def test_naive_timestamps_are_refused(engine):
    with engine.begin() as conn, pytest.raises(StatementError, match="naive datetime"):
        conn.execute(
            worker_heartbeats.insert().values(worker_id="w1", seen_at=datetime(2026, 1, 1))
        )


@pytest.mark.postgres
def test_postgres_replaces_a_pooled_connection_that_died_while_idle(backend, engine):
    if backend != "postgres":
        pytest.skip("the check-out ping is PostgreSQL's")
    with engine.connect() as conn:
        dead_pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        conn.rollback()
    killer = create_engine(engine.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with killer.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dead_pid})
    killer.dispose()
    # The killed connection sat idle past the threshold (pretended): the ping notices.
    for record in list(engine.pool._pool.queue):  # type: ignore[attr-defined]
        record.info[engine_module._CHECKED_IN_AT] -= engine_module.PG_PING_AFTER_IDLE_S + 1
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() != dead_pid
