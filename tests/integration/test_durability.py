"""Every commit that precedes a foreign call is durable when it returns (issue: durable
before every foreign call). Each pooled connection reads back what it does at commit, on
both engines; a connection weakened on purpose is caught, and the processes refuse to
start against it."""

from __future__ import annotations

import sys

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url

from giftcash.adapters.db import engine as engine_module
from giftcash.adapters.db.app_uow import AppUnitOfWork
from giftcash.adapters.db.engine import (
    NotDurable,
    durability_of,
    durability_problem,
    make_engine,
    verify_durable,
)
from giftcash.bootstrap import make_engine_from_settings
from giftcash.config import load_settings

POOLED = 4  # connections held at once, so the pool hands out that many distinct ones


def pooled_durability(engine: Engine) -> list[dict[str, str]]:
    """What each of ``POOLED`` connections held at once reports (read-only units of work,
    so that SQLite lets them overlap), then a write unit of work on each of them in turn
    (the API, the worker and the CLI open both kinds)."""
    entered = [AppUnitOfWork(engine, read_only=True).__enter__() for _ in range(POOLED)]
    try:
        assert len({id(u.conn.connection.dbapi_connection) for u in entered}) == POOLED
        reports = [durability_of(u.conn) for u in entered]
    finally:
        for uow in reversed(entered):
            uow.__exit__(None, None, None)
    for _ in range(POOLED):
        with AppUnitOfWork(engine) as uow:
            reports.append(durability_of(uow.conn))
    return reports


def assert_all_durable(engine: Engine) -> None:
    reports = pooled_durability(engine)
    for report in reports:
        if "synchronous" in report:
            assert report == {"synchronous": "FULL"}
        else:
            assert report == {"synchronous_commit": "on", "fsync": "on"}
        assert durability_problem(report) is None


def _weaken(engine: Engine) -> None:
    """What a careless setting elsewhere would do: after giftcash's own connect hook."""

    @event.listens_for(engine, "connect")
    def _weak(dbapi_connection, _record):
        if engine.dialect.name == "sqlite":
            dbapi_connection.execute("PRAGMA synchronous = NORMAL")
        else:
            dbapi_connection.autocommit = True
            dbapi_connection.execute("SET synchronous_commit TO off")
            dbapi_connection.autocommit = False


def test_every_pooled_connection_is_durable(engine):
    assert_all_durable(engine)
    verify_durable(engine, connections=POOLED)


def test_the_processes_engine_is_durable(engine):
    """``make_engine_from_settings`` is what serve, the worker, demo and the CLI call."""
    app_engine = make_engine_from_settings(load_settings(database_url=str(engine.url)))
    try:
        assert_all_durable(app_engine)
    finally:
        app_engine.dispose()


def test_a_weakened_connection_is_caught(engine):
    weak = make_engine(engine.url.render_as_string(hide_password=False))
    _weaken(weak)
    try:
        reports = pooled_durability(weak)
        assert all(durability_problem(r) for r in reports), reports
        with pytest.raises(AssertionError):
            assert_all_durable(weak)
        with pytest.raises(NotDurable) as refused:
            verify_durable(weak)
        assert refused.value.code == "database_not_durable"
        assert "power cut" in refused.value.message
    finally:
        weak.dispose()


@pytest.mark.postgres
def test_postgres_session_default_off_is_overridden(postgres_database_url):
    """A role or server default of ``synchronous_commit = off`` (here through the
    connection's startup options) does not reach giftcash's sessions."""
    url = make_url(postgres_database_url)
    options = f"{url.query.get('options', '')} -csynchronous_commit=off".strip()
    lax = make_engine(url.update_query_dict({"options": options}).render_as_string(False))
    try:
        with lax.connect() as conn:
            # giftcash's connect hook ran after the startup options, and won
            assert durability_of(conn)["synchronous_commit"] == "on"
        assert_all_durable(lax)
    finally:
        lax.dispose()


@pytest.mark.parametrize(
    "settings, fragment",
    [
        ({"synchronous": "NORMAL"}, "synchronous=NORMAL"),
        ({"synchronous": "OFF"}, "synchronous=OFF"),
        ({"synchronous_commit": "off", "fsync": "on"}, "synchronous_commit=off"),
        ({"synchronous_commit": "on", "fsync": "off"}, "fsync=off"),
    ],
)
def test_each_weak_setting_is_named(settings, fragment):
    assert fragment in (durability_problem(settings) or "")


@pytest.mark.parametrize(
    "settings",
    [
        {"synchronous": "FULL"},
        {"synchronous": "EXTRA"},
        {"synchronous_commit": "on", "fsync": "on"},
        {"synchronous_commit": "local", "fsync": "on"},
        {"synchronous_commit": "remote_apply", "fsync": "on"},
    ],
)
def test_durable_settings_pass(settings):
    assert durability_problem(settings) is None


def test_the_cli_refuses_a_database_that_is_not_durable(tmp_path, monkeypatch, capsys):
    """The console script ends with one clear line and exit 7, not a traceback."""
    from giftcash.adapters.db import migrate
    from giftcash.entrypoints import cli

    migrate.upgrade(f"sqlite:///{tmp_path / 'giftcash.db'}")
    monkeypatch.setattr(
        engine_module, "durability_of", lambda conn: {"synchronous_commit": "on", "fsync": "off"}
    )
    monkeypatch.setenv("GIFTCASH_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("GIFTCASH_DATABASE_URL", raising=False)
    monkeypatch.setattr(sys, "argv", ["giftcash", "ledger", "check"])
    with pytest.raises(SystemExit) as ended:
        cli.run()
    assert ended.value.code == 7
    err = capsys.readouterr().err
    assert "database_not_durable" in err and "fsync=off" in err
    assert "Traceback" not in err
