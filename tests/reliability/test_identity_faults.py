"""The identity provider failing a quarter of its calls and answering twice while people
sign up, each also with their second phone (issue 14): one customer per person, and
every person whose confirmation was answered has theirs, read from both sides."""

from __future__ import annotations

import pytest
from verdict import SEED, bad_columns, explain

from giftcash.selftest.identity_faults import IdentityPlan, run_identity
from giftcash.selftest.registry import Context

pytestmark = pytest.mark.slow  # a fault run: the simulator behind HTTP, failing on purpose

PLAN = IdentityPlan(people=6)


def test_an_identity_provider_that_times_out_or_answers_twice_makes_one_customer_a_person(
    database_url, tmp_path
):
    assert PLAN.http_timeout_s * 1000 < PLAN.injected_timeout_ms  # every hang is a timeout
    row, figures = run_identity(Context(SEED, tmp_path, database_url), PLAN)

    assert bad_columns(row) == {}, explain(row)
    assert row.faults >= 1, explain(row)  # the simulator really failed
    assert figures["customers"] == figures["confirmed_answered"] == PLAN.people, figures
    assert figures["duplicates"] == 0 and figures["checks_left_started"] == 0, figures
    assert figures["in_clear"] == 0, figures  # the CI only hashed, the DI only sealed


def test_the_harness_finds_a_person_with_two_customers(monkeypatch, tmp_path):
    """PLANTED: the CI hashed with a fresh salt each time, so neither the refusal nor the
    unique index sees the person again: the end checks must say so."""
    import uuid

    from giftcash.identity import verification

    monkeypatch.setattr(
        verification, "ci_key", lambda deps, ci: deps.vault.hmac(f"ci:{ci}:{uuid.uuid4()}")
    )
    row, figures = run_identity(Context(SEED, tmp_path, None), IdentityPlan(people=3))
    assert row.bad > 0, explain(row)
    assert figures["unknown_ci"] > 0 and figures["customers"] > 3, figures


def test_the_harness_finds_a_di_stored_in_clear(monkeypatch, tmp_path):
    """PLANTED: the verified details stored as plain JSON instead of sealed."""
    import json

    from giftcash.identity import verification
    from giftcash.service.ports.records import StoredIdentity

    def leaky_store(uow, deps, customer_id, ci_hmac, person, now):
        blob = json.dumps({"name": person.name, "di": person.di}).encode()
        return uow.identities.add(StoredIdentity(customer_id, ci_hmac, blob, "plain", now))

    monkeypatch.setattr(verification, "_store", leaky_store)
    row, figures = run_identity(Context(SEED, tmp_path, None), IdentityPlan(people=2))
    assert row.bad > 0 and figures["in_clear"] >= 2, (figures, explain(row))
