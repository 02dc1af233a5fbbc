"""``giftcash privacy purge`` through Typer's CliRunner: a dry run counts and changes
nothing, a purge reports its counts per kind, and a second purge reports zeros. SQLite
and PostgreSQL."""

from __future__ import annotations

import random
import re

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from giftcash.adapters.db import migrate
from giftcash.adapters.db import tables as t
from giftcash.adapters.db.engine import make_engine
from giftcash.entrypoints.cli import app
from giftcash.selftest.purge_crash import PurgeCrashPlan, populate

runner = CliRunner()
PLAN = PurgeCrashPlan(old=10, recent=4, owed=2)


def _count(row_name: str, output: str) -> int:
    match = re.search(rf"{row_name}\s*│\s*([\d,]+)", output)
    assert match, output
    return int(match.group(1).replace(",", ""))


def _pseudonymised(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            c = t.customers.c
            q = select(func.count()).where(c.status == "pseudonymised")
            return int(conn.execute(q).scalar_one())
    finally:
        engine.dispose()


@pytest.fixture
def populated(db_url, tmp_path, monkeypatch) -> str:
    monkeypatch.setenv("GIFTCASH_DATA_DIR", str(tmp_path))
    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    try:
        populate(engine, random.Random(5), PLAN)
    finally:
        engine.dispose()
    return db_url


def test_dry_run_then_purge_then_nothing(populated):
    url = populated
    dry = runner.invoke(app, ["privacy", "purge", "--dry-run", "--database-url", url])
    assert dry.exit_code == 0, dry.output
    assert "dry run" in dry.output
    assert _count("customers_pseudonymised", dry.output) == PLAN.old
    assert _pseudonymised(url) == 0

    done = runner.invoke(app, ["privacy", "purge", "--batch", "4", "--database-url", url])
    assert done.exit_code == 0, done.output
    assert _count("customers_pseudonymised", done.output) == PLAN.old
    assert _count("bank_accounts_destroyed", done.output) == PLAN.old  # the unpaid ones
    assert _count("consents_deleted", done.output) == PLAN.old
    assert f"{PLAN.owed} held" in done.output
    assert _pseudonymised(url) == PLAN.old

    again = runner.invoke(app, ["privacy", "purge", "--database-url", url])
    assert again.exit_code == 0, again.output
    counts = re.findall(r"(\w+_\w+)\s*│\s*([\d,]+)", again.output)
    assert counts and all(n == "0" for _, n in counts), again.output
