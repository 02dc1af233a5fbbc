"""The selftest's resale scenarios in a quick form (issue 15, "Bad input, races and
faults"), on SQLite and PostgreSQL: buyers ordering more than is stocked at once and paying
in every way, the worker SIGKILLed meanwhile or the bank and issuer failing; no unit
delivered twice, no deposit kept without its delivery or its return, no return sent twice,
not a won the bank holds for buyers unaccounted. With a bug planted (a delivery of one unit
more, a return sent under a second key) the same run reports it in a bad column."""

from __future__ import annotations

import dataclasses

import plants
import pytest
from verdict import SEED, bad_columns, explain

from giftcash.resale import delivery
from giftcash.resale import worker as resale_worker
from giftcash.selftest.registry import BAD_COLUMNS, Context, load_scenarios
from giftcash.selftest.resale import ResalePlan, run_resale
from giftcash.selftest.runner import COLUMNS

pytestmark = pytest.mark.slow  # full harness runs: simulators, workers, both sides' checks

QUICK = ResalePlan(units=12, spent=2, buyers=6, orders=18, threads=6, settle_s=40.0)


def test_the_resale_scenarios_are_registered_with_their_columns():
    names = [s.name for s in load_scenarios()]
    assert {"resale-crash", "resale-faults"} <= set(names)
    for column in ("double_deliveries", "double_refunds"):
        assert column in BAD_COLUMNS
        assert column in {name for name, _ in COLUMNS}


def test_resale_with_the_worker_killed_delivers_and_returns_each_once(database_url, tmp_path):
    plan = dataclasses.replace(QUICK, crash=True)
    row, check, world = run_resale(Context(SEED, tmp_path, database_url), plan)

    assert bad_columns(row) == {}, explain(row)
    assert row.sigkills > 0, explain(row)
    assert check.by_status.get("delivered", 0) >= 5, check.by_status
    # more was ordered than stocked: the orders that found none hold nothing
    assert sum(check.by_status.values()) < QUICK.orders, check.by_status
    assert check.deposits > check.by_status.get("delivered", 0)  # some went back
    assert world.ledger_check_exit == 0


def test_resale_with_the_bank_and_issuer_failing_keeps_every_won(database_url, tmp_path):
    row, check, world = run_resale(Context(SEED, tmp_path, database_url), QUICK)

    assert bad_columns(row) == {}, explain(row)
    assert row.faults >= 10, explain(row)  # the simulators really failed
    assert check.by_status.get("delivered", 0) >= 5, check.by_status
    assert world.ledger_check_exit == 0


def test_a_delivery_of_one_unit_more_is_caught(monkeypatch, tmp_path):
    monkeypatch.setattr(delivery, "_deliver", plants.deliver_one_more)
    row, _, _ = run_resale(Context(SEED, tmp_path), QUICK)

    assert row.double_deliveries > 0, row.notes


def test_a_return_sent_under_a_second_key_is_caught(monkeypatch, tmp_path):
    monkeypatch.setattr(resale_worker, "send_returns", plants.send_returns_twice)
    row, _, _ = run_resale(Context(SEED, tmp_path), QUICK)

    assert row.double_refunds > 0, row.notes
