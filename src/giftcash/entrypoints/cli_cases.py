"""``giftcash cases scan|list|export``: suspicious-activity cases from the command line,
through the same use cases as the admin API (an export is audited with the shell user as
the actor)."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from giftcash.adapters.files import write_durably
from giftcash.domain.errors import DomainError
from giftcash.entrypoints.cli import _DATABASE_URL_HELP, _settings, app, console, err_console, fail

cases_app = typer.Typer(
    help="Suspicious-activity cases: scan for them, list them, export the report.",
    no_args_is_help=True,
)
app.add_typer(cases_app, name="cases")

_STATUS_HELP = "open | under_review | reported | dismissed | active (open or under review)"


def _deps(database_url: str | None):
    from giftcash.adapters.db.migrate import require_current_schema
    from giftcash.bootstrap import build_deps

    settings = _settings(database_url)
    require_current_schema(settings.resolved_database_url)
    return build_deps(settings)


def _cli_operator():
    from giftcash.service.operators import Operator

    user = getpass.getuser()
    return Operator(id=f"cli:{user}", username=f"cli-{user}", role="admin")


@cases_app.command("scan")
def cases_scan(
    days: int | None = typer.Option(
        None, "--days", min=1, max=366, help="Look this many days back (default: 7)."
    ),
    since_: str | None = typer.Option(
        None, "--since", help="Look back to this ISO date or time (UTC if no zone)."
    ),
    database_url: str | None = typer.Option(None, "--database-url", help=_DATABASE_URL_HELP),
) -> None:
    """Run every money-laundering detector now; open cases or add evidence to them."""
    from giftcash.service import cases

    since = datetime.now(UTC) - timedelta(days=days) if days else None
    if since_:
        try:
            since = datetime.fromisoformat(since_)
        except ValueError:
            err_console.print("[bold red]error[/] --since takes an ISO date such as 2026-11-01")
            raise typer.Exit(2) from None
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
    try:
        r = cases.scan(_deps(database_url), since, actor=f"cli:{getpass.getuser()}")
    except DomainError as e:
        raise fail(e) from None
    console.print(
        f"scanned since {r.since.isoformat(timespec='seconds')}: {r.signals} signal(s), "
        f"{len(r.opened)} case(s) opened, {len(r.updated)} updated, "
        f"{r.evidence_added} evidence record(s) added"
    )


@cases_app.command("list")
def cases_list(
    status: str | None = typer.Option(None, "--status", help=_STATUS_HELP),
    kind: str | None = typer.Option(None, "--kind", help="e.g. duplicate_ring, pin_testing"),
    limit: int = typer.Option(50, "--limit", min=1, max=1000),
    database_url: str | None = typer.Option(None, "--database-url", help=_DATABASE_URL_HELP),
) -> None:
    """The newest cases first."""
    from giftcash.service import cases

    try:
        found = cases.list_cases(_deps(database_url), status=status, kind=kind, limit=limit)
    except DomainError as e:
        raise fail(e) from None
    table = Table(title=f"Cases ({len(found)})")
    for col in ("id", "kind", "status", "subject", "customers", "amount", "evidence", "opened"):
        table.add_column(col)
    for c in found:
        table.add_row(
            c.id,
            c.kind,
            c.status,
            escape(c.subject),
            str(len(c.customer_ids)),
            f"{c.total_amount:,} {c.currency}",
            str(c.evidence_count),
            c.opened_at.isoformat(timespec="seconds"),
        )
    console.print(table)


@cases_app.command("export")
def cases_export(
    format_: str = typer.Option("csv", "--format", help="csv | json"),
    output: Path = typer.Option(..., "--output", "-o", help="The report file to write."),
    status: str | None = typer.Option(None, "--status", help=_STATUS_HELP),
    database_url: str | None = typer.Option(None, "--database-url", help=_DATABASE_URL_HELP),
) -> None:
    """Write the compliance report (names and codes masked); the export is audited."""
    from giftcash.service import cases

    if format_ not in cases.EXPORT_FORMATS:
        err_console.print(f"[bold red]error[/] unknown format {escape(format_)!r}; csv or json")
        raise typer.Exit(2)
    try:
        report = cases.export(_deps(database_url), _cli_operator(), fmt=format_, status=status)
    except DomainError as e:
        raise fail(e) from None
    write_durably(output, report.content)
    console.print(f"[green]wrote {report.count:,} case(s) to {escape(str(output))}[/]")
