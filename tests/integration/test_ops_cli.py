"""The operations commands end to end (CliRunner, SQLite and PostgreSQL):
``reconcile bank --json`` and its exit status, ``reconcile issuer``, ``payouts
inquire|retry``, ``items show`` (never the code), ``reports volume|exposure``."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
import test_reconcile_world
from sqlalchemy import select, update
from typer.testing import CliRunner

from giftcash.adapters.db import tables as t
from giftcash.entrypoints.cli import app
from giftcash.entrypoints.servers import ServerThread, free_port

ops_world = test_reconcile_world.ops_world
runner = CliRunner()


@pytest.mark.slow  # over 2 s on the loaded 2-core machine
def test_reconcile_bank_json_and_exit_status(ops_world, tmp_path):
    w = ops_world
    w.day_of_trade()
    text = w.statement()
    clean = tmp_path / "clean.csv"
    clean.write_text(text)
    r = runner.invoke(app, ["reconcile", "bank", str(clean), "--json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert {"matched", "missing_here", "missing_at_bank", "amount_mismatch"} <= set(body)
    assert len(body["matched"]) == 4 and body["summary"]["clean"] is True

    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    gone = next(x for x in rows if int(x["amount"]) > 1)
    tampered = tmp_path / "tampered.csv"
    out = io.StringIO()
    writer = csv.DictWriter(out, reader.fieldnames, lineterminator="\n")
    writer.writeheader()
    writer.writerows(x for x in rows if x is not gone)
    tampered.write_text(out.getvalue())
    for _ in range(2):  # the same answer twice; the second import stores nothing
        r = runner.invoke(app, ["reconcile", "bank", str(tampered), "--json"])
        assert r.exit_code == 1, r.output
        body = json.loads(r.stdout)
        assert [m["bank_tran_id"] for m in body["missing_at_bank"]] == [gone["bank_tran_id"]]
        assert body["missing_here"] == body["amount_mismatch"] == []
    assert body["summary"]["new_lines"] == 0

    human = runner.invoke(app, ["reconcile", "bank", str(tampered)])
    assert human.exit_code == 1
    assert "missing at bank" in human.output and gone["bank_tran_id"] in human.output


def test_reconcile_bank_refuses_a_bad_file_with_exit_2(ops_world, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("bank_tran_id,amount\nX,1\n")
    r = runner.invoke(app, ["reconcile", "bank", str(bad)])
    assert r.exit_code == 2 and "statement_invalid" in r.output
    r = runner.invoke(app, ["reconcile", "bank", str(tmp_path / "nope.csv")])
    assert r.exit_code == 2


def test_reconcile_issuer_from_the_simulators_report(ops_world, tmp_path):
    w = ops_world
    w.day_of_trade()
    report = tmp_path / "settlement.csv"
    report.write_text(w.settlement(datetime.now(UTC).date().isoformat()))
    r = runner.invoke(app, ["reconcile", "issuer", str(report), "--json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert len(body["matched"]) == 5 and body["summary"]["clean"]


@pytest.fixture
def bank_url(ops_world, monkeypatch):
    """The world's bank simulator on a loopback port, for the CLI's own bank client."""
    server = ServerThread(ops_world.bank.app, "127.0.0.1", free_port(), "bank-sim").start()
    monkeypatch.setenv("GIFTCASH_BANK_URL", server.url)
    yield server.url
    server.stop()


@pytest.mark.slow  # over 2 s on the loaded 2-core machine
def test_payouts_inquire_and_retry(ops_world, bank_url):
    w = ops_world
    w.day_of_trade()
    with w.engine.connect() as conn:
        payout_id = conn.execute(select(t.payouts.c.id)).scalars().first()
    r = runner.invoke(app, ["payouts", "inquire", payout_id, "--json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert (body["bank_outcome"], body["agrees"]) == ("done", True)

    refused = runner.invoke(app, ["payouts", "retry", payout_id])
    assert refused.exit_code == 4 and "payout_not_retryable" in refused.output

    # a payout waiting on a long backoff after an ambiguous answer
    with w.engine.begin() as conn:
        conn.execute(
            update(t.payouts)
            .where(t.payouts.c.id == payout_id)
            .values(status="unknown", next_attempt_at=datetime(2099, 1, 1, tzinfo=UTC))
        )
        conn.execute(
            update(t.items).where(t.items.c.payout_id == payout_id).values(status="paying")
        )
    r = runner.invoke(app, ["payouts", "inquire", payout_id])
    assert r.exit_code == 1 and "done" in r.output  # the bank says done, our books unknown
    r = runner.invoke(app, ["payouts", "retry", payout_id])
    assert r.exit_code == 0, r.output
    with w.engine.connect() as conn:
        due = conn.execute(
            select(t.payouts.c.next_attempt_at).where(t.payouts.c.id == payout_id)
        ).scalar()
        audited = (
            conn.execute(select(t.audit_log.c.actor).where(t.audit_log.c.action == "payout.retry"))
            .scalars()
            .all()
        )
    assert due is None and len(audited) == 1 and audited[0].startswith("cli:")
    w.work()  # the worker inquires by bank_tran_id: sent, then confirmed; no second transfer
    with w.engine.connect() as conn:
        status = conn.execute(
            select(t.payouts.c.status).where(t.payouts.c.id == payout_id)
        ).scalar()
    assert status == "confirmed"
    transfers = w.bank.get("/sim/transfers").json()["transfers"]
    assert len({x["bank_tran_id"] for x in transfers}) == len(transfers)


def test_items_show_never_prints_the_code(ops_world):
    w = ops_world
    auth, account_id = w.customer("010-5100-0041", "오세훈", "5100000000041")
    voucher = w.buy("cultureland", 10_000)
    sub = w.sell(auth, account_id, [voucher], "show-me")
    w.work()
    item_id = sub["items"][0]["id"]
    r = runner.invoke(app, ["items", "show", item_id])
    assert r.exit_code == 0, r.output
    assert "paid" in r.output and "History" in r.output and "Ledger" in r.output
    assert voucher["code"] not in r.output and voucher["code"][:8] not in r.output
    body = json.loads(runner.invoke(app, ["items", "show", item_id, "--json"]).stdout)
    assert [e["to_status"] for e in body["events"]][-1] == "paid"
    assert {x["kind"] for x in body["transfers"]} >= {"redemption", "payout_confirmed"}
    assert voucher["code"] not in json.dumps(body)
    missing = runner.invoke(app, ["items", "show", "no-such-item"])
    assert missing.exit_code == 3


@pytest.mark.slow  # over 2 s on the loaded 2-core machine
def test_reports_volume_csv_chart_and_exposure(ops_world, tmp_path):
    w = ops_world
    w.day_of_trade()
    today = datetime.now(UTC).date().isoformat()
    csv_path, svg_path = tmp_path / "volume.csv", tmp_path / "volume.svg"
    r = runner.invoke(
        app,
        ["reports", "volume", "--from", today, "--by", "issuer", "--csv", str(csv_path),
         "--chart", str(svg_path)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text())))
    assert sum(int(x["face_value"]) for x in rows) == 65_000
    assert svg_path.read_text().startswith("<svg")
    r = runner.invoke(app, ["reports", "exposure", "--json"])
    assert r.exit_code == 0, r.output
    exposure = {x["issuer"]: x for x in json.loads(r.stdout)}
    assert sum(x["exposure"] for x in exposure.values()) == 65_000
