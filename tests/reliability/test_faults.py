"""Issuer and bank simulators failing a quarter of all calls (503s, hangs before and after
the work, answers lost as 503s or dropped connections): the same end checks."""

from __future__ import annotations

import pytest
from verdict import SEED, bad_columns, explain

from giftcash.selftest.faults import FaultPlan, run_faults
from giftcash.selftest.registry import Context

pytestmark = pytest.mark.slow  # fault runs through the worker, many seeds

PLAN = FaultPlan(items=120)


def test_faults_at_a_quarter_of_calls_never_pay_twice_nor_lose_a_won(database_url, tmp_path):
    assert 0.2 <= PLAN.combined_rate <= 0.3
    assert PLAN.http_timeout_s * 1000 < PLAN.injected_timeout_ms  # every hang is a timeout
    row, check = run_faults(Context(SEED, tmp_path, database_url), PLAN)

    assert bad_columns(row) == {}, explain(row)
    assert row.faults >= 20, explain(row)  # the simulators really failed
    assert check.items == PLAN.items
    assert check.by_status.get("paid", 0) >= 0.9 * PLAN.items, check.by_status
    assert check.ledger_check_exit == 0
