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
    """List the brands as bought now, one line each: id, name, issuer, rate, on or off.
    ``giftcash brands show ID`` has the face values and the code format."""
    from giftcash.catalogue import live as catalogue

    brands = list(catalogue.current_brands(deps_for(database_url)).values())
    # the ids are what a user types: never cut; the names give way first
    id_width = max((len(b.id) for b in brands), default=2)
    issuer_width = min(max((len(b.issuer) for b in brands), default=6), 14)
    # five columns: six rules and a space either side of each cell
    name_width = max(console.width - id_width - issuer_width - 6 - 7 - 16, 8)
    table = Table(title="Brands", caption="giftcash brands show ID: face values, code format")
    table.add_column("id", no_wrap=True, min_width=id_width)
    table.add_column("name", no_wrap=True, overflow="ellipsis", max_width=name_width)
    table.add_column("issuer", no_wrap=True, overflow="ellipsis", max_width=issuer_width)
    table.add_column("rate", no_wrap=True, justify="right")
    table.add_column("enabled", no_wrap=True, min_width=len("enabled"))
    for b in brands:
        table.add_row(
            b.id, b.name_ko, b.issuer, _pct(b.buyback_rate_bps), "yes" if b.enabled else "no"
        )
    console.print(table)


@brands_app.command("show")
def brands_show(
    brand_id: str = typer.Argument(..., help="Brand id, see `giftcash brands list`."),
    database_url: str | None = DatabaseUrl,
) -> None:
    """One brand as bought now: names, issuer, rate, face values, code format, on or off,
    and whether it is redeemed at its issuer or resold."""
    from giftcash.catalogue import live as catalogue
    from giftcash.domain.brands import Disposition
    from giftcash.domain.errors import BrandNotFound

    b = catalogue.current_brands(deps_for(database_url)).get(brand_id)
    if b is None:
        raise BrandNotFound(f"no brand {brand_id[:64]!r}; see `giftcash brands list`")
    table = Table(show_header=False, title=f"Brand: {b.id}")
    table.add_column("field", no_wrap=True)
    table.add_column("value")
    table.add_row("id", b.id)
    table.add_row("name", f"{b.name_ko}\n{b.name}")
    table.add_row("issuer", b.issuer)
    table.add_row("rate", f"{_pct(b.buyback_rate_bps)} of face value (fee {_pct(b.fee_bps)})")
    table.add_row("face values", f"{b.face_values.describe()} {b.currency}")
    table.add_row("code format", b.code_format.description)
    table.add_row("enabled", "yes" if b.enabled else "no")
    if b.disposition is Disposition.RESELL:  # verified by inquiry, stocked, sold on
        table.add_row("disposition", f"resell (seller paid after {b.resell_hold_s} s)")
    else:
        table.add_row("disposition", "redeem at the issuer")
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
