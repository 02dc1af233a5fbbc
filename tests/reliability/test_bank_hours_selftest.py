"""The bank-hours scenario of ``giftcash selftest`` (selftest/bank_hours.py) passes: the
bank simulator closes the customers' bank, our calendar knows half of the window, and
from the simulator's transfer records no payout went out inside it and each went once."""

from __future__ import annotations

import pytest

from giftcash.selftest import bank_hours
from giftcash.selftest.registry import Context, load_scenarios

pytestmark = pytest.mark.slow  # a real worker over the simulators, about ten seconds


def test_the_bank_hours_scenario_pays_each_payout_once_after_the_window(tmp_path):
    row, check = bank_hours.run_bank_hours(Context(41, tmp_path), bank_hours.QUICK)
    assert row.bad == 0, row.notes
    assert row.faults > 0  # the bank refused as closed: the window we did not know was met
    assert check.double_payouts == 0 and check.unsettled == 0
    assert "0 payouts sent inside the window" in " ".join(row.notes)


def test_the_scenario_is_a_selftest_row():
    assert "bank-hours" in [s.name for s in load_scenarios()]
