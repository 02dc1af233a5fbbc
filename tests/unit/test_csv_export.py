"""The CSV that operators open in a spreadsheet: a cell that looks like a formula is quoted
(CSV injection), lists are joined, nothing is left as None."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from giftcash.service.csv_export import csv_text, safe_cell


def test_formula_starts_are_quoted_and_plain_text_is_not():
    for text in ("=HYPERLINK(1)", "+1", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(text) == "'" + text
    assert safe_cell("김*") == "김*"
    assert safe_cell(None) == "" and safe_cell(0) == 0
    assert safe_cell(["a", "b"]) == "a; b"


@given(st.lists(st.lists(st.one_of(st.none(), st.text()), min_size=2, max_size=2)))
def test_every_row_reads_back_and_no_text_cell_starts_a_formula(rows):
    text = csv_text(["a", "b"], rows)
    read = list(csv.reader(io.StringIO(text, newline="")))
    assert read[0] == ["a", "b"] and len(read) == len(rows) + 1
    for cells in read[1:]:
        assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)
