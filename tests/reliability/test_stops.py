"""Payment stops against the simulators, on SQLite and PostgreSQL: stops by account, by
customer and by code while items are in flight, one naming an unknown account, stops and
releases racing two workers. Nothing in a stopped set is redeemed or paid while it is
stopped (the simulators' own records), every set is traced, a release pays once. Then the
same run with the claims' stop filter planted away (by this test only): the check sees
the calls."""

from __future__ import annotations

import pytest
from sqlalchemy import false
from verdict import SEED, bad_columns, explain

from giftcash.adapters.db import repositories_items, repositories_payouts
from giftcash.selftest.registry import Context, load_scenarios
from giftcash.selftest.stops import StopPlan, run_stops

pytestmark = pytest.mark.slow  # workers and simulators over a real engine pool

PLAN = StopPlan(race_cycles=4)


def test_nothing_stopped_is_redeemed_or_paid_and_a_release_pays_once(database_url, tmp_path):
    row, out = run_stops(Context(SEED, tmp_path, database_url), PLAN)

    assert bad_columns(row) == {}, explain(row)
    assert out.stops == 3 + 1 + PLAN.race_cycles
    assert (out.after_ack, out.untraced, out.release_unpaid, out.settle_paid) == (0, 0, 0, 0)
    assert out.unknown_account_matched == 0  # recorded, matching nothing at first
    assert sum(out.found.values()) > 0 and out.harness_errors == []
    assert out.check.by_status.get("paid", 0) > 0, out.check.by_status


def test_claims_that_ignore_stops_are_caught(monkeypatch, tmp_path):
    """PLANTED: the worker's claims no longer skip what an active stop covers."""
    monkeypatch.setattr(repositories_items, "item_stopped", lambda items: false())
    monkeypatch.setattr(repositories_payouts, "payout_stopped", lambda payouts: false())
    row, out = run_stops(Context(SEED, tmp_path), PLAN)
    assert out.after_ack > 0, out.notes
    assert row.bad > 0


def test_stops_is_a_selftest_row():
    names = [s.name for s in load_scenarios()]
    assert "stops" in names and names.index("races") < names.index("stops")
