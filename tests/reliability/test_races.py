"""Races on SQLite and PostgreSQL (a real engine pool): one code sold by 50 customers at
once, replays of one Idempotency-Key, several workers paying one customer while the bank
misbehaves. Then races with a bug planted (by these tests only): the checks catch it."""

from __future__ import annotations

import random
import time

import pytest
from sqlalchemy import update
from verdict import SEED, bad_columns, explain

from giftcash.adapters.db import codes_repo
from giftcash.adapters.db import repositories_items as items_repo
from giftcash.adapters.db import tables as t
from giftcash.entrypoints.api import idempotency
from giftcash.payouts import sending
from giftcash.selftest.races import (
    RacePlan,
    RaceReport,
    end_checks,
    make_customer,
    phone_of,
    race_one_code,
    race_payouts,
    race_replays,
    race_stack,
    run_races,
)
from giftcash.selftest.registry import Context

pytestmark = pytest.mark.slow  # many threads over a real engine pool

PLAN = RacePlan()


def test_races_never_accept_a_code_twice_nor_pay_more_than_owed(database_url, tmp_path):
    row, out = run_races(Context(SEED, tmp_path, database_url), PLAN)

    assert bad_columns(row) == {}, explain(row)
    assert (out.accepted, out.duplicates, out.registry_rows) == (1, PLAN.submitters - 1, 1)
    assert out.thread_errors == []
    assert dict(out.replay_statuses) == {201: 2 * PLAN.replays}
    assert out.replay_bodies == 2  # byte for byte one answer per key
    assert (out.replay_submissions, out.replay_accounts, out.replay_deposits) == (1, 1, 1)
    assert out.paid_to_customer == out.owed_paid_items > 0, out.notes
    assert out.liability_debits == 0
    assert out.check.by_status.get("paid", 0) >= PLAN.payout_items + 1, out.check.by_status


# -- planted bugs ---------------------------------------------------------------------------

SMALL = RacePlan(
    submitters=8, replays=6, payout_workers=3, payout_items=6, payout_waves=3, settle_s=10.0
)  # settle_s: the wait ends as soon as nothing is left to do; a loaded machine needs more


def test_intake_without_its_registry_accepts_a_code_many_times(monkeypatch, tmp_path):
    """PLANTED: the registry forgets every earlier code and intake ignores earlier items."""
    monkeypatch.setattr(codes_repo.CodeRegistry, "register_many", lambda self, entries: {})
    monkeypatch.setattr(items_repo.Items, "sightings", lambda self, hmacs: {})
    out = RaceReport()
    with race_stack(Context(SEED, tmp_path), SMALL) as st:
        people = [make_customer(st.deps, st.sims, n + 1) for n in range(SMALL.submitters)]
        race_one_code(st.deps, st.sims, people, out)
    assert out.accepted > 1, out.notes


def test_replays_without_the_key_make_many_effects(monkeypatch, tmp_path):
    """PLANTED: the API ignores Idempotency-Key."""
    real = idempotency.run
    monkeypatch.setattr(
        idempotency,
        "run",
        lambda deps, scope, key, h, work, **kw: real(deps, scope, None, h, work, **kw),
    )
    out = RaceReport()
    with race_stack(Context(SEED, tmp_path), SMALL) as st:
        c = make_customer(st.deps, st.sims, 1)
        race_replays(st.deps, st.sims, c, phone_of(1), SMALL.replays, out)
    assert out.replay_effects_extra > 0, out.notes  # more than one account, deposit
    assert out.replay_bodies > 2, out.notes  # and answers that differ


def _create_payouts_read_then_write(deps, limit: int = 200) -> int:
    """PLANTED: due items are read in one transaction and paid out in another, and the
    items are moved whatever their status now: two workers pay the same items."""
    now = deps.clock.now()
    with deps.uow() as uow:
        groups = uow.items.payable_groups(now, limit)
    time.sleep(random.uniform(0.05, 0.2))
    made = 0
    with deps.uow() as uow:
        for g in groups:
            payout_id = deps.new_id()
            uow.payouts.add(
                id=payout_id,
                customer_id=g.customer_id,
                bank_account_id=g.bank_account_id,
                currency=g.currency,
                amount=g.amount,
                bank_tran_id=deps.new_bank_tran_id(),
                now=now,
            )
            c = t.items.c
            uow.conn.execute(
                update(t.items)
                .where(c.id.in_(g.item_ids))
                .values(status="paying", payout_id=payout_id, updated_at=now)
            )
            made += 1
        uow.commit()
    return made


def test_payouts_created_outside_one_transaction_pay_more_than_owed(monkeypatch, tmp_path):
    monkeypatch.setattr(sending, "create_payouts", _create_payouts_read_then_write)
    out = RaceReport()
    with race_stack(Context(SEED, tmp_path), SMALL) as st:
        c = make_customer(st.deps, st.sims, 1)
        race_payouts(st.deps, st.sims, st.engine, c, SMALL, random.Random(SEED), out)
        check = end_checks(st)
    assert out.paid_to_customer > out.owed_paid_items or check.double_payouts > 0, out.notes
    assert check.double_payouts + check.invariant_breaks > 0, check.notes


def test_races_hostile_and_secrets_are_selftest_rows():
    from giftcash.selftest.registry import load_scenarios

    names = [s.name for s in load_scenarios()]
    assert {"races", "hostile", "secrets"} <= set(names), names
    assert names.index("races") < names.index("hostile") < names.index("secrets")
