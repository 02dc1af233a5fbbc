"""The operations commands: ``reconcile bank|issuer``, ``reports volume|exposure``,
``keys status|rotate|new``, ``payouts retry|inquire`` and ``items show``. Thin: parse,
call one service function, render (a Rich table, or ``--json``)."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

import typer
from rich import box
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from giftcash.domain.errors import DomainError
from giftcash.entrypoints.cli import _DATABASE_URL_HELP, _settings, app, console, err_console, fail

reconcile_app = typer.Typer(help="Does the money at the bank and issuers match the books?")
app.add_typer(reconcile_app, name="reconcile", no_args_is_help=True)
reports_app = typer.Typer(help="Volume, margin, declines, time to payout; exposure.")
app.add_typer(reports_app, name="reports", no_args_is_help=True)
keys_app = typer.Typer(help="The master keys that encrypt stored codes and secrets.")
app.add_typer(keys_app, name="keys", no_args_is_help=True)
payouts_app = typer.Typer(help="One payout: ask the bank about it, send it again now.")
app.add_typer(payouts_app, name="payouts", no_args_is_help=True)
items_app = typer.Typer(help="One item with its history.")
app.add_typer(items_app, name="items", no_args_is_help=True)

DatabaseUrl = typer.Option(None, "--database-url", help=_DATABASE_URL_HELP)
JsonOut = typer.Option(False, "--json", help="Print one JSON object instead of tables.")


def _deps(database_url: str | None) -> Any:
    """Deps for a command, after checking the schema is current."""
    from giftcash.adapters.db.migrate import require_current_schema
    from giftcash.bootstrap import build_deps

    settings = _settings(database_url)
    require_current_schema(settings.resolved_database_url)
    return build_deps(settings)


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, default=str, sort_keys=False) + "\n")


def _day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        err_console.print(f"[bold red]error[/] {name} takes a date such as 2026-11-27")
        raise typer.Exit(2) from None


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


def _progress(description: str, total: int | None) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )


# -- reconcile -------------------------------------------------------------------------------


@reconcile_app.command("bank")
def reconcile_bank(
    statement: str = typer.Argument(..., help="Statement CSV (or - for stdin)."),
    since: str | None = typer.Option(None, "--from", help="First UTC day our books expect."),
    until: str | None = typer.Option(None, "--to", help="Last UTC day our books expect."),
    as_json: bool = JsonOut,
    database_url: str | None = DatabaseUrl,
) -> None:
    """Import a bank statement and match it to payouts and 1-won verifications.

    Exit 0 only when nothing differs; 1 when something does. Importing the same
    statement again changes nothing."""
    from giftcash.service import reconcile

    total = _count_lines(statement)
    try:
        deps = _deps(database_url)
        with _open_text(statement) as f, _progress("matching", total) as bar:
            task = bar.add_task("matching statement lines", total=total)
            result = reconcile.reconcile_bank(
                deps,
                reconcile.parse_statement(f),
                since=_day(since, "--from"),
                until=_day(until, "--to"),
                progress=lambda n: bar.advance(task, n),
            )
    except DomainError as e:
        raise fail(e) from None
    if as_json:
        _print_json(result.as_dict())
    else:
        _render_bank(result)
    raise typer.Exit(0 if result.clean else 1)


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
    _detail(
        "Missing here: the bank moved it, our books do not know it",
        d["missing_here"],
        ("bank_tran_id", "direction", "amount", "booked_on"),
    )
    _detail(
        "Missing at the bank: our books say it left",
        d["missing_at_bank"],
        ("bank_tran_id", "kind", "amount", "books_status"),
    )
    _detail(
        "Amounts that differ",
        d["amount_mismatch"],
        ("bank_tran_id", "kind", "bank_amount", "books_amount"),
    )
    _detail("Returned by the bank", d["returned"], ("bank_tran_id", "amount", "note"))
    _detail("Conflicts", d["conflicts"], ("bank_tran_id", "direction", "note"))
    if r.clean:
        console.print("[bold green]the statement matches the books[/]")


_IDS = frozenset({"bank_tran_id", "idempotency_key", "ref", "id", "item_id"})


def _detail(title: str, rows: list[dict[str, Any]], cols: tuple[str, ...]) -> None:
    if not rows:
        return
    table = Table(title=f"{title} ({len(rows)})")
    for col in cols:
        if col in _IDS:  # an id is copied from here: never cut it short
            table.add_column(col, no_wrap=True, min_width=len(_cell(rows[0].get(col))))
        else:
            table.add_column(col.replace("_", " "), overflow="fold")
    for row in rows:
        table.add_row(*(_text(_cell(row.get(c))) for c in cols))
    console.print(table)


def _text(value: str) -> Text:
    """A cell taken literally: no markup, no emoji codes (an account like
    ``assets:bank:operating`` must not turn into a picture)."""
    return Text(value)


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


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
    from giftcash.service import reconcile

    try:
        deps = _deps(database_url)
        lines = []
        for path in reports:
            with _open_text(path) as f:
                lines.extend(reconcile.parse_settlement(f))
        result = reconcile.reconcile_issuer(
            deps,
            lines,
            since=_day(since, "--from"),
            until=_day(until, "--to"),
            issuers=issuer or None,
        )
    except DomainError as e:
        raise fail(e) from None
    if as_json:
        _print_json(result.as_dict())
    else:
        d = result.as_dict()
        _detail(
            "Per issuer",
            d["totals"],
            ("issuer", "issuer_amount", "books_amount", "difference", "ledger_balance"),
        )
        console.print(f"matched: {len(d['matched']):,} redemptions")
        _detail(
            "Missing here (the issuer captured it; our ledger did not)",
            d["missing_here"],
            ("idempotency_key", "issuer", "amount", "note"),
        )
        _detail(
            "Missing at the issuer (our ledger captured it)",
            d["missing_at_issuer"],
            ("idempotency_key", "issuer", "amount", "books_status"),
        )
        _detail(
            "Amounts that differ",
            d["amount_mismatch"],
            ("idempotency_key", "issuer_amount", "books_amount"),
        )
        if result.clean:
            console.print("[bold green]the settlement reports match the ledger[/]")
    raise typer.Exit(0 if result.clean else 1)


# -- reports ---------------------------------------------------------------------------------


@reports_app.command("volume")
def reports_volume(
    since: str = typer.Option(..., "--from", help="First day (YYYY-MM-DD)."),
    until: str | None = typer.Option(None, "--to", help="Last day; default: --from."),
    period: str = typer.Option("day", help="day | month"),
    by: str = typer.Option("brand", help="brand | issuer"),
    tz: str = typer.Option("UTC", help="Time zone of the days, e.g. Asia/Seoul."),
    csv_out: Path | None = typer.Option(None, "--csv", help="Write the rows as CSV here."),
    chart: Path | None = typer.Option(None, "--chart", help="Write an SVG bar chart here."),
    metric: str = typer.Option("face_value", help="What the chart's bars show."),
    as_json: bool = JsonOut,
    database_url: str | None = DatabaseUrl,
) -> None:
    """Volume, margin, declines by code and average time to payout."""
    from giftcash.service import reports

    first = _day(since, "--from")
    assert first is not None
    last = _day(until, "--to") or first
    try:
        rows = reports.volume(
            _deps(database_url), since=first, until=last, period=period, by=by, tz=tz
        )
    except DomainError as e:
        raise fail(e) from None
    if metric not in reports.CSV_COLUMNS[3:-1]:
        err_console.print(
            f"[bold red]error[/] --metric is one of {', '.join(reports.CSV_COLUMNS[3:-1])}"
        )
        raise typer.Exit(2)
    if csv_out is not None:
        csv_out.write_text(reports.to_csv(rows), encoding="utf-8")
    if chart is not None:
        title = f"{metric} per {period} and {by}, {first} to {last} ({tz})"
        chart.write_text(reports.to_svg(rows, metric=metric, title=title), encoding="utf-8")
    if as_json:
        _print_json([r.as_dict() for r in rows])
        return
    # "in": items received, "out": declined or invalid, "s to pay": average seconds from
    # submission to paid; the CSV and --json have every column
    table = Table(title=f"Volume per {period} and {by} ({tz})", box=box.SIMPLE, pad_edge=False)
    cols = {
        "period": "period",
        "group": by,
        "received": "in",
        "declined": "out",
        "paid": "paid",
        "face_value": "face",
        "margin": "margin",
        "margin_bps": "bps",
        "avg_seconds_to_payout": "s to pay",
    }
    for col, label in cols.items():
        table.add_column(
            label, no_wrap=True, justify="left" if col in ("period", "group") else "right"
        )
    for r in rows:
        d = r.as_dict()
        table.add_row(*(_text(_cell(d[c])) for c in cols))
    console.print(table)
    declines = [
        (r.period, r.group, code, n) for r in rows for code, n in sorted(r.declines_by_code.items())
    ]
    if declines:
        t = Table(title="Declines by code")
        for col in ("period", "group", "code", "items"):
            t.add_column(col)
        for p, g, code, n in declines:
            t.add_row(p, g, escape(code), str(n))
        console.print(t)
    for path in (csv_out, chart):
        if path is not None:
            console.print(f"wrote {escape(str(path))}")


@reports_app.command("exposure")
def reports_exposure(as_json: bool = JsonOut, database_url: str | None = DatabaseUrl) -> None:
    """What each issuer owes us (captured, not yet settled) against its cap. Exit 1 when
    an issuer is over its cap."""
    from giftcash.service import reports

    try:
        rows = reports.exposure(_deps(database_url))
    except DomainError as e:
        raise fail(e) from None
    if as_json:
        _print_json([r.as_dict() for r in rows])
    else:
        table = Table(title="Exposure per issuer")
        for col in ("issuer", "exposure", "cap", "used", "issuer on"):
            table.add_column(col)
        for r in rows:
            used = "—" if r.used_bps is None else f"{r.used_bps / 100:.2f}%"
            if r.over_cap:
                used = f"[bold red]{used} over[/]"
            table.add_row(
                r.issuer,
                f"{r.exposure:,}",
                _cell(r.cap),
                used,
                "yes" if r.enabled else "[red]no[/]",
            )
        console.print(table)
    raise typer.Exit(1 if any(r.over_cap for r in rows) else 0)


# -- keys ------------------------------------------------------------------------------------


@keys_app.command("status")
def keys_status(as_json: bool = JsonOut, database_url: str | None = DatabaseUrl) -> None:
    """The key ring, the pinned hash key (checked on stored rows) and rows per key."""
    from giftcash.service import keys

    try:
        deps = _deps(database_url)
        st = keys.status(deps)
        checked = keys.check_hashes(deps)
    except DomainError as e:
        raise fail(e) from None
    if as_json:
        _print_json({**st.as_dict(), "hashes_checked": checked})
        return
    console.print(f"current key: {st.current}   hash key (pinned): {st.hmac_key_id}")
    console.print(f"keys in the ring: {', '.join(st.key_ids)}")
    table = Table(title="Encrypted rows per key")
    for col in ("table", "key", "rows"):
        table.add_column(col)
    for name, by_key in st.rows.items():
        for key_id, n in sorted(by_key.items()):
            mark = " (current)" if key_id == st.current else ""
            table.add_row(name, key_id + mark, f"{n:,}")
    console.print(table)
    console.print(f"stored hashes checked against the pinned key: {checked} ok")


@keys_app.command("new")
def keys_new() -> None:
    """Print a fresh master key (base64) and its id, for GIFTCASH_SECRET_KEY."""
    import base64
    import secrets

    from giftcash.adapters.crypto.vault import MASTER_KEY_BYTES, key_id_for

    key = secrets.token_bytes(MASTER_KEY_BYTES)
    err_console.print(f"key id {key_id_for(key)}; store the key below in your secret store")
    sys.stdout.write(base64.b64encode(key).decode() + "\n")


@keys_app.command("rotate")
def keys_rotate(
    batch: int = typer.Option(200, min=1, max=10_000, help="Rows per transaction."),
    finish: bool = typer.Option(
        False, "--finish", help="Make no new key: move what is left under older keys."
    ),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Re-encrypt every stored code, PIN, account number, TOTP and webhook secret under
    the current key, in batches, while the service runs.

    With the key file (no GIFTCASH_SECRET_KEY) a new key is made current in it first and
    running processes pick it up (--finish later moves rows they wrote meanwhile under the
    old key); with keys from the environment, set the new key as
    GIFTCASH_SECRET_KEY and the old ones in GIFTCASH_DECRYPT_KEYS (docs/deploy.md)."""
    from giftcash.adapters.crypto.vault import KEY_FILE_NAME, add_key_to_file
    from giftcash.service import keys

    settings = _settings(database_url)
    try:
        deps = _deps(database_url)
        keys.check_hashes(deps)  # before anything is written
        before = keys.status(deps)
        if not settings.secret_key and not finish:
            ring = add_key_to_file(Path(settings.data_dir) / KEY_FILE_NAME)
            deps = _deps(database_url)
            console.print(
                f"new key {ring.current} is current in {escape(str(settings.data_dir))}/"
                f"{KEY_FILE_NAME}; {len(ring.key_ids) - 1} older key(s) still decrypt"
            )
        elif before.not_current == 0:
            hint = (
                ""
                if finish or not settings.secret_key
                else ": to rotate, make a new key current (GIFTCASH_SECRET_KEY), keep the old "
                "in GIFTCASH_DECRYPT_KEYS, run again"
            )
            console.print(f"every row is already under {before.current}{hint}")
            return
        total = keys.status(deps).not_current
        with _progress("re-encrypting", total) as bar:
            task = bar.add_task("re-encrypting rows", total=total)
            result = keys.reencrypt(deps, batch=batch, progress=lambda _t, n: bar.advance(task, n))
        keys.check_hashes(deps)
    except DomainError as e:
        raise fail(e) from None
    table = Table(title=f"Re-encrypted under {result.current}")
    table.add_column("table")
    table.add_column("rows")
    for name, n in sorted(result.rewritten.items()):
        table.add_row(name, f"{n:,}")
    console.print(table)
    if result.remaining:
        console.print(
            f"[yellow]{result.remaining:,} rows are still under an older key[/] (written by a "
            "process that has not seen the new key yet): run again later; old keys decrypt"
        )
        raise typer.Exit(1)
    console.print("[bold green]every row is under the current key[/]; hashes unchanged")


# -- payouts and items -----------------------------------------------------------------------


@payouts_app.command("inquire")
def payouts_inquire(
    payout_id: str = typer.Argument(...),
    as_json: bool = JsonOut,
    database_url: str | None = DatabaseUrl,
) -> None:
    """Ask the bank what happened to a payout; changes nothing. Exit 1 if the bank and
    our books disagree."""
    from giftcash.service import ops

    try:
        r = ops.inquire_payout(_deps(database_url), payout_id)
    except DomainError as e:
        raise fail(e) from None
    if as_json:
        _print_json(
            {
                "payout": r.payout,
                "bank_outcome": r.bank_outcome,
                "bank_amount": r.bank_amount,
                "agrees": r.agrees,
                "advice": r.advice,
            }
        )
    else:
        table = Table(title=f"Payout {escape(payout_id)}", show_header=False)
        for k, v in r.payout.items():
            table.add_row(k.replace("_", " "), _text(_cell(v)))
        table.add_row("[bold]the bank says[/]", escape(r.bank_outcome))
        table.add_row("bank amount", _cell(r.bank_amount))
        table.add_row("agrees", "[green]yes[/]" if r.agrees else "[red]no[/]")
        console.print(table)
        console.print(escape(r.advice))
    raise typer.Exit(0 if r.agrees else 1)


@payouts_app.command("retry")
def payouts_retry(
    payout_id: str = typer.Argument(...), database_url: str | None = DatabaseUrl
) -> None:
    """Make a waiting payout (pending, sending, unknown, sent) due now: the next worker
    pass inquires about it by its bank_tran_id and goes on; never a second transfer."""
    from giftcash.service import ops

    try:
        p = ops.retry_payout(_deps(database_url), payout_id, actor=_actor())
    except DomainError as e:
        raise fail(e) from None
    console.print(
        f"payout {escape(payout_id)} ({p['status']}, {p['amount']:,} {p['currency']}) is due "
        "now: the next worker pass takes it"
    )


@items_app.command("show")
def items_show(
    item_id: str = typer.Argument(...),
    as_json: bool = JsonOut,
    database_url: str | None = DatabaseUrl,
) -> None:
    """One item: its facts (the code masked), its history, its payout, its ledger entries."""
    from giftcash.service import ops

    try:
        v = ops.show_item(_deps(database_url), item_id)
    except DomainError as e:
        raise fail(e) from None
    if as_json:
        _print_json(
            {"item": v.item, "events": v.events, "payout": v.payout, "transfers": v.transfers}
        )
        return
    table = Table(title=f"Item {escape(item_id)}", show_header=False)
    item = dict(v.item)
    decision = item.pop("decision", None) or {}
    if decision:
        item["decision"] = " ".join(
            str(decision[k]) for k in ("outcome", "code", "rule_id") if decision.get(k)
        )
    for k, val in item.items():
        if val is not None and k not in ("id",):
            table.add_row(k.replace("_", " "), _text(_cell(val)))
    console.print(table)
    _detail("History", v.events, ("at", "from_status", "to_status", "detail"))
    if v.payout:
        console.print(f"payout {escape(v.payout['id'])}")
        _detail("Payout", [v.payout], ("bank_tran_id", "status", "amount", "attempts"))
    _detail("Ledger", v.transfers, ("seq", "kind", "account", "amount"))
