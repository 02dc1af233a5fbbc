"""The ``giftcash`` command (Typer + Rich). Commands are thin: parse, call, render."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from giftcash import __version__
from giftcash.config import Settings
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
    purchased: str | None = typer.Option(
        None, help="When the voucher was bought (ISO date or time, Korean time if no zone)."
    ),
    jurisdiction: str = typer.Option("KR", help="Jurisdiction pack: KR or US."),
) -> None:
    """Price a voucher: fee, payout, the annualised cost of credit, the lawful routes."""
    from datetime import UTC, datetime, timedelta, timezone

    from giftcash.domain.jurisdictions import pack
    from giftcash.domain.policy import ItemFacts, Outcome, Stage, evaluate

    try:
        brand = find_brand(brand_id)
        now = datetime.now(UTC)
        purchased_at = None
        if purchased:
            purchased_at = datetime.fromisoformat(purchased)
            if purchased_at.tzinfo is None:
                purchased_at = purchased_at.replace(tzinfo=timezone(timedelta(hours=9)))
        q = make_quote(brand, face_value, funding_source, days_to_bill=days_to_bill)
        d = evaluate(
            pack(jurisdiction.upper()),
            ItemFacts(brand, face_value, funding_source, purchased_at=purchased_at),
            now=now,
            stage=Stage.QUOTE,
            payout=q.payout,
        )
    except DomainError as e:
        raise fail(e) from None
    except ValueError:
        err_console.print("[bold red]error[/] --purchased takes an ISO date such as 2026-11-20")
        raise typer.Exit(2) from None
    table = Table(show_header=False, title=f"Quote: {brand_id} ({jurisdiction.upper()})")
    table.add_row("face value", f"{q.face_value:,} {q.currency}")
    table.add_row("fee", f"{q.fee:,} {q.currency} ({_pct(q.fee_bps)})")
    table.add_row("payout", f"{q.payout:,} {q.currency}")
    table.add_row("funding source", q.funding_source.value)
    if q.annualized_cost_bps is not None:
        table.add_row(
            "annualised cost",
            f"{_pct(q.annualized_cost_bps)} a year (credit repaid in {q.days_to_bill} days)",
        )
    if d.outcome is Outcome.DECLINE:
        table.add_row("[bold red]declined[/]", escape(f"[{d.code}] {d.message}"))
    console.print(table)
    routes = Table(title="Lawful routes", show_lines=False)
    for col in ("route", "cash", "how"):
        routes.add_column(col)
    for r in d.routes:
        routes.add_row(r.route, f"{r.cash:,} {r.currency}", escape(r.note))
    console.print(routes)
    if d.routes_note:
        console.print(escape(d.routes_note))


# -- db and ledger ---------------------------------------------------------------------------

db_app = typer.Typer(help="The database: create it, upgrade its schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
ledger_app = typer.Typer(help="The books: check the invariants, export.", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")

_DATABASE_URL_HELP = (
    "SQLAlchemy URL; default GIFTCASH_DATABASE_URL, else an SQLite file in GIFTCASH_DATA_DIR."
)


def _settings(database_url: str | None) -> Settings:
    from giftcash.config import load_settings

    return load_settings(database_url=database_url) if database_url else load_settings()


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@db_app.command("upgrade")
def db_upgrade(
    database_url: str | None = typer.Option(None, "--database-url", help=_DATABASE_URL_HELP),
    revision: str = typer.Option("head", help="Target revision."),
) -> None:
    """Create the database (SQLite) or upgrade its schema to the latest revision."""
    from giftcash.adapters.db import migrate

    url = _settings(database_url).resolved_database_url
    try:
        migrate.upgrade(url, revision)
    except DomainError as e:
        raise fail(e) from None
    console.print(
        f"[green]database {escape(_shown(url))} is at revision "
        f"{escape(str(migrate.current_revision(url)))}[/]"
    )


def current_settings(database_url: str | None) -> Settings:
    """Settings whose database is at the head revision; a clear error and exit if not."""
    from giftcash.adapters.db.migrate import require_current_schema

    settings = _settings(database_url)
    try:
        require_current_schema(settings.resolved_database_url)
    except DomainError as e:
        raise fail(e) from None
    return settings


@ledger_app.command("check")
def ledger_check(
    database_url: str | None = typer.Option(None, "--database-url", help=_DATABASE_URL_HELP),
) -> None:
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
    operating_currency: str = typer.Option("KRW", help="Beancount's operating currency."),
    database_url: str | None = typer.Option(None, "--database-url", help=_DATABASE_URL_HELP),
) -> None:
    """Write the books in a format other tools check (beancount: `bean-check FILE`)."""
    from giftcash.adapters.db.ledger_export import export_beancount
    from giftcash.adapters.db.migrate import require_current_schema
    from giftcash.adapters.db.uow import SqlUnitOfWork
    from giftcash.adapters.files import durable_writer
    from giftcash.bootstrap import make_engine_from_settings

    if format_ != "beancount":
        err_console.print(f"[bold red]error[/] unknown format {escape(format_)!r}; use beancount")
        raise typer.Exit(2)
    settings = _settings(database_url)
    engine = make_engine_from_settings(settings)
    try:
        require_current_schema(settings.resolved_database_url)
        with SqlUnitOfWork(engine, read_only=True) as uow:
            if output is None:
                count = export_beancount(
                    uow.conn, sys.stdout, operating_currency=operating_currency
                )
            else:
                with durable_writer(output, mode=0o644) as out:
                    count = export_beancount(uow.conn, out, operating_currency=operating_currency)
    except DomainError as e:
        raise fail(e) from None
    finally:
        engine.dispose()
    if output is not None:
        console.print(f"[green]wrote {count:,} transactions to {escape(str(output))}[/]")


def run() -> None:
    """The console script: every operating error that no command mapped itself (a
    database that is not durable, say) ends as one line and its exit status, not a
    traceback."""
    try:
        app(standalone_mode=True)
    except DomainError as e:
        err_console.print(f"[bold red]error[/] {escape(f'[{e.code}]')} {escape(e.message)}")
        sys.exit(EXIT_BY_KIND.get(e.kind, 1))


# The running parts (demo, serve, worker, simulator) and the operators' commands (admin,
# audit) live in their own modules.
from giftcash.entrypoints import cli_admin, cli_cases, cli_ops, cli_rules, cli_run, cli_selftest  # noqa: E402, F401
