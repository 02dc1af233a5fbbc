"""The hostile-traffic scenario of ``giftcash selftest`` (issue 18) on SQLite and
PostgreSQL: SMS pumping, account aggregation, enumeration and SSRF against the API and
the simulators, every bad column 0; and with a bound switched off (planted by this test
only), the scenario sees the texts it lets through."""

from __future__ import annotations

import dataclasses

import pytest
from verdict import SEED, explain

from giftcash.abuse import bounds
from giftcash.selftest.abuse import AbusePlan, run_abuse
from giftcash.selftest.registry import Context


@pytest.mark.slow  # a hostile traffic run: over 2 s
def test_hostile_traffic_costs_within_the_bounds(database_url, tmp_path):
    plan = AbusePlan(burst=12)
    row, figures = run_abuse(Context(SEED, tmp_path, database_url), plan)

    assert row.bad == 0, explain(row)
    assert figures["sms_sent"] <= plan.sms_per_address + plan.sms_per_range + 1
    assert figures["signups_refused"] >= 2 * plan.burst - figures["sms_sent"]
    assert 1 <= figures["deposits_sent"] <= 5 and figures["won_spent"] == figures["deposits_sent"]
    assert figures["enumeration_differences"] == 0
    assert figures["ssrf_requests_received"] == 0
    assert figures["ssrf_refused_at_registration"] == figures["ssrf_urls"] - 1


@pytest.mark.slow  # a hostile traffic run: over 2 s
def test_a_bound_switched_off_is_seen(monkeypatch, tmp_path):
    # PLANTED: the per-address SMS bound is as good as gone
    real = bounds.Bounds.limits

    def no_address_bound(self, kind):
        window, limits = real(self, kind)
        return window, tuple((k, 10**6 if k == "address" else n) for k, n in limits)

    monkeypatch.setattr(bounds.Bounds, "limits", no_address_bound)
    row, _ = run_abuse(Context(SEED, tmp_path), dataclasses.replace(AbusePlan(), burst=12))

    assert row.invariant_breaks >= 1
    assert any("texts from one address" in n for n in row.notes), row.notes
