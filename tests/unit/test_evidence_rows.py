"""The issuer's answers as evidence rows (redemption/evidence.py): what is kept of an
answer, and that an issuer's long strings never break the transaction they ride in."""

from __future__ import annotations

from datetime import UTC, datetime

from giftcash.redemption import evidence
from giftcash.service.ports import Redemption, VoucherInfo

AT = datetime(2026, 12, 4, 5, 3, 22, tzinfo=UTC)


def test_a_used_vouchers_inquiry_keeps_the_issuers_time_place_and_reference():
    info = VoucherInfo("used", 10_000, 0, "KRW", "cash", None, None, AT, "store-1", "inq_1")
    row = evidence.of_inquiry(lambda: "e1", "item-1", "cultureland", AT, AT, info)
    assert (row.kind, row.outcome, row.used_at, row.used_where) == (
        "inquiry",
        "used",
        AT,
        "store-1",
    )
    assert (row.issuer_ref, row.amount) == ("inq_1", 0)


def test_long_issuer_strings_are_cut_to_what_the_row_keeps():
    r = Redemption("already_redeemed", redemption_id="r" * 300, used_where="w" * 300, used_at=AT)
    row = evidence.of_redemption(lambda: "e2", "item-1", "cultureland", AT, AT, r)
    assert len(row.issuer_ref or "") == 64 and len(row.used_where or "") == 64
    assert (row.kind, row.outcome, row.used_at) == ("redemption", "already_redeemed", AT)


def test_the_csv_export_never_hands_a_spreadsheet_a_formula():
    line = evidence.EvidenceLine(
        "i", "s", "cultureland", "****1234", 10_000, "KRW", "invalid", "inquiry", "cultureland",
        AT.isoformat(), AT.isoformat(), "used", AT.isoformat(), "=HYPERLINK(1)", None, None,
    )  # fmt: skip
    text = evidence.as_csv([line])
    assert "'=HYPERLINK(1)" in text and ",=HYPERLINK" not in text
