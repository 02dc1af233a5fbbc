"""``giftcash stops list|show|export|file|release|settle``: payment stops (지급정지) from
the command line, through the same use cases as the API and the console; every change
and every export is audited with the shell user as the actor."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from giftcash.adapters.files import write_durably
from giftcash.entrypoints.cli.common import (
    App,
    DatabaseUrl,
    cli_operator,
    console,
    deps_for,
    usage_error,
)

stops_app = App(
    help="Payment stops (지급정지): file, read, release, settle, and the tracing export.",
    no_args_is_help=True,
)


def _show(detail: object) -> None:
    from giftcash.stops.filing import StopDetail

    assert isinstance(detail, StopDetail)
    s = detail.stop
    console.print(
        f"stop {s.id}: {s.state}; {s.scope} {escape(s.subject_masked)}"
        f"{f' ({s.bank_code})' if s.bank_code else ''}; asked by {s.requester} "
        f"{escape(s.requester_name)} ({escape(s.requester_contact)}), ref {escape(s.reference)}"
    )
    found = ", ".join(f"{k}: {n}" for k, n in detail.found.items()) or "nothing yet"
    console.print(f"found: {found}")
    for payout_id in detail.paid_before:
        console.print(f"paid before the stop: payout {payout_id}")


@stops_app.command("list")
def stops_list(
    state: str | None = typer.Option(None, "--state", help="active | released | settled"),
    limit: int = typer.Option(50, "--limit", min=1, max=200),
    database_url: str | None = DatabaseUrl,
) -> None:
    """The newest stops first."""
    from giftcash.stops import filing

    rows = filing.list_stops(
        deps_for(database_url), cli_operator(), state=state, cursor=None, limit=limit
    )
    table = Table(title=f"Payment stops ({len(rows)})")
    for col in ("id", "state", "scope", "subject", "requester", "reference", "filed"):
        table.add_column(col)
    for s in rows:
        table.add_row(
            s.id,
            s.state,
            s.scope,
            escape(s.subject_masked),
            escape(f"{s.requester}: {s.requester_name}"),
            escape(s.reference),
            s.created_at.isoformat(timespec="seconds"),
        )
    console.print(table)


@stops_app.command("show")
def stops_show(stop_id: str, database_url: str | None = DatabaseUrl) -> None:
    """One stop and what it found."""
    from giftcash.stops import filing

    _show(filing.get_stop(deps_for(database_url), cli_operator(), stop_id))


@stops_app.command("file")
def stops_file(
    scope: str = typer.Option(..., "--scope", help="account | customer | code"),
    requester: str = typer.Option(..., "--requester", help="bank | police | internal"),
    requester_name: str = typer.Option(..., "--requester-name"),
    requester_contact: str = typer.Option(..., "--requester-contact"),
    reference: str = typer.Option(..., "--reference"),
    reason: str = typer.Option(..., "--reason"),
    customer_id: str | None = typer.Option(None, "--customer-id"),
    bank_code: str | None = typer.Option(None, "--bank-code"),
    account_number: str | None = typer.Option(None, "--account-number"),
    code_stdin: bool = typer.Option(
        False, "--code-stdin", help="Read the voucher code from stdin (never an argument)."
    ),
    database_url: str | None = DatabaseUrl,
) -> None:
    """File a stop; it holds what it names from the moment this command answers."""
    import sys

    from giftcash.stops import filing

    code = sys.stdin.readline().strip() if code_stdin else None
    req = filing.StopRequest(
        scope=scope,
        requester=requester,
        requester_name=requester_name,
        requester_contact=requester_contact,
        reference=reference,
        reason=reason,
        customer_id=customer_id,
        code=code,
        bank_code=bank_code,
        account_number=account_number,
    )
    _show(filing.file_stop(deps_for(database_url), cli_operator(), req))


@stops_app.command("release")
def stops_release(
    stop_id: str,
    reason: str = typer.Option(..., "--reason"),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Lift a stop: what it held is paid once by the pipeline."""
    from giftcash.stops import filing

    _show(filing.release_stop(deps_for(database_url), cli_operator(), stop_id, reason))


@stops_app.command("settle")
def stops_settle(
    stop_id: str,
    reason: str = typer.Option(..., "--reason"),
    database_url: str | None = DatabaseUrl,
) -> None:
    """End what a stop holds without paying the customer (booked to the stop)."""
    from giftcash.stops import filing

    _show(filing.settle_stop(deps_for(database_url), cli_operator(), stop_id, reason))


@stops_app.command("export")
def stops_export(
    stop_id: str,
    format_: str = typer.Option("csv", "--format", help="csv | json"),
    output: Path = typer.Option(..., "--output", "-o", help="The file to write."),
    database_url: str | None = DatabaseUrl,
) -> None:
    """The tracing export (codes and accounts masked); audited."""
    from giftcash.stops import tracing

    if format_ not in tracing.FORMATS:
        raise usage_error(f"unknown format {escape(format_)!r}; csv or json")
    report = tracing.export(deps_for(database_url), cli_operator(), stop_id, fmt=format_)
    write_durably(output, report.content)
    console.print(f"[green]wrote {report.count:,} row(s) to {escape(str(output))}[/]")
