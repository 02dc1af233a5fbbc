"""The CSV of statements and settlement reports: a header row, columns in any order, names
case-insensitive, unknown columns ignored; amounts whole minor units. Errors name the line
and the column, never a value (a memo may carry a verification code)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from giftcash.reconcile.lines import StatementInvalid

MAX_LINES = 10_000_000  # a bound on one file, so a runaway input ends


def whole_amount(raw: str | None, line_no: int, column: str, *, required: bool) -> int | None:
    text = (raw or "").strip().replace(",", "")
    if not text:
        if required:
            raise StatementInvalid(f"line {line_no}: {column} is empty")
        return None
    negative = text.startswith("-")
    digits = text[1:] if negative else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 18:
        raise StatementInvalid(f"line {line_no}: {column} is not a whole amount in minor units")
    return -int(digits) if negative else int(digits)


def rows(lines: Iterable[str], required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        return
    names = [h.strip().lower().lstrip("\ufeff") for h in header]
    missing = [c for c in required if c not in names]
    if missing:
        raise StatementInvalid(f"the header lacks the column(s) {', '.join(missing)}")
    for n, values in enumerate(reader, start=2):
        if n > MAX_LINES:
            raise StatementInvalid(f"more than {MAX_LINES:,} lines: split the file")
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(names):
            raise StatementInvalid(f"line {n}: {len(values)} fields, the header has {len(names)}")
        yield n, dict(zip(names, values, strict=True))
