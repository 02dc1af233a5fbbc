"""`giftcash demo` killed with SIGKILL in the middle of a batch, started again on the same
--data-dir: it finishes every batch, with the same end checks (the demo is embedded,
so SQLite only)."""

from __future__ import annotations

import pytest
from verdict import SEED, bad_columns, explain

from giftcash.selftest.demo_crash import DemoPlan, run_demo_crash
from giftcash.selftest.registry import Context
from giftcash.selftest.stack import ITEMS_PER_CUSTOMER

pytestmark = pytest.mark.slow  # the whole demo started, killed and restarted


def test_demo_killed_mid_batch_finishes_it_after_a_restart(tmp_path):
    plan = DemoPlan(cycles=2)
    row, check = run_demo_crash(Context(SEED, tmp_path), plan)

    assert bad_columns(row) == {}, explain(row)
    assert row.sigkills == plan.cycles
    assert check.items == plan.cycles * plan.customers_per_cycle * ITEMS_PER_CUSTOMER
    assert check.by_status == {"paid": check.items}, check.by_status
