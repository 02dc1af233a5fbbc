"""Runs the registered scenarios (once, or repeatedly for ``--long`` seconds), adds their
rows up per scenario and renders the summary table."""

from __future__ import annotations

import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from giftcash.selftest.registry import BAD_COLUMNS, Context, Row, Scenario, load_scenarios

COLUMNS = (
    ("scenario", "scenario"),
    ("runs", "runs"),
    ("items", "items"),
    ("sigkills", "SIGKILLs"),
    ("recovered", "recovered\nafter kill"),
    ("faults", "faults\ninjected"),
    ("double_redemptions", "double\nredemptions"),
    ("double_payouts", "double\npayouts"),
    ("double_deliveries", "double\ndeliveries"),
    ("double_refunds", "double\nrefunds"),
    ("lost_won", "lost\nwon"),
    ("invariant_breaks", "invariant\nbreaks"),
    ("unsettled", "unsettled"),
    ("server_errors", "5xx"),
    ("harness_errors", "harness\nerrors"),
    ("seconds", "seconds"),
)
TABLE_WIDTH = 180


@dataclass
class Summary:
    rows: dict[str, Row] = field(default_factory=dict)
    workdir: Path | None = None  # kept when a run failed, for the post-mortem

    @property
    def bad(self) -> int:
        return sum(r.bad for r in self.rows.values())

    def failures(self) -> list[str]:
        """``scenario: column value`` for every bad cell that is not zero."""
        return [
            f"{row.scenario}: {name.replace('_', ' ')} {getattr(row, name):,}"
            for row in self.rows.values()
            for name in BAD_COLUMNS
            if getattr(row, name)
        ]

    def add(self, row: Row) -> None:
        self.rows[row.scenario] = (
            self.rows[row.scenario] + row if row.scenario in self.rows else row
        )


def run_scenario(sc: Scenario, ctx: Context) -> Row:
    """One run; an exception is a harness error with the traceback kept in the run's folder."""
    began = time.monotonic()
    ctx.workdir.mkdir(parents=True, exist_ok=True)
    try:
        row = sc.fn(ctx)
    except Exception as e:  # the summary reports it; the table must still be printed
        (ctx.workdir / "error.txt").write_text(traceback.format_exc())
        return Row(
            sc.name,
            harness_errors=1,
            seconds=time.monotonic() - began,
            notes=[f"seed {ctx.seed}: {type(e).__name__}: {str(e)[:300]}", f"see {ctx.workdir}"],
        )
    if row.bad:
        row.notes.append(f"files of this run: {ctx.workdir}")
    return row


def run_selftest(
    *,
    seed: int,
    long_s: float | None = None,
    database_url: str | None = None,
    only: Sequence[str] = (),
    progress: Callable[[str], None] = lambda _msg: None,
) -> Summary:
    scenarios = [s for s in load_scenarios() if not only or s.name in only]
    unknown = set(only) - {s.name for s in scenarios}
    if unknown:
        raise ValueError(f"no scenario named {', '.join(sorted(unknown))}")
    root = Path(tempfile.mkdtemp(prefix="giftcash-selftest-"))
    summary = Summary()
    began = time.monotonic()
    run = 0
    while True:
        for sc in scenarios:
            if run and time.monotonic() - began >= (long_s or 0):
                break  # time is up; the first pass always runs whole
            ctx = Context(
                seed=seed + run,
                workdir=root / f"{sc.name}-{run}",
                database_url=database_url,
                long=long_s is not None,
                run=run,
                progress=progress,
            )
            progress(f"{sc.name}: run {run + 1}, seed {ctx.seed}")
            row = run_scenario(sc, ctx)
            if not row.bad:
                shutil.rmtree(ctx.workdir, ignore_errors=True)
            summary.add(row)
        run += 1
        if long_s is None or time.monotonic() - began >= long_s:
            break
    if summary.bad:
        summary.workdir = root
    else:
        shutil.rmtree(root, ignore_errors=True)
    return summary


def _cell(row: Row, name: str) -> str:
    value = getattr(row, name)
    if name == "seconds":
        return f"{value:.0f}"
    text = f"{value:,}" if isinstance(value, int) else escape(str(value))
    if name in BAD_COLUMNS:
        return f"[bold red]{text}[/]" if value else f"[green]{text}[/]"
    return text


def render(summary: Summary, title: str = "giftcash selftest") -> Table:
    table = Table(title=title)
    for name, header in COLUMNS:
        if name == "scenario":
            table.add_column(header, no_wrap=True)
        else:
            table.add_column(header, justify="right")
    for row in summary.rows.values():
        table.add_row(*(_cell(row, name) for name, _ in COLUMNS))
    return table


def notes(summary: Summary, per_row: int = 8) -> list[str]:
    """The notes worth reading: every note of a failing row, a few of the others."""
    out = []
    for row in summary.rows.values():
        seen: list[str] = []
        for note in row.notes:
            if note not in seen:
                seen.append(note)
        limit = len(seen) if row.bad else per_row
        out += [f"{row.scenario}: {note}" for note in seen[:limit]]
    return out
