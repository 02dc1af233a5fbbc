"""The harness can fail: with a bug planted in the pipeline (by these tests only), the
end checks report it in a bad column."""

from __future__ import annotations

import sys
from pathlib import Path

import plants
import pytest
from verdict import SEED

from giftcash.payouts import sending
from giftcash.redemption import steps as redemption
from giftcash.selftest.crash import CrashPlan, run_crash
from giftcash.selftest.faults import FaultPlan, run_faults
from giftcash.selftest.registry import Context

pytestmark = pytest.mark.slow  # harness runs with bugs planted, each a full run

SMALL = FaultPlan(items=60, settle_s=10.0, late_customers=0)


def test_a_redemption_retried_under_a_new_key_is_caught(monkeypatch, tmp_path):
    monkeypatch.setattr(redemption, "redeem", plants.redeem_retry_with_new_key)
    row, _ = run_faults(Context(SEED, tmp_path), SMALL)

    assert row.double_redemptions > 0, row.notes  # captured codes sent again
    assert row.lost_won > 0, row.notes  # the first capture never reached the ledger


def test_a_deposit_retried_under_a_new_id_is_caught(monkeypatch, tmp_path):
    monkeypatch.setattr(sending, "send_payout", plants.send_payout_retry_with_new_id)
    row, _ = run_faults(Context(SEED, tmp_path), SMALL)

    assert row.double_payouts > 0, row.notes
    assert row.lost_won > 0, row.notes


def test_a_payout_posted_outside_its_transaction_is_caught_by_the_crash_harness(tmp_path):
    worker = Path(__file__).with_name("planted_worker.py")
    plan = CrashPlan(
        items=96,
        max_kills=20,
        kill_phase_s=20.0,
        settle_s=20.0,
        worker_command=(sys.executable, str(worker)),
    )
    # A kill must land between the two transactions; on a loaded machine fewer kills land
    # before the batch settles, so up to three seeded runs are given to catch it.
    for attempt in range(3):
        row, _ = run_crash(Context(SEED + attempt, tmp_path / f"run{attempt}"), plan)
        if row.lost_won > 0:
            break

    assert row.sigkills > 0
    # a kill between the two transactions leaves a payout sent with no ledger entry
    assert row.lost_won > 0, row.notes
    assert row.invariant_breaks > 0, row.notes
