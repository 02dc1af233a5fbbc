"""``giftcash brands list`` and ``giftcash quote``: the brands as they are bought now and
a price, from the same use cases as ``GET /v1/brands`` and ``POST /v1/quotes`` (the live
catalogue with the operators' overrides, the kill switch, the injected clock)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import typer
from rich.markup import escape
from rich.table import Table

from giftcash.entrypoints.cli.common import App, DatabaseUrl, console, deps_for, usage_error

brands_app = App(help="The brand catalogue.", no_args_is_help=True)

KST = timezone(timedelta(hours=9))


@brands_app.command("list")
def brands_list(database_url: str | None = DatabaseUrl) -> None:
    """List the brands as bought now: their rates, code formats, on or off."""
    from giftcash.catalogue import live as catalogue

    table = Table(title="Brands")
    for col in ("id", "name", "issuer", "rate", "face values", "code format", "enabled"):
        table.add_column(col)
    for b in catalogue.current_brands(deps_for(database_url)).values():
        table.add_row(
            b.id,
            f"{b.name_ko}\n{b.name}",
            b.issuer,
            f"{b.buyback_rate_bps / 100:.2f}%",
            b.face_values.describe(),
            b.code_format.description,
            "yes" if b.enabled else "no",
        )
    console.print(table)


def _pct(bps: int) -> str:
    return f"{bps // 100}.{bps % 100:02d}%"


def _purchased_at(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise usage_error("--purchased takes an ISO date such as 2026-11-20") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=KST)


def quote(
    brand_id: str = typer.Argument(..., help="Brand id, see `giftcash brands list`."),
    face_value: int = typer.Argument(..., help="Face value in minor units (won)."),
    funding_source: str = typer.Option("cash", "--funding-source", "-f"),
    days_to_bill: int | None = typer.Option(None, help="Days until the bill is due."),
    purchased: str | None = typer.Option(
        None, help="When the voucher was bought (ISO date or time, Korean time if no zone)."
    ),
    jurisdiction: str | None = typer.Option(
        None, help="Jurisdiction pack: KR or US (default GIFTCASH_JURISDICTION)."
    ),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Price a voucher: fee, payout, the annualised cost of credit, the lawful routes."""
    from giftcash.intake import quoting

    purchased_at = _purchased_at(purchased)
    v = quoting.make_quote(
        deps_for(database_url),
        brand_id,
        face_value,
        funding_source,
        days_to_bill,
        purchased_at=purchased_at,
        jurisdiction=jurisdiction.upper() if jurisdiction else None,
    )
    q = v.quote
    table = Table(show_header=False, title=f"Quote: {brand_id} ({v.jurisdiction})")
    table.add_row("face value", f"{q.face_value:,} {q.currency}")
    table.add_row("fee", f"{q.fee:,} {q.currency} ({_pct(q.fee_bps)})")
    table.add_row("payout", f"{q.payout:,} {q.currency}")
    table.add_row("funding source", q.funding_source.value)
    if q.annualized_cost_bps is not None:
        table.add_row(
            "annualised cost",
            f"{_pct(q.annualized_cost_bps)} a year (credit repaid in {q.days_to_bill} days)",
        )
    if v.declined:
        code, message = v.declined
        table.add_row("[bold red]declined[/]", escape(f"[{code}] {message}"))
    console.print(table)
    routes = Table(title="Lawful routes", show_lines=False)
    for col in ("route", "cash", "how"):
        routes.add_column(col)
    for r in v.routes:
        routes.add_row(r.route, f"{r.cash:,} {r.currency}", escape(r.note))
    console.print(routes)
    if v.routes_note:
        console.print(escape(v.routes_note))
