"""The ``giftcash`` command (Typer + Rich). Commands are thin: parse, call, render."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from giftcash import __version__
from giftcash.domain.brands import CATALOGUE, find_brand
from giftcash.domain.errors import DomainError
from giftcash.domain.quotes import quote as make_quote

app = typer.Typer(
    help="giftcash: vouchers in, cash to your own bank account out.", no_args_is_help=True
)
console = Console()
err_console = Console(stderr=True)

# Exit statuses, mapped from the error kind in exactly one place.
EXIT_BY_KIND = {
    "invalid": 2,
    "not_found": 3,
    "conflict": 4,
    "forbidden": 5,
    "unauthorized": 5,
    "rate_limited": 6,
    "unavailable": 7,
}


def fail(error: DomainError) -> typer.Exit:
    err_console.print(f"[bold red]error[/] {escape(f'[{error.code}]')} {escape(error.message)}")
    return typer.Exit(EXIT_BY_KIND.get(error.kind, 1))


def _version(value: bool) -> None:
    if value:
        console.print(f"giftcash {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """giftcash command line."""


brands_app = typer.Typer(help="The brand catalogue.", no_args_is_help=True)
app.add_typer(brands_app, name="brands")


@brands_app.command("list")
def brands_list() -> None:
    """List the brands, their rates and code formats."""
    table = Table(title="Brands")
    for col in ("id", "name", "issuer", "rate", "face values", "code format", "enabled"):
        table.add_column(col)
    for b in CATALOGUE:
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


@app.command()
def quote(
    brand_id: str = typer.Argument(..., help="Brand id, see `giftcash brands list`."),
    face_value: int = typer.Argument(..., help="Face value in minor units (won)."),
    funding_source: str = typer.Option("cash", "--funding-source", "-f"),
    days_to_bill: int | None = typer.Option(None, help="Days until the bill is due."),
) -> None:
    """Price a voucher: fee, payout and, for credit, the annualised cost."""
    try:
        q = make_quote(find_brand(brand_id), face_value, funding_source, days_to_bill=days_to_bill)
    except DomainError as e:
        raise fail(e) from None
    table = Table(show_header=False, title=f"Quote: {brand_id}")
    table.add_row("face value", f"{q.face_value:,} {q.currency}")
    table.add_row("fee", f"{q.fee:,} {q.currency} ({_pct(q.fee_bps)})")
    table.add_row("payout", f"{q.payout:,} {q.currency}")
    table.add_row("funding source", q.funding_source.value)
    if q.annualized_cost_bps is not None:
        table.add_row(
            "annualised cost",
            f"{_pct(q.annualized_cost_bps)} a year (credit repaid in {q.days_to_bill} days)",
        )
    console.print(table)


def run() -> None:  # pragma: no cover - console script shim
    sys.exit(app())
