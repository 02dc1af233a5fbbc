"""How the operations commands print: ``--json`` objects, detail tables whose ids are
never cut short, cells taken literally; and the dates their options take."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from typing import Any

import typer
from rich.table import Table
from rich.text import Text

from giftcash.entrypoints.cli.common import console, usage_error

JsonOut = typer.Option(False, "--json", help="Print one JSON object instead of tables.")


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, default=str, sort_keys=False) + "\n")


def day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise usage_error(f"{name} takes a date such as 2026-11-27") from None


# ids and finding codes are copied from here (or searched for): never cut them short
_IDS = frozenset(
    {"bank_tran_id", "idempotency_key", "ref", "id", "item_id", "deposit_id", "finding"}
)


def detail(title: str, rows: list[dict[str, Any]], cols: tuple[str, ...]) -> None:
    if not rows:
        return
    table = Table(title=f"{title} ({len(rows)})")
    for col in cols:
        if col in _IDS:  # an id is copied from here: never cut it short
            table.add_column(col, no_wrap=True, min_width=len(cell(rows[0].get(col))))
        else:
            table.add_column(col.replace("_", " "), overflow="fold")
    for row in rows:
        table.add_row(*(text(cell(row.get(c))) for c in cols))
    console.print(table)


def text(value: str) -> Text:
    """A cell taken literally: no markup, no emoji codes (an account like
    ``assets:bank:operating`` must not turn into a picture)."""
    return Text(value)


def cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)
