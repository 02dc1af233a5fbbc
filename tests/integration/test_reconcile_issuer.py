"""Issuer reconciliation: the issuer simulator's settlement report against what the ledger
captured in ``assets:issuer:*``, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
import test_reconcile_world

from giftcash.adapters.issuers.settlements import parse_settlement
from giftcash.reconcile.matching import reconcile_issuer

ops_world = test_reconcile_world.ops_world


def _report(w) -> str:
    return w.settlement(datetime.now(UTC).date().isoformat())


def _rows(text: str) -> tuple[list[str], list[dict]]:
    reader = csv.DictReader(io.StringIO(text))
    return reader.fieldnames, list(reader)


def _csv(header, rows) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def test_the_settlement_report_matches_the_ledger(ops_world):
    w = ops_world
    w.day_of_trade()
    result = reconcile_issuer(w.deps, parse_settlement(io.StringIO(_report(w))))
    assert result.clean, result.as_dict()
    assert len(result.matched) == 5
    totals = {r["issuer"]: r for r in result.totals}
    assert sum(r["issuer_amount"] for r in totals.values()) == 65_000
    assert all(r["difference"] == 0 for r in totals.values())
    # nothing has been settled by the issuers yet: the ledger still holds every capture
    assert all(r["ledger_balance"] == r["books_amount"] for r in totals.values())


@pytest.mark.slow  # over 2 s on the loaded 2-core machine
def test_a_dropped_and_a_changed_redemption_are_the_differences(ops_world):
    w = ops_world
    w.day_of_trade()
    header, rows = _rows(_report(w))
    dropped, changed = rows[0], rows[1]
    changed["amount"] = str(int(changed["amount"]) - 500)
    stranger = dict(rows[2], redemption_id="r-x", idempotency_key="rdm_not-ours")
    text = _csv(header, [*rows[1:], stranger])
    result = reconcile_issuer(w.deps, parse_settlement(io.StringIO(text)))
    assert [m["idempotency_key"] for m in result.missing_at_issuer] == [dropped["idempotency_key"]]
    assert [(m["idempotency_key"], m["issuer_amount"] - m["books_amount"]) for m in
            result.amount_mismatch] == [(changed["idempotency_key"], -500)]  # fmt: skip
    assert [m["idempotency_key"] for m in result.missing_here] == ["rdm_not-ours"]
    assert not result.clean
