"""``giftcash evidence export`` (the issuer's answers about an item or a sale, for a
dispute; codes masked) and ``giftcash bank-hours list|add|remove`` (banks' windows and
announced maintenance; changes audited)."""

from __future__ import annotations

import sys
from datetime import datetime

import typer
from rich.markup import escape
from rich.table import Table

from giftcash.entrypoints.cli.common import App, DatabaseUrl, actor, console, deps_for
from giftcash.entrypoints.cli.output import JsonOut, print_json

ZONED = ["%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M:%S%z"]
evidence_app = App(help="The issuer's answers about an item or a sale, for a dispute.")
bank_hours_app = App(help="Banks' nightly windows and announced maintenance.")


@evidence_app.command("export")
def evidence_export(
    item: str | None = typer.Option(None, "--item", help="One item's answers."),
    sale: str | None = typer.Option(None, "--sale", help="Every item of one sale."),
    fmt: str = typer.Option("json", "--format", help="json or csv"),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Print the issuer's answers (inquiry and redemption: asked, answered, outcome, the
    issuer's own time, place and reference) with each item's masked code."""
    from giftcash.redemption import evidence

    if (item is None) == (sale is None) or fmt not in ("json", "csv"):
        console.print("give one of --item or --sale, and --format json or csv")
        raise typer.Exit(2)
    lines = evidence.export(deps_for(database_url), item_id=item, submission_id=sale)
    sys.stdout.write(evidence.as_json(lines) + "\n" if fmt == "json" else evidence.as_csv(lines))


@bank_hours_app.command("list")
def bank_hours_list(as_json: bool = JsonOut, database_url: str | None = DatabaseUrl) -> None:
    """Every bank's nightly window (settings), whether it is closed now, its maintenance."""
    from giftcash.payouts import bank_hours

    rows = bank_hours.overview(deps_for(database_url))
    if as_json:
        print_json(
            [
                {
                    "bank_code": r.bank_code,
                    "nightly": str(r.nightly),
                    "reopens_at": r.reopens_at,
                    "maintenance": [
                        {"id": m.id, "starts_at": m.starts_at, "ends_at": m.ends_at, "note": m.note}
                        for m in r.maintenance
                    ],
                }
                for r in rows
            ]
        )
        return
    table = Table(title="Bank hours (Korean time)")
    for column in ("bank", "nightly", "closed until", "maintenance"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            f"{r.bank_code} {escape(r.bank_name)}",
            str(r.nightly),
            r.reopens_at.isoformat() if r.reopens_at else "open",
            "\n".join(
                f"{m.id} {m.starts_at.isoformat()} - {m.ends_at.isoformat()} {escape(m.note)}"
                for m in r.maintenance
            ),
        )
    console.print(table)


@bank_hours_app.command("add")
def bank_hours_add(
    bank_code: str = typer.Argument(...),
    starts_at: datetime = typer.Argument(..., formats=ZONED, help="e.g. 2026-12-05T02:00+09:00"),
    ends_at: datetime = typer.Argument(..., formats=ZONED),
    note: str = typer.Option("", "--note"),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Announce a bank's maintenance window: no payout to it is attempted inside it."""
    from giftcash.payouts import bank_hours

    m = bank_hours.add_maintenance(
        deps_for(database_url), actor(), bank_code, starts_at, ends_at, note
    )
    console.print(f"maintenance {m.id} for bank {m.bank_code} added")


@bank_hours_app.command("remove")
def bank_hours_remove(
    maintenance_id: str = typer.Argument(...), database_url: str | None = DatabaseUrl
) -> None:
    from giftcash.payouts import bank_hours

    m = bank_hours.remove_maintenance(deps_for(database_url), actor(), maintenance_id)
    console.print(f"maintenance {m.id} for bank {m.bank_code} removed")
