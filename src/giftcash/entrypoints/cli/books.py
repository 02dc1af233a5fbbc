"""``giftcash db upgrade`` and ``giftcash ledger check|export``: the database's schema and
the books kept in it."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from giftcash.entrypoints.cli.common import (
    App,
    DatabaseUrl,
    console,
    current_settings,
    settings_for,
    usage_error,
)

db_app = App(help="The database: create it, upgrade its schema.", no_args_is_help=True)
ledger_app = App(help="The books: check the invariants, export.", no_args_is_help=True)


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@db_app.command("upgrade")
def db_upgrade(
    database_url: str | None = DatabaseUrl,
    revision: str = typer.Option("head", help="Target revision."),
) -> None:
    """Create the database (SQLite) or upgrade its schema to the latest revision."""
    from giftcash.adapters.db import migrate

    url = settings_for(database_url).resolved_database_url
    migrate.upgrade(url, revision)
    console.print(
        f"[green]database {escape(_shown(url))} is at revision "
        f"{escape(str(migrate.current_revision(url)))}[/]"
    )


@ledger_app.command("check")
def ledger_check(database_url: str | None = DatabaseUrl) -> None:
    """Verify every invariant of the books; exit 1 and list the violations if any fails."""
    from giftcash.adapters.db.ledger_check import check
    from giftcash.adapters.db.uow import SqlUnitOfWork
    from giftcash.bootstrap import make_engine_from_settings

    engine = make_engine_from_settings(current_settings(database_url))
    try:
        with SqlUnitOfWork(engine, read_only=True) as uow:
            violations = check(uow.conn)
            transfers = uow.ledger.count()
    finally:
        engine.dispose()
    if not violations:
        console.print(f"[bold green]ledger ok[/]: {transfers:,} transfers, every invariant holds")
        return
    table = Table(title=f"Ledger violations ({len(violations)})")
    for col in ("rule", "subject", "message"):
        table.add_column(col)
    for v in violations:
        table.add_row(escape(v.rule), escape(v.subject), escape(v.message))
    console.print(table)
    raise typer.Exit(1)


@ledger_app.command("export")
def ledger_export(
    format_: str = typer.Option("beancount", "--format", help="Output format: beancount."),
    output: Path | None = typer.Option(None, "--output", "-o", help="File; default stdout."),
    operating_currency: str | None = typer.Option(
        None, help="Beancount's operating currency (default: the jurisdiction's)."
    ),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Write the books in a format other tools check (beancount: `bean-check FILE`)."""
    from giftcash.adapters.db.ledger_export import export_beancount
    from giftcash.adapters.db.migrate import require_current_schema
    from giftcash.adapters.db.uow import SqlUnitOfWork
    from giftcash.adapters.files import durable_writer
    from giftcash.bootstrap import make_engine_from_settings
    from giftcash.domain.jurisdictions import pack

    if format_ != "beancount":
        raise usage_error(f"unknown format {escape(format_)!r}; use beancount")
    s = settings_for(database_url)
    currency = operating_currency or pack(s.jurisdiction).currency
    engine = make_engine_from_settings(s)
    try:
        require_current_schema(s.resolved_database_url)
        with SqlUnitOfWork(engine, read_only=True) as uow:
            if output is None:
                count = export_beancount(uow.conn, sys.stdout, operating_currency=currency)
            else:
                with durable_writer(output, mode=0o644) as out:
                    count = export_beancount(uow.conn, out, operating_currency=currency)
    finally:
        engine.dispose()
    if output is not None:
        console.print(f"[green]wrote {count:,} transactions to {escape(str(output))}[/]")
