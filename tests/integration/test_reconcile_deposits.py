"""Reconciliation of the buyers' deposits (issue 15, item 6) after a whole resale day over
the real bank simulator, on SQLite and PostgreSQL: the day's statement matches every
deposit and return line, and every deposit the bank received (kept or returned) and every
return it made is in our books once and whole: zero findings, ``giftcash reconcile bank``
exits 0. Faults planted on either side are each found by their kind: a deposit the bank
took that was never notified nor recorded, a deleted deposit row, a return made twice at
the bank, an amount that differs, a return our books record that the bank never made, a
kept deposit whose order was not sold."""

from __future__ import annotations

import io
import json
from datetime import UTC
from typing import Any

import pytest
from sqlalchemy import delete, update
from test_resale_books import BUYER, resale_day
from test_resale_worker_sim import (  # noqa: F401  (the fixtures)
    notify,
    pay,
    shop,
    worker,
)
from typer.testing import CliRunner

from giftcash.adapters.banks.statements import parse_statement
from giftcash.adapters.db import tables as t
from giftcash.entrypoints.cli import app
from giftcash.entrypoints.cli import reconcile as reconcile_cli
from giftcash.reconcile.deposits import reconcile_deposits
from giftcash.reconcile.matching import reconcile_bank
from giftcash.service.ports import Unavailable

runner = CliRunner()


def reconcile(w: Any) -> tuple[Any, Any]:
    """The statement, then the bank's deposits for the statement's period."""
    statement = reconcile_bank(w.deps, parse_statement(io.StringIO(w.statement())))
    assert statement.period is not None
    deposits = reconcile_deposits(w.deps, w.deps.virtual_accounts, *statement.period)
    return statement, deposits


def findings(result: Any) -> set[tuple[str, str]]:
    return {(f["finding"], f["deposit_id"]) for f in result.findings}


def cli(w: Any, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    """``giftcash reconcile bank`` on this world (its bank simulator is in-process)."""
    path = w.data_dir / "statement.csv"
    path.write_text(w.statement(), encoding="utf-8")
    monkeypatch.setattr(reconcile_cli, "deps_for", lambda url: w.deps)
    return runner.invoke(app, ["reconcile", "bank", str(path), *args])


def test_a_clean_resale_day_reconciles_with_no_finding(shop, worker, monkeypatch):  # noqa: F811
    w, clock = shop
    day = resale_day(w, clock, worker)

    statement, deposits = reconcile(w)
    assert statement.clean, statement.as_dict()
    kinds = sorted(m["kind"] for m in statement.matched)
    # the seller's payout and 1-won deposits, three buyers' deposits, two returns
    assert kinds.count("deposit") == 3 and kinds.count("deposit_return") == 2
    assert statement.returned == []  # a deposit in is not a payout bounced
    assert deposits.clean, deposits.as_dict()
    assert (deposits.at_bank, deposits.in_books, deposits.matched) == (3, 3, 3)
    assert deposits.pending == []

    r = cli(w, monkeypatch, "--json")
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    assert body["summary"]["clean"] and body["deposits"]["summary"]["clean"]
    assert body["deposits"]["summary"]["matched"] == 3
    human = cli(w, monkeypatch)
    assert human.exit_code == 0, human.output
    assert "the bank's deposits and returns match the books" in human.output
    assert day["kept"] and day["stranger"] and day["refunded"]


def test_planted_faults_are_each_found_by_their_kind(shop, worker, monkeypatch):  # noqa: F811
    w, clock = shop
    day = resale_day(w, clock, worker)
    delivered = day["orders"][0]
    # 1. a deposit the bank took whose notification was lost, never asked for: unrecorded
    # (the delivered order's account is closed, and a closed account refuses money: the
    # bank is made to take it all the same, after our last look)
    store = w.bank.app.state.virtual_accounts.store
    with store.tx() as db:
        db.execute(
            "UPDATE virtual_accounts SET status = 'open', closed_at = NULL WHERE account_num = ?",
            (str(delivered.virtual_account_number),),
        )
    w.bank.post("/sim/faults/notifications", json={"lost_rate": 1.0, "seed": 1})
    code, silent = pay(w, str(delivered.virtual_account_number), 5_000, BUYER)
    assert code == 201
    notify(w)
    # 2. a deposit row deleted from our books
    # 3. the stranger's deposit returned a second time at the bank, under another key
    # 4. the kept deposit's amount changed in our books
    with w.engine.begin() as conn:
        d = t.order_deposits.c
        conn.execute(delete(t.order_deposits).where(d.bank_deposit_id == day["refunded"]))
        conn.execute(
            update(t.order_deposits).where(d.bank_deposit_id == day["kept"]).values(amount=28_000)
        )
    with store.tx() as db:
        db.execute("DROP INDEX va_returns_once")  # the bank's own guard, planted past
        db.execute(
            "INSERT INTO va_returns (return_key, fingerprint, deposit_id, amount, status,"
            " bank_rsp_code, bank_rsp_message, memo, at) VALUES (?, '-', ?, 9500, 'returned',"
            " '000', '', 'manual return', ?)",
            ("manual-1", day["stranger"], clock.now().astimezone(UTC).isoformat()),
        )

    statement, deposits = reconcile(w)
    assert findings(deposits) == {
        ("deposit_unrecorded", silent),
        ("deposit_unrecorded", day["refunded"]),
        ("return_twice", day["stranger"]),
        ("amount_mismatch", day["kept"]),
    }
    (twice,) = [f for f in deposits.findings if f["finding"] == "return_twice"]
    assert twice["bank_amount"] == 19_000 and "manual-1" in twice["note"]
    (differs,) = [f for f in deposits.findings if f["finding"] == "amount_mismatch"]
    assert (differs["bank_amount"], differs["books_amount"]) == (28_500, 28_000)
    # the statement sees the same from its side: lines our books do not know
    assert {m["bank_tran_id"] for m in statement.missing_here} == {silent, day["refunded"]} | {
        f"ret-{day['refunded']}"
    }
    assert {m["bank_tran_id"] for m in statement.amount_mismatch} == {day["kept"]}

    r = cli(w, monkeypatch)
    assert r.exit_code == 1, r.output
    for kind in ("deposit_unrecorded", "return_twice", "amount_mismatch"):
        assert kind in r.output


def test_a_return_the_bank_never_made_and_a_kept_deposit_unsold_are_found(shop, worker):  # noqa: F811
    w, clock = shop
    day = resale_day(w, clock, worker)
    with w.engine.begin() as conn:
        d, o = t.order_deposits.c, t.orders.c
        # our books say the stranger's deposit went back under a key the bank never saw
        conn.execute(
            update(t.order_deposits)
            .where(d.bank_deposit_id == day["stranger"])
            .values(return_key="ret-never-sent")
        )
        # the kept deposit's order no longer sold: its money is kept for nothing
        conn.execute(update(t.orders).where(o.id == "o-delivered").values(status="expired"))

    _, deposits = reconcile(w)
    assert findings(deposits) == {
        ("return_missing", day["stranger"]),
        ("kept_unsettled", day["kept"]),
    }
    (unsold,) = [f for f in deposits.findings if f["finding"] == "kept_unsettled"]
    assert unsold["ref"] == "o-delivered" and "expired" in unsold["note"]


def test_a_bank_that_cannot_list_its_deposits_is_an_error_not_a_clean_run(
    shop,  # noqa: F811
    worker,  # noqa: F811
    monkeypatch,
):
    w, clock = shop
    resale_day(w, clock, worker)
    w.bank.post("/sim/faults", json={"error_rate": 1.0}).raise_for_status()
    with pytest.raises(Unavailable):
        reconcile(w)
    r = cli(w, monkeypatch)
    assert r.exit_code == 2, r.output
    assert "could not be read" in r.output
    assert cli(w, monkeypatch, "--no-deposits").exit_code == 0
