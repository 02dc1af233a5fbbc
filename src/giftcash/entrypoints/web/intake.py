"""Turning what a customer pastes or uploads into submission items. Pure: no I/O.

A pasted list has one voucher a line, as ``code``, ``code,pin`` or ``code pin``; the
brand, face value and funding source are chosen once for the list. A code may itself be
written with spaces (``4180 0000 0000 0001``), so for a brand without a PIN the whole line
is the code, and for a brand with one the PIN is what follows a comma or, without a
comma, the last space-separated part.

A CSV file has the header ``brand_id,code,pin,face_value,funding_source`` (``pin`` may
be empty or left out), one voucher a row.

Problems are reported by line number and a stable reason, never with the code.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from giftcash.intake.submissions import ItemIn

CSV_COLUMNS = ("brand_id", "code", "pin", "face_value", "funding_source")
CSV_REQUIRED = ("brand_id", "code", "face_value", "funding_source")
MAX_FIELD_CHARS = 64


@dataclass(frozen=True, slots=True)
class Line:
    number: int  # 1-based line of the text or file
    code: str
    pin: str | None


@dataclass(frozen=True, slots=True)
class Problem:
    number: int  # 0: the whole input
    reason: str  # too_many | not_text | header | face_value | field_too_long | empty_code


def pasted_lines(text: str, brand_has_pin: bool) -> list[Line]:
    lines: list[Line] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if "," in line:
            code, _, pin = line.partition(",")
            lines.append(Line(number, code.strip(), pin.strip() or None))
        elif brand_has_pin and len(line.split()) >= 2:
            *code_parts, pin = line.split()
            lines.append(Line(number, " ".join(code_parts), pin))
        else:
            lines.append(Line(number, line, None))
    return lines


def csv_items(data: bytes, limit: int) -> tuple[list[tuple[int, ItemIn]], list[Problem]]:
    """Rows as (line number, item), or the problems that stop the file being used."""
    try:
        text = data.decode("utf-8-sig")  # a BOM is what spreadsheet programs write
    except UnicodeDecodeError:
        return [], [Problem(0, "not_text")]
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    if not set(CSV_REQUIRED) <= set(header) or not set(header) <= set(CSV_COLUMNS):
        return [], [Problem(1, "header")]
    reader.fieldnames = header
    rows: list[tuple[int, ItemIn]] = []
    problems: list[Problem] = []
    for row in reader:
        number = reader.line_num
        values = {k: (row.get(k) or "").strip() for k in CSV_COLUMNS}
        if len(rows) + len(problems) >= limit:
            return [], [Problem(0, "too_many")]
        if not any(values.values()):
            continue
        if any(len(v) > MAX_FIELD_CHARS for v in values.values()):
            problems.append(Problem(number, "field_too_long"))
            continue
        if not values["code"]:
            problems.append(Problem(number, "empty_code"))
            continue
        face = values["face_value"].replace(",", "").replace("_", "")
        if not (face.isascii() and face.isdigit()) or int(face) <= 0:
            problems.append(Problem(number, "face_value"))
            continue
        rows.append(
            (
                number,
                ItemIn(
                    brand_id=values["brand_id"],
                    code=values["code"],
                    pin=values["pin"] or None,
                    face_value=int(face),
                    funding_source=values["funding_source"],
                ),
            )
        )
    return rows, problems
