"""`giftcash db upgrade`, `giftcash ledger check` and `giftcash ledger export` end to end
through Typer's CliRunner (and the installed console script once)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from giftcash.adapters.db.engine import make_engine
from giftcash.adapters.db.tables import ledger_accounts
from giftcash.adapters.db.uow import SqlUnitOfWork
from giftcash.domain import ledger as L
from giftcash.entrypoints.cli import app

runner = CliRunner()
CUSTOMER = "0190c1a2-0000-7000-8000-0000000000c3"


def cli(*args: str):
    return runner.invoke(app, list(args))


def post_some(url: str) -> None:
    engine = make_engine(url)
    try:
        with SqlUnitOfWork(engine) as uow:
            uow.ledger.post_many(
                [
                    L.redemption(
                        "r-1",
                        issuer="munhwa",
                        customer_id=CUSTOMER,
                        face=5_000,
                        payout=4_500,
                        currency="KRW",
                        ref="i-1",
                    ),
                    L.payout_sent(
                        "p-1", customer_id=CUSTOMER, amount=4_500, currency="KRW", ref="p"
                    ),
                ]
            )
            uow.commit()
    finally:
        engine.dispose()


def test_upgrade_then_check_exits_zero(db_url):
    up = cli("db", "upgrade", "--database-url", db_url)
    assert up.exit_code == 0, up.output
    from giftcash.adapters.db.migrate import head_revision

    assert f"revision {head_revision()}" in " ".join(up.output.split())
    post_some(db_url)
    checked = cli("ledger", "check", "--database-url", db_url)
    assert checked.exit_code == 0, checked.output
    assert "ledger ok" in checked.output and "2 transfers" in checked.output


def test_check_fails_with_a_table_of_violations(db_url):
    assert cli("db", "upgrade", "--database-url", db_url).exit_code == 0
    post_some(db_url)
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                update(ledger_accounts)
                .where(ledger_accounts.c.path == L.MARGIN)
                .values(balance=ledger_accounts.c.balance + 3)
            )
    finally:
        engine.dispose()
    checked = cli("ledger", "check", "--database-url", db_url)
    assert checked.exit_code == 1
    assert "Ledger violations" in checked.output
    assert "stored_balance" in checked.output and "zero_sum" in checked.output


def test_check_before_upgrade_says_what_to_do(db_url):
    checked = cli("ledger", "check", "--database-url", db_url)
    assert checked.exit_code == 7  # kind "unavailable"
    assert "schema_not_current" in checked.output
    assert "giftcash db upgrade" in checked.output


def test_export_writes_a_file_bean_check_accepts(db_url, tmp_path):
    assert cli("db", "upgrade", "--database-url", db_url).exit_code == 0
    post_some(db_url)
    out = tmp_path / "books.beancount"
    exported = cli(
        "ledger", "export", "--format", "beancount", "--output", str(out), "--database-url", db_url
    )
    assert exported.exit_code == 0, exported.output
    assert "wrote 2 transactions" in exported.output
    bean_check = Path(sys.executable).parent / "bean-check"
    result = subprocess.run(
        [str(bean_check), str(out)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_export_to_stdout_and_unknown_format(db_url):
    assert cli("db", "upgrade", "--database-url", db_url).exit_code == 0
    post_some(db_url)
    exported = cli("ledger", "export", "--database-url", db_url)
    assert exported.exit_code == 0
    assert re.search(r"\n  Assets:Issuer:Munhwa +5000 KRW\n", exported.output)
    wrong = cli("ledger", "export", "--format", "ledger-cli", "--database-url", db_url)
    assert wrong.exit_code == 2


@pytest.mark.slow  # over 2 s on the loaded 2-core machine
def test_console_script_uses_the_data_dir_default(tmp_path):
    """The real process: GIFTCASH_DATA_DIR picks the SQLite file, no URL given."""
    exe = Path(sys.executable).parent / "giftcash"
    env = {"GIFTCASH_DATA_DIR": str(tmp_path / "var"), "PATH": "/usr/bin:/bin"}
    up = subprocess.run(
        [str(exe), "db", "upgrade"], capture_output=True, text=True, env=env, timeout=120
    )
    assert up.returncode == 0, up.stdout + up.stderr
    assert (tmp_path / "var" / "giftcash.db").is_file()
    checked = subprocess.run(
        [str(exe), "ledger", "check"], capture_output=True, text=True, env=env, timeout=120
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "ledger ok" in checked.stdout
