"""``giftcash audit verify``: the audit log's hash chain."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from giftcash.entrypoints.cli.common import (
    App,
    DatabaseUrl,
    console,
    current_settings,
    err_console,
)

audit_app = App(help="The hash-chained audit log.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(database_url: str | None = DatabaseUrl) -> None:
    """Check the audit log's hash chain; exit 1 and list the broken records if it fails."""
    from giftcash.adapters.db.app_uow import AppUnitOfWork
    from giftcash.audit import log as audit
    from giftcash.bootstrap import make_engine_from_settings

    engine = make_engine_from_settings(current_settings(database_url))
    try:
        with AppUnitOfWork(engine, read_only=True) as uow:
            problems = audit.verify(uow)
            head_seq, head_hash = uow.audit.head()
    finally:
        engine.dispose()
    if not problems:
        console.print(f"[bold green]audit log ok[/]: {head_seq:,} records, head {head_hash[:16]}…")
        return
    table = Table(title=f"Audit log broken ({len(problems)} problems)")
    for col in ("seq", "problem", "message"):
        table.add_column(col)
    for p in problems:
        table.add_row(str(p.seq), escape(p.rule), escape(p.message))
    err_console.print(table)
    raise typer.Exit(1)
