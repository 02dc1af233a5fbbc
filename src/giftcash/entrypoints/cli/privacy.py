"""``giftcash privacy purge``: the retention schedule applied now (privacy/purge.py)."""

from __future__ import annotations

import typer
from rich.table import Table

from giftcash.entrypoints.cli.common import App, DatabaseUrl, actor, console, deps_for, progress

privacy_app = App(help="Retention and destruction of records.", no_args_is_help=True)


@privacy_app.command("purge")
def purge(
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Count what is due and change nothing (each batch rolled back)."
    ),
    batch: int = typer.Option(200, "--batch", min=1, max=10_000, help="Customers per transaction."),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Pseudonymise customers whose personal data is past its period, destroy the accounts
    paid to once transaction records are past theirs, delete old sign-in records and
    access-log rows; report the counts per kind. Run again, it changes nothing."""
    from giftcash.privacy import purge as purging

    deps = deps_for(database_url)
    with progress() as bar:
        task = bar.add_task("customers scanned", total=None)
        report = purging.purge(
            deps,
            dry_run=dry_run,
            batch=batch,
            actor=actor(),
            progress=lambda scanned, _erased: bar.update(task, completed=scanned),
        )
    title = "Due now (dry run: nothing changed)" if dry_run else "Purged"
    table = Table(title=title)
    table.add_column("kind")
    table.add_column("count", justify="right")
    for kind, n in report.erased.counts().items():
        table.add_row(kind, f"{n:,}")
    console.print(table)
    console.print(f"{report.customers_scanned:,} customers scanned")
    for why, n in sorted(report.held.items()):
        console.print(f"[yellow]{n:,} held[/]: {why}")
