"""The benchmark runner's smallest case, so ``python -m bench`` cannot rot unnoticed.

Not a benchmark: the sizes are tiny and no figure is compared with anything; it checks
that the runner measures, compares with its baseline and writes both output files."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.__main__ import main  # noqa: E402

pytestmark = pytest.mark.slow  # the benchmark runner's smallest case


@pytest.mark.bench
def test_smallest_ledger_case_writes_the_table(tmp_path):
    assert main(["--smoke", "--only", "ledger", "--no-postgres", "--out", str(tmp_path)]) == 0

    rows = {r["name"]: r for r in json.loads((tmp_path / "latest.json").read_text())}
    sqlite = rows["ledger: one redemption per commit (SQLite)"]
    assert set(sqlite) >= {"name", "value", "unit", "baseline", "ratio", "goal", "met"}
    assert sqlite["value"] > 0 and sqlite["baseline"] > 0
    assert sqlite["ratio"] == pytest.approx(sqlite["value"] / sqlite["baseline"], rel=0.05)
    assert sqlite["goal"] == "ratio >= 0.3" and isinstance(sqlite["met"], bool)
    # Without PostgreSQL the rows are there, unmeasured, and say why.
    pg = rows["ledger: one redemption per commit (PostgreSQL)"]
    assert pg["value"] is None and pg["met"] is None and "PostgreSQL" in pg["note"]
    table = (tmp_path / "latest.md").read_text()
    assert "| benchmark | figure | baseline (same run) | ratio | goal | met |" in table
    assert "ledger: one redemption per commit (SQLite)" in table


RESALE_ROWS = (
    "resale: orders placed per second",
    "resale: deposits matched per second",
    "resale: paid to delivered per second",
)


def _resale_rows(out: Path) -> dict[str, dict]:
    rows = {r["name"]: r for r in json.loads((out / "latest.json").read_text())}
    assert "resale: failed" not in rows, rows.get("resale: failed")
    return rows


def _measured(row: dict) -> None:
    assert row["value"] > 0 and row["baseline"] > 0
    assert row["ratio"] == pytest.approx(row["value"] / row["baseline"], rel=0.05)
    assert row["goal"] == "none (reported)" and row["met"] is None
    assert row["baseline_label"].startswith("raw SQL")


@pytest.mark.bench
def test_smallest_resale_case_measures_each_row_against_raw_sql(tmp_path):
    assert main(["--smoke", "--only", "resale", "--no-postgres", "--out", str(tmp_path)]) == 0

    rows = _resale_rows(tmp_path)
    for name in RESALE_ROWS:
        _measured(rows[f"{name} (SQLite)"])
        # Without PostgreSQL the rows are there, unmeasured, and say why.
        pg = rows[f"{name} (PostgreSQL)"]
        assert pg["value"] is None and pg["ratio"] is None and "PostgreSQL" in pg["note"]
    # every order placed in the run was paid and delivered, and the books check
    delivered = rows["resale: paid to delivered per second (SQLite)"]["note"]
    assert "ledger check clean" in delivered and "'delivered': 30}" in delivered


@pytest.mark.bench
def test_smallest_resale_case_on_postgres(tmp_path):
    url = os.environ.get("GIFTCASH_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("GIFTCASH_TEST_POSTGRES_URL is not set")
    args = ["--smoke", "--only", "resale", "--postgres-url", url, "--out", str(tmp_path)]
    assert main(args) == 0

    rows = _resale_rows(tmp_path)
    for name in RESALE_ROWS:
        _measured(rows[f"{name} (PostgreSQL)"])
    assert "ledger check clean" in rows["resale: paid to delivered per second (PostgreSQL)"]["note"]


def test_setup_says_what_to_do_when_wrk_cannot_be_installed(monkeypatch):
    import bench.__main__ as runner

    monkeypatch.setattr(runner.shutil, "which", lambda name: None)
    with pytest.raises(SystemExit, match="no apt-get: install wrk by hand"):
        runner.setup_wrk()


def test_setup_installs_nothing_when_wrk_is_there(monkeypatch):
    import bench.__main__ as runner

    calls: list[list[str]] = []
    monkeypatch.setattr(runner.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(runner.subprocess, "run", lambda cmd, **kw: calls.append(cmd))
    runner.setup_wrk()
    assert calls == []


def test_setup_retries_after_refreshing_the_package_lists(monkeypatch):
    import bench.__main__ as runner

    calls: list[list[str]] = []
    found = iter([None, "/usr/bin/apt-get", "/usr/bin/wrk"])

    class Done:
        def __init__(self, rc: int) -> None:
            self.returncode = rc

    def run(cmd, **kw):
        calls.append(cmd)
        # the first install finds no package lists; after the update it succeeds
        return Done(100 if len(calls) == 1 else 0)

    monkeypatch.setattr(runner.shutil, "which", lambda name: next(found))
    monkeypatch.setattr(runner.os, "geteuid", lambda: 0)
    monkeypatch.setattr(runner.subprocess, "run", run)
    runner.setup_wrk()
    assert [c[:2] for c in calls] == [
        ["apt-get", "install"],
        ["apt-get", "update"],
        ["apt-get", "install"],
    ]
