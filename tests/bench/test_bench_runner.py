"""The benchmark runner's smallest case, so ``python -m bench`` cannot rot unnoticed.

Not a benchmark: the sizes are tiny and no figure is compared with anything; it checks
that the runner measures, compares with its baseline and writes both output files."""

from __future__ import annotations

import json
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
