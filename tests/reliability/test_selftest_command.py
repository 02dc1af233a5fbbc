"""`giftcash selftest` itself: one table, exit status 1 on any bad column, `--long`
adds runs up, a scenario that breaks is a harness error, not a crash of the command."""

from __future__ import annotations

import tempfile
import time

import pytest
from typer.testing import CliRunner

from giftcash.entrypoints.cli import app
from giftcash.selftest import registry
from giftcash.selftest.registry import Context, Row, scenario

pytestmark = pytest.mark.slow  # runs the selftest command


@pytest.fixture
def only_test_scenarios(monkeypatch, tmp_path):
    monkeypatch.setattr(registry, "_REGISTRY", {})
    monkeypatch.setattr(registry, "SCENARIO_MODULES", [])
    # a failed run keeps its folder for the post-mortem: keep it under this test's tmp
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


def run(*args: str):
    return CliRunner().invoke(app, ["selftest", *args], terminal_width=200)


def test_clean_rows_pass_and_print_one_table(only_test_scenarios):
    seeds = []

    @scenario("clean")
    def clean(ctx: Context) -> Row:
        seeds.append(ctx.seed)
        return Row("clean", items=10, sigkills=3)

    result = run("--seed", "7")

    assert result.exit_code == 0, result.output
    assert seeds == [7]
    assert "clean" in result.output and "passed" in result.output
    assert "double" in result.output and "5xx" in result.output  # the columns


@pytest.mark.parametrize(
    "column", ["double_redemptions", "double_payouts", "lost_won", "invariant_breaks"]
)
def test_any_bad_column_fails_the_command(only_test_scenarios, column):
    @scenario("broken")
    def broken(ctx: Context) -> Row:
        return Row("broken", items=10, **{column: 1})

    result = run("--seed", "7")

    assert result.exit_code == 1, result.output
    assert "FAILED" in result.output and "--seed 7" in result.output
    assert f"broken: {column.replace('_', ' ')} 1" in " ".join(result.output.split())


def test_a_scenario_that_raises_is_a_harness_error(only_test_scenarios):
    @scenario("raises")
    def raises(ctx: Context) -> Row:
        raise RuntimeError("the simulator would not start")

    result = run()

    assert result.exit_code == 1
    assert "the simulator would not start" in result.output


def test_long_runs_again_with_the_next_seed_and_adds_up(only_test_scenarios):
    seeds = []

    @scenario("short")
    def short(ctx: Context) -> Row:
        seeds.append(ctx.seed)
        time.sleep(0.4)
        return Row("short", items=5, sigkills=2)

    result = run("--long", "1", "--seed", "100")

    assert result.exit_code == 0, result.output
    assert len(seeds) >= 2 and seeds == list(range(100, 100 + len(seeds)))
    assert Row("short") + Row("short", items=5) == Row("short", runs=2, items=5)
    cells = next(x for x in result.output.splitlines() if x.startswith("│ short")).split("│")
    assert [c.strip() for c in cells[2:5]] == [
        str(len(seeds)),
        str(5 * len(seeds)),
        str(2 * len(seeds)),
    ]


def test_an_unknown_scenario_is_refused(only_test_scenarios):
    result = run("--scenario", "nope")
    assert result.exit_code == 2
