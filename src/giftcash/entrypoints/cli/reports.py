"""``giftcash reports volume|exposure``: volume, margin, declines and time to payout;
what each issuer owes us against its cap."""

from __future__ import annotations

from pathlib import Path

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from giftcash.entrypoints.cli.common import App, DatabaseUrl, console, deps_for, err_console
from giftcash.entrypoints.cli.output import JsonOut, cell, day, print_json, text

reports_app = App(help="Volume, margin, declines, time to payout; exposure.")


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
    from giftcash.reports import volume as reports

    first = day(since, "--from")
    assert first is not None
    last = day(until, "--to") or first
    rows = reports.volume(
        deps_for(database_url), since=first, until=last, period=period, by=by, tz=tz
    )
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
        print_json([r.as_dict() for r in rows])
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
        table.add_row(*(text(cell(d[c])) for c in cols))
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
    from giftcash.reports import volume as reports

    rows = reports.exposure(deps_for(database_url))
    if as_json:
        print_json([r.as_dict() for r in rows])
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
                cell(r.cap),
                used,
                "yes" if r.enabled else "[red]no[/]",
            )
        console.print(table)
    raise typer.Exit(1 if any(r.over_cap for r in rows) else 0)
