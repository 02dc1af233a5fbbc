"""Bank reconciliation against the bank simulator's own statement, on SQLite and
PostgreSQL: a clean day matches; a statement with one transfer removed and one amount
changed reports exactly those two; a second import changes nothing; fees are booked once;
returns are flagged."""

from __future__ import annotations

import csv
import io

import pytest
import test_reconcile_world
from sqlalchemy import func, select

from giftcash.adapters.banks.statements import parse_statement
from giftcash.adapters.db import tables as t
from giftcash.domain.ledger import BANK_FEES
from giftcash.reconcile.lines import StatementInvalid
from giftcash.reconcile.matching import reconcile_bank

ops_world = test_reconcile_world.ops_world


def _reconcile(w, text: str):
    return reconcile_bank(w.deps, parse_statement(io.StringIO(text)))


def _rows(text: str) -> tuple[list[str], list[dict]]:
    reader = csv.DictReader(io.StringIO(text))
    return reader.fieldnames, list(reader)


def _csv(header: list[str], rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _state(w) -> tuple:
    with w.engine.connect() as conn:
        lines = conn.execute(
            select(t.bank_statement_lines.c.bank_tran_id, t.bank_statement_lines.c.direction)
        ).all()
        transfers = conn.execute(select(func.count()).select_from(t.ledger_transfers)).scalar()
        head = conn.execute(select(t.ledger_head.c.hash)).scalar()
    return sorted(lines), transfers, head


def test_a_clean_day_matches_every_line(ops_world):
    w = ops_world
    w.day_of_trade()
    result = _reconcile(w, w.statement())
    assert result.clean, result.as_dict()
    kinds = sorted(m["kind"] for m in result.matched)
    assert kinds == ["payout"] * 2 + ["verification"] * 2  # one payout per customer
    assert result.new_lines == result.lines == 4
    assert all(m["books_status"] == "confirmed" for m in result.matched if m["kind"] == "payout")


def test_one_removed_one_changed_are_exactly_the_differences_and_a_second_import_is_a_no_op(
    ops_world,
):
    w = ops_world
    w.day_of_trade()
    header, rows = _rows(w.statement())
    payouts = [r for r in rows if int(r["amount"]) > 1]
    removed, changed = payouts[0], payouts[1]
    rows = [r for r in rows if r is not removed]
    changed["amount"] = str(int(changed["amount"]) + 1000)
    tampered = _csv(header, rows)

    first = _reconcile(w, tampered)
    assert [m["bank_tran_id"] for m in first.missing_at_bank] == [removed["bank_tran_id"]]
    assert first.missing_at_bank[0]["kind"] == "payout"
    assert first.missing_at_bank[0]["amount"] == int(removed["amount"])
    assert [m["bank_tran_id"] for m in first.amount_mismatch] == [changed["bank_tran_id"]]
    mismatch = first.amount_mismatch[0]
    assert mismatch["bank_amount"] - mismatch["books_amount"] == 1000
    assert first.missing_here == []
    assert not first.clean
    before = _state(w)

    second = _reconcile(w, tampered)
    assert _state(w) == before  # nothing stored, nothing posted
    assert (second.new_lines, second.already_imported) == (0, len(rows))
    assert second.as_dict()["missing_at_bank"] == first.as_dict()["missing_at_bank"]
    assert second.as_dict()["amount_mismatch"] == first.as_dict()["amount_mismatch"]


def test_a_transfer_unknown_to_our_books_is_missing_here(ops_world):
    w = ops_world
    w.day_of_trade()
    header, rows = _rows(w.statement())
    stranger = dict(rows[-1], bank_tran_id="M202600001UZZZZZZZZZ", amount="77000")
    result = _reconcile(w, _csv(header, [*rows, stranger]))
    assert [(m["bank_tran_id"], m["amount"]) for m in result.missing_here] == [
        ("M202600001UZZZZZZZZZ", 77000)
    ]
    assert result.missing_at_bank == [] and result.amount_mismatch == []


def test_fees_are_posted_once(ops_world):
    w = ops_world
    w.day_of_trade()
    header, rows = _rows(w.statement())
    header = [*header, "fee"]
    for r in rows:
        r["fee"] = "500" if int(r["amount"]) > 1 else ""
    monthly = {k: "" for k in header} | {
        "date": rows[0]["date"],
        "bank_tran_id": "FEE-2026-11-MONTHLY",
        "direction": "fee",
        "amount": "3000",
    }
    text = _csv(header, [*rows, monthly])
    first = _reconcile(w, text)
    assert first.clean, first.as_dict()
    assert sorted(f["amount"] for f in first.fees if f["posted"]) == [500, 500, 3000]
    with w.deps.uow() as uow:
        fees = uow.ledger.balance(BANK_FEES, "KRW")
    assert fees == 4000
    again = _reconcile(w, text)
    assert not any(f["posted"] for f in again.fees)
    with w.deps.uow() as uow:
        assert uow.ledger.balance(BANK_FEES, "KRW") == 4000


def test_a_return_is_flagged_while_our_books_still_say_confirmed(ops_world):
    w = ops_world
    w.day_of_trade()
    _, rows = _rows(w.statement())
    payout_line = next(r for r in rows if int(r["amount"]) > 1)
    r = w.bank.post(
        f"/sim/transfers/{payout_line['bank_tran_id']}/return", json={"reason": "closed"}
    )
    assert r.status_code == 200, r.text
    result = _reconcile(w, w.statement())
    assert result.clean, result.as_dict()
    [flag] = result.returned
    assert flag["bank_tran_id"] == payout_line["bank_tran_id"]
    assert flag["attention"] is True and "confirmed" in flag["note"]
    with w.engine.connect() as conn:  # a report moves nothing
        status = conn.execute(
            select(t.payouts.c.status).where(
                t.payouts.c.bank_tran_id == payout_line["bank_tran_id"]
            )
        ).scalar()
    assert status == "confirmed"


def test_a_changed_line_on_a_second_import_is_a_conflict(ops_world):
    w = ops_world
    w.day_of_trade()
    text = w.statement()
    assert _reconcile(w, text).clean
    header, rows = _rows(text)
    rows[-1]["counterparty"] = "someone else"
    result = _reconcile(w, _csv(header, rows))
    assert [c["bank_tran_id"] for c in result.conflicts] == [rows[-1]["bank_tran_id"]]
    assert not result.clean


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("bank_tran_id,amount\nX,1\n", "direction"),
        ("bank_tran_id,direction,amount,date\nX,sideways,1,2026-11-27\n", "direction is one of"),
        ("bank_tran_id,direction,amount,date\nX,out,1.5,2026-11-27\n", "amount"),
        ("bank_tran_id,direction,amount\nX,out,1\n", "neither date nor at"),
        ("bank_tran_id,direction,amount,at\nX,out,1,2026-11-27T10:00:00\n", "offset"),
    ],
)
def test_bad_statements_name_the_line_and_column(text, message):
    with pytest.raises(StatementInvalid) as e:
        list(parse_statement(io.StringIO(text)))
    assert message in e.value.message


def test_the_generic_format_reads_korean_time_and_separators():
    text = (
        'Bank_Tran_ID,Direction,Amount,At,Currency\nA1,out,"1,000",2026-11-28T08:30:00+09:00,krw\n'
    )
    [line] = parse_statement(io.StringIO(text))
    assert (line.bank_tran_id, line.amount, line.currency) == ("A1", 1000, "KRW")
    assert line.booked_on.isoformat() == "2026-11-27"  # 08:30 KST is the day before in UTC
