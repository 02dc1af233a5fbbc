"""``giftcash cases scan|list|export``: suspicious-activity cases from the command line,
through the same use cases as the admin API (an export is audited with the shell user as
the actor)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from giftcash.adapters.files import write_durably
from giftcash.entrypoints.cli.common import (
    App,
    DatabaseUrl,
    actor,
    cli_operator,
    console,
    deps_for,
    usage_error,
)

cases_app = App(
    help="Suspicious-activity cases: scan for them, list them, export the report.",
    no_args_is_help=True,
)
_STATUS_HELP = "open | under_review | reported | dismissed | active (open or under review)"


@cases_app.command("scan")
def cases_scan(
    days: int | None = typer.Option(
        None, "--days", min=1, max=366, help="Look this many days back (default: 7)."
    ),
    since_: str | None = typer.Option(
        None, "--since", help="Look back to this ISO date or time (UTC if no zone)."
    ),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Run every money-laundering detector now; open cases or add evidence to them."""
    from giftcash.review import cases

    since = datetime.now(UTC) - timedelta(days=days) if days else None
    if since_:
        try:
            since = datetime.fromisoformat(since_)
        except ValueError:
            raise usage_error("--since takes an ISO date such as 2026-11-01") from None
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
    r = cases.scan(deps_for(database_url), since, actor=actor())
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
    database_url: str | None = DatabaseUrl,
) -> None:
    """The newest cases first."""
    from giftcash.review import cases

    found = cases.list_cases(deps_for(database_url), status=status, kind=kind, limit=limit)
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
    database_url: str | None = DatabaseUrl,
) -> None:
    """Write the compliance report (names and codes masked); the export is audited."""
    from giftcash.review import cases

    if format_ not in cases.EXPORT_FORMATS:
        raise usage_error(f"unknown format {escape(format_)!r}; csv or json")
    report = cases.export(deps_for(database_url), cli_operator(), fmt=format_, status=status)
    write_durably(output, report.content)
    console.print(f"[green]wrote {report.count:,} case(s) to {escape(str(output))}[/]")
