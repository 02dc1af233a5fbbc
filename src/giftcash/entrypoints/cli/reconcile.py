"""``giftcash reconcile bank|issuer``: does the money at the bank and the issuers match
the books? Exit 0 only when nothing differs."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import typer
from rich.markup import escape
from rich.table import Table

from giftcash.entrypoints.cli.common import (
    App,
    DatabaseUrl,
    console,
    deps_for,
    err_console,
    progress,
    usage_error,
)
from giftcash.entrypoints.cli.output import JsonOut, day, detail, print_json

reconcile_app = App(help="Does the money at the bank and issuers match the books?")


@contextmanager
def _open_text(path: str) -> Iterator[TextIO]:
    if path == "-":
        yield sys.stdin
        return
    try:
        f = open(path, encoding="utf-8-sig", newline="")
    except OSError as e:
        err_console.print(f"[bold red]error[/] cannot read {escape(path)}: {escape(e.strerror)}")
        raise typer.Exit(2) from None
    with f:
        yield f


def _count_lines(path: str) -> int | None:
    if path == "-":
        return None
    try:
        with open(path, "rb") as f:
            return max(sum(1 for _ in f) - 1, 0)
    except OSError:
        return None  # _open_text says why


@reconcile_app.command("bank")
def reconcile_bank(
    statement: str = typer.Argument(..., help="Statement CSV (or - for stdin)."),
    since: str | None = typer.Option(None, "--from", help="First UTC day our books expect."),
    until: str | None = typer.Option(None, "--to", help="Last UTC day our books expect."),
    deposits: bool | None = typer.Option(
        None,
        "--deposits/--no-deposits",
        help="Also match the buyers' deposits and their returns with the bank's own"
        " records (default: when virtual accounts are configured).",
    ),
    as_json: bool = JsonOut,
    database_url: str | None = DatabaseUrl,
) -> None:
    """Import a bank statement and match it to payouts, 1-won verifications, buyers'
    deposits and their returns; then match every deposit the bank received in the
    statement's period, and every return of one, with our books.

    Exit 0 only when nothing differs; 1 when something does; 2 when the bank's records
    of deposits cannot be read. Importing the same statement again changes nothing."""
    from giftcash.adapters.banks.statements import parse_statement
    from giftcash.reconcile.deposits import reconcile_bank_day

    total = _count_lines(statement)
    deps = deps_for(database_url)
    if deposits and deps.virtual_accounts is None:
        raise usage_error(
            "--deposits needs the bank's virtual accounts (GIFTCASH_BANK_NOTIFICATION_SECRET)"
        )
    with _open_text(statement) as f, progress() as bar:
        task = bar.add_task("matching statement lines", total=total)
        result = reconcile_bank_day(
            deps,
            parse_statement(f),
            since=day(since, "--from"),
            until=day(until, "--to"),
            progress=lambda n: bar.advance(task, n),
            deposits=deposits is not False,
        )
    if as_json:
        print_json(result.as_dict())
    else:
        _render_bank(result.statement)
        if result.deposits is not None:
            _render_deposits(result.deposits)
    if result.deposits_unread:
        err_console.print(
            "[bold red]error[/] the bank's records of deposits could not be read; "
            "run again, or --no-deposits for the statement alone"
        )
        raise typer.Exit(2)
    raise typer.Exit(0 if result.clean else 1)


def _render_deposits(r: Any) -> None:
    d = r.as_dict()
    s = d["summary"]
    console.print(
        f"deposits: {s['at_bank']:,} at the bank, {s['in_books']:,} in our books, "
        f"{s['matched']:,} matched"
    )
    detail(
        "Deposits and returns that differ",
        d["findings"],
        ("finding", "deposit_id", "ref", "bank_amount", "books_amount", "books_status", "note"),
    )
    detail("Returns under way", d["pending"], ("deposit_id", "ref", "amount", "note"))
    if r.clean:
        console.print("[bold green]the bank's deposits and returns match the books[/]")


def _render_bank(r: Any) -> None:
    d = r.as_dict()
    s = d["summary"]
    period = s["period"]
    console.print(
        f"statement: {s['lines']:,} lines ({s['new_lines']:,} new, "
        f"{s['already_imported']:,} seen before)"
        + (f"; books {period['from']} to {period['to']}" if period else "")
    )
    summary = Table(title="Bank reconciliation")
    for col in ("", "lines"):
        summary.add_column(col)
    for key in ("matched", "missing_here", "missing_at_bank", "amount_mismatch", "returned"):
        summary.add_row(key.replace("_", " "), str(len(d[key])))
    summary.add_row("fees posted", f"{s['fees_posted']:,}")
    if d["conflicts"]:
        summary.add_row("[red]conflicts[/]", str(len(d["conflicts"])))
    console.print(summary)
    # the tables name the bank's id; --json has every field (payout ids, times)
    detail(
        "Missing here: the bank moved it, our books do not know it",
        d["missing_here"],
        ("bank_tran_id", "direction", "amount", "booked_on"),
    )
    detail(
        "Missing at the bank: our books say it left",
        d["missing_at_bank"],
        ("bank_tran_id", "kind", "amount", "books_status"),
    )
    detail(
        "Amounts that differ",
        d["amount_mismatch"],
        ("bank_tran_id", "kind", "bank_amount", "books_amount"),
    )
    detail("Returned by the bank", d["returned"], ("bank_tran_id", "amount", "note"))
    detail("Conflicts", d["conflicts"], ("bank_tran_id", "direction", "note"))
    if r.clean:
        console.print("[bold green]the statement matches the books[/]")


@reconcile_app.command("issuer")
def reconcile_issuer(
    reports: list[str] = typer.Argument(..., help="Settlement report CSV file(s), or -."),
    issuer: list[str] = typer.Option([], "--issuer", help="Only these issuers."),
    since: str | None = typer.Option(None, "--from", help="First UTC day our books expect."),
    until: str | None = typer.Option(None, "--to", help="Last UTC day our books expect."),
    as_json: bool = JsonOut,
    database_url: str | None = DatabaseUrl,
) -> None:
    """Match issuers' settlement reports with what the ledger captured (assets:issuer:*).
    Exit 0 only when nothing differs."""
    from giftcash.adapters.issuers.settlements import parse_settlement
    from giftcash.reconcile import matching as reconcile

    deps = deps_for(database_url)
    lines = []
    for path in reports:
        with _open_text(path) as f:
            lines.extend(parse_settlement(f))
    result = reconcile.reconcile_issuer(
        deps,
        lines,
        since=day(since, "--from"),
        until=day(until, "--to"),
        issuers=issuer or None,
    )
    if as_json:
        print_json(result.as_dict())
    else:
        d = result.as_dict()
        detail(
            "Per issuer",
            d["totals"],
            ("issuer", "issuer_amount", "books_amount", "difference", "ledger_balance"),
        )
        console.print(f"matched: {len(d['matched']):,} redemptions")
        detail(
            "Missing here (the issuer captured it; our ledger did not)",
            d["missing_here"],
            ("idempotency_key", "issuer", "amount", "note"),
        )
        detail(
            "Missing at the issuer (our ledger captured it)",
            d["missing_at_issuer"],
            ("idempotency_key", "issuer", "amount", "books_status"),
        )
        detail(
            "Amounts that differ",
            d["amount_mismatch"],
            ("idempotency_key", "issuer_amount", "books_amount"),
        )
        if result.clean:
            console.print("[bold green]the settlement reports match the ledger[/]")
    raise typer.Exit(0 if result.clean else 1)
