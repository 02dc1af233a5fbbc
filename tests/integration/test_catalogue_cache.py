"""The live catalogue and rule set kept per database (issue 17): every override bumps the
catalogue's version in its own transaction; a call reads the version and rebuilds only
when it moved, so another process's override (the kill switch) holds for the very next
call, nothing is rebuilt while nothing changes, and two databases in one process never
share what was built. SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, event

from fakes import FakeBank, FakeIssuer, FakeSms
from giftcash.adapters.db import migrate
from giftcash.adapters.db.engine import make_engine
from giftcash.bootstrap import build_deps
from giftcash.catalogue import live as catalogue
from giftcash.config import Settings
from giftcash.service.deps import Deps

NOW = datetime(2026, 12, 6, 3, 30, tzinfo=UTC)
OVERRIDE_TABLES = ("brand_overrides", "issuer_overrides", "rule_overrides")


def _deps(engine: Engine, tmp_path: Path) -> Deps:
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(data_dir=tmp_path, database_url=url)
    return build_deps(
        settings,
        engine=engine,
        issuer=FakeIssuer(),
        bank=FakeBank(),
        sms=FakeSms(),
        fast_passwords=True,
    )


def _set_issuer(deps: Deps, issuer: str, changes: dict) -> None:
    with deps.uow() as uow:
        uow.overrides.set_issuer(issuer, changes, NOW, "test")
        uow.commit()


def _set_brand(deps: Deps, brand_id: str, changes: dict) -> None:
    with deps.uow() as uow:
        uow.overrides.set_brand(brand_id, changes, NOW, "test")
        uow.commit()


def _set_rule(deps: Deps, rule_id: str, changes: dict) -> None:
    with deps.uow() as uow:
        uow.overrides.set_rule(rule_id, changes, NOW, "test")
        uow.commit()


@pytest.fixture
def other_engine(engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    """A second engine on the same database: another process's."""
    other = make_engine(engine.url.render_as_string(hide_password=False))
    yield other
    other.dispose()


@pytest.fixture
def second_database(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Engine]:
    """An engine on another database at the head revision, in this process."""
    if backend == "sqlite":
        target = tmp_path / "second.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        eng = make_engine(f"sqlite:///{target}")
        yield eng
        eng.dispose()
        return
    url = request.getfixturevalue("db_url")  # on PostgreSQL: a fresh schema, apart
    migrate.upgrade(url)
    eng = make_engine(url)
    yield eng
    eng.dispose()


def test_every_override_bumps_the_version_in_its_transaction(engine, tmp_path):
    deps = _deps(engine, tmp_path)
    with deps.reader() as uow:
        owner, start = uow.overrides.version()
    assert owner is engine
    _set_issuer(deps, "cultureland", {"enabled": False})
    _set_brand(deps, "munhwa", {"buyback_rate_bps": 8_000})
    _set_rule(deps, "velocity_customer", {"enabled": False})
    with deps.uow() as uow:  # rolled back: neither the row nor the bump stays
        uow.overrides.set_issuer("cultureland", {"enabled": None}, NOW, "test")
    with deps.reader() as uow:
        assert uow.overrides.version() == (engine, start + 3)
        assert uow.overrides.issuers()["cultureland"]["enabled"] is False


def test_another_process_override_holds_for_the_very_next_call(engine, other_engine, tmp_path):
    """The kill switch, a brand's rate and a rule switched off by another process (its
    own engine) are in this process's very next catalogue and rule set."""
    here, there = _deps(engine, tmp_path), _deps(other_engine, tmp_path)
    assert "cultureland" not in catalogue.live_catalogue(here).disabled_issuers
    assert "cultureland" not in catalogue.current_rules(here).params.disabled_issuers
    assert catalogue.current_brands(here)["cultureland"].enabled is True

    _set_issuer(there, "cultureland", {"enabled": False})
    assert "cultureland" in catalogue.live_catalogue(here).disabled_issuers
    assert "cultureland" in catalogue.current_rules(here).params.disabled_issuers
    assert catalogue.current_brands(here)["cultureland"].enabled is False

    default_rate = catalogue.current_brands(here)["munhwa"].buyback_rate_bps
    _set_brand(there, "munhwa", {"buyback_rate_bps": default_rate - 100})
    assert catalogue.current_brands(here)["munhwa"].buyback_rate_bps == default_rate - 100

    assert "velocity_customer" not in catalogue.current_rules(here).disabled
    _set_rule(there, "velocity_customer", {"enabled": False})
    assert "velocity_customer" in catalogue.current_rules(here).disabled

    _set_issuer(there, "cultureland", {"enabled": None})  # back on, at once
    assert "cultureland" not in catalogue.current_rules(here).params.disabled_issuers
    assert catalogue.current_brands(here)["cultureland"].enabled is True


def test_what_an_uncommitted_override_built_is_never_kept(engine, other_engine, tmp_path):
    """Built inside the override's own transaction (its answer), then rolled back: the
    number it bumped is committed by another override, whose catalogue is the one seen."""
    here, there = _deps(engine, tmp_path), _deps(other_engine, tmp_path)
    catalogue.live_catalogue(here)
    with here.uow() as uow:
        uow.overrides.set_issuer("cultureland", {"enabled": False}, NOW, "test")
        inside = catalogue.live_catalogue_in(uow, here.brand_catalogue)
        assert inside.disabled_issuers == frozenset({"cultureland"}) and inside.cached_at is None
        assert (
            "cultureland"
            in catalogue.rules_in(
                uow, here.brand_catalogue, here.jurisdiction
            ).params.disabled_issuers
        )
    # rolled back; the other process's override takes the same version number
    _set_brand(there, "munhwa", {"buyback_rate_bps": 7_000})
    live = catalogue.live_catalogue(here)
    assert live.disabled_issuers == frozenset()
    assert live.brands["munhwa"].buyback_rate_bps == 7_000
    assert "cultureland" not in catalogue.current_rules(here).params.disabled_issuers


def test_nothing_is_rebuilt_or_reread_while_nothing_changes(engine, tmp_path, monkeypatch):
    deps = _deps(engine, tmp_path)
    builds: list[int] = []
    rule_builds: list[int] = []
    real_build, real_stored = catalogue.build, catalogue.stored_overrides

    def counting_build(*a, **k):
        builds.append(1)
        return real_build(*a, **k)

    def counting_stored(*a, **k):
        rule_builds.append(1)
        return real_stored(*a, **k)

    monkeypatch.setattr(catalogue, "build", counting_build)
    monkeypatch.setattr(catalogue, "stored_overrides", counting_stored)

    first = catalogue.live_catalogue(deps)
    rules = catalogue.current_rules(deps)
    assert (len(builds), len(rule_builds)) == (1, 1)

    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        for _ in range(3):
            assert catalogue.live_catalogue(deps) is first
            assert catalogue.current_rules(deps) is rules
            with deps.reader() as uow:  # the pipeline's way: the catalogue, then its rules
                live = catalogue.live_catalogue_in(uow, deps.brand_catalogue)
                assert (
                    catalogue.rules_in(
                        uow, deps.brand_catalogue, deps.jurisdiction, live, deps.rule_params
                    )
                    is rules
                )
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert (len(builds), len(rule_builds)) == (1, 1)
    reads = [s for s in statements if "catalogue_version" in s]
    assert len(reads) == 9  # one per unit of work: the version, nothing else of it
    assert not [s for s in statements if any(t in s for t in OVERRIDE_TABLES)]

    _set_brand(deps, "cultureland", {"buyback_rate_bps": 8_000})
    after = catalogue.live_catalogue(deps)
    assert after is not first and after.brands["cultureland"].buyback_rate_bps == 8_000
    assert catalogue.current_rules(deps) is not rules
    assert (len(builds), len(rule_builds)) == (2, 2)
    assert catalogue.live_catalogue(deps) is after
    assert (len(builds), len(rule_builds)) == (2, 2)


def test_two_databases_in_one_process_do_not_share_what_was_built(
    engine, second_database, tmp_path
):
    """Both databases at the same version number, each with its own override: each
    sees its own (a cache keyed by the version alone would answer one with the other's)."""
    a, b = _deps(engine, tmp_path), _deps(second_database, tmp_path / "b")
    assert catalogue.live_catalogue(a).disabled_issuers == frozenset()
    assert catalogue.live_catalogue(b).disabled_issuers == frozenset()

    _set_issuer(a, "cultureland", {"enabled": False})
    _set_brand(b, "munhwa", {"buyback_rate_bps": 7_000})
    with a.reader() as ua, b.reader() as ub:
        assert ua.overrides.version()[1] == ub.overrides.version()[1]

    live_a, live_b = catalogue.live_catalogue(a), catalogue.live_catalogue(b)
    assert live_a.disabled_issuers == frozenset({"cultureland"})
    assert live_b.disabled_issuers == frozenset()
    assert live_b.brands["munhwa"].buyback_rate_bps == 7_000
    assert live_a.brands["munhwa"].buyback_rate_bps != 7_000
    assert "cultureland" in catalogue.current_rules(a).params.disabled_issuers
    assert "cultureland" not in catalogue.current_rules(b).params.disabled_issuers


def test_threads_share_the_cache_and_see_the_kill_switch_once_committed(engine, tmp_path):
    """The API's threadpool: calls that start after the switch is committed all see it;
    every answer is one version's whole (the catalogue and its rules agree)."""
    deps = _deps(engine, tmp_path)
    catalogue.current_rules(deps)
    flipped = threading.Event()
    wrong: list[str] = []

    def call(after_flip: int) -> int:
        calls = 0
        while after_flip > 0:  # until this thread made that many calls after the switch
            calls += 1
            after = flipped.is_set()
            after_flip -= after
            with deps.reader() as uow:
                live = catalogue.live_catalogue_in(uow, deps.brand_catalogue)
                rules = catalogue.rules_in(
                    uow, deps.brand_catalogue, deps.jurisdiction, live, deps.rule_params
                )
            killed = "cultureland" in live.disabled_issuers
            if killed != ("cultureland" in rules.params.disabled_issuers):
                wrong.append("the catalogue and its rules disagree")
            if after and not killed:
                wrong.append("a call after the switch did not see it")
        return calls

    with ThreadPoolExecutor(4) as pool:
        running = [pool.submit(call, 20) for _ in range(4)]
        time.sleep(0.05)
        _set_issuer(deps, "cultureland", {"enabled": False})
        flipped.set()
        calls = [f.result() for f in running]
    assert wrong == []
    assert all(n > 20 for n in calls)  # each made calls before the switch too
    assert "cultureland" in catalogue.current_rules(deps).params.disabled_issuers
