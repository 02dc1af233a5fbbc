"""CSV for people's spreadsheets (case reports, payment-stop tracing, dispute evidence): a
header row, then one row per record, every cell made safe to open."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

# A cell starting with one of these is run as a formula by a spreadsheet (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A value as a cell: none as empty, a list joined, a formula-like text quoted."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], *, lineterminator: str = "\r\n"
) -> str:
    """``columns`` as the header, then ``rows`` (cells in the columns' order), each cell
    through ``safe_cell``."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=lineterminator)
    w.writerow(columns)
    for row in rows:
        w.writerow([safe_cell(v) for v in row])
    return buf.getvalue()
