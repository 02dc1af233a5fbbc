"""``giftcash selftest``: the crash and fault scenarios (and whatever else is registered in
``giftcash.selftest``), one summary table, a non-zero exit on any bad figure."""

from __future__ import annotations

import logging
import secrets
import time

import typer
from rich.console import Console
from rich.markup import escape

from giftcash.entrypoints.cli.common import console, err_console


def selftest(
    long: float | None = typer.Option(
        None, "--long", min=1, help="Seconds: run the scenarios again and again this long."
    ),
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        help="PostgreSQL URL; each run makes and drops its own schema in it. Default: SQLite.",
    ),
    seed: int | None = typer.Option(None, "--seed", help="Replay a run (printed on every run)."),
    scenario: list[str] | None = typer.Option(
        None, "--scenario", "-s", help="Run only this scenario (repeatable)."
    ),
) -> None:
    """Prove the exchange never pays twice and never loses a won: crash and fault runs."""
    from giftcash.selftest.runner import TABLE_WIDTH, notes, render, run_selftest

    logging.basicConfig(level=logging.ERROR)
    seed = seed if seed is not None else secrets.randbelow(1_000_000)
    began = time.monotonic()
    err_console.print(f"[dim]selftest seed {seed}[/]")
    try:
        summary = run_selftest(
            seed=seed,
            long_s=long,
            database_url=database_url,
            only=scenario or (),
            progress=lambda msg: err_console.print(f"[dim]{escape(msg)}[/]"),
        )
    except ValueError as e:
        err_console.print(f"[bold red]error[/] {escape(str(e))}")
        raise typer.Exit(2) from None
    # Logs and CI have no terminal width: give the table room instead of 80 columns.
    out = console if console.is_terminal else Console(width=TABLE_WIDTH)
    out.print(render(summary, title=f"giftcash selftest (seed {seed})"))
    for line in notes(summary):
        console.print(f"[dim]{escape(line)}[/]")
    took = time.monotonic() - began
    if summary.bad:
        console.print(
            f"[bold red]FAILED[/] ({took:.0f}s): {escape('; '.join(summary.failures()))}."
            f" Replay with --seed {seed}; files kept in {escape(str(summary.workdir))}"
        )
        raise typer.Exit(1)
    console.print(f"[bold green]passed[/]: every bad column is 0 ({took:.0f}s)")
