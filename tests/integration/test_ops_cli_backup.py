"""``deploy/backup.sh``: a backup taken while the service runs restores to an identical
database that passes ``ledger check`` and ``audit verify`` (the drill), on SQLite and
PostgreSQL; a restored copy that lost a row is caught."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import test_reconcile_world
from sqlalchemy import text

from giftcash.adapters.db.engine import make_engine

ops_world = test_reconcile_world.ops_world
SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "backup.sh"


def _run(w, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "GIFTCASH_DATABASE_URL": w.url,
        "GIFTCASH_DATA_DIR": str(w.data_dir),
        "GIFTCASH_PYTHON": sys.executable,
        "GIFTCASH": str(Path(sys.executable).with_name("giftcash")),
    }
    return subprocess.run(
        ["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow  # over 2 s on the loaded 2-core machine
def test_the_restore_drill_passes_on_a_live_database(ops_world, tmp_path):
    w = ops_world
    w.day_of_trade()
    r = _run(w, "drill", str(tmp_path / "drill"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "restore drill passed" in r.stdout
    assert "ledger ok" in r.stdout and "audit log ok" in r.stdout
    backups = list((tmp_path / "drill").glob("giftcash-backup.*"))
    assert len(backups) == 1 and (backups[0].stat().st_mode & 0o077) == 0


@pytest.mark.slow  # a backup and a restore, about 2 s
def test_verify_catches_a_restore_that_lost_a_row(ops_world, tmp_path):
    w = ops_world
    if not w.url.startswith("sqlite"):
        return  # the comparison is the same code on both; one engine shows it can fail
    w.day_of_trade()
    backup = tmp_path / "b.db"
    assert _run(w, "backup", str(backup)).returncode == 0
    restored = f"sqlite:///{tmp_path / 'r' / 'giftcash.db'}"
    assert _run(w, "restore", str(backup), restored).returncode == 0
    engine = make_engine(restored)
    with engine.begin() as conn:
        conn.execute(
            text("DELETE FROM item_events WHERE id IN (SELECT id FROM item_events LIMIT 1)")
        )
    engine.dispose()
    r = _run(w, "verify", w.url, restored)
    assert r.returncode != 0
    assert "item_events" in r.stderr
