"""A sent payout whose bank never gives a final answer (the transfer stays ``pending``,
or the bank does not find it) is asked ``max_attempts`` times, then parked for an
operator with ``failure_code='unconfirmed'`` and asked again only every
``unconfirmed_recheck_s``; a late ``done`` still settles it, and clears the flag."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from apiworld import World, add_account, check_sent_payouts, item, signup
from giftcash.adapters.db import tables as t
from giftcash.domain.states import PayoutStatus as PS
from giftcash.payouts import operations as ops
from giftcash.payouts import sending
from giftcash.redemption import steps as redemption


def _payout(w: World):
    with w.engine.connect() as conn:
        return conn.execute(select(t.payouts)).one()


def _sent_payout(w: World) -> str:
    d = w.deps
    auth = signup(w, "010-5600-0001")
    account = add_account(w, auth, "56000000000001")
    w.bank.settle_later = True  # the payout below stays 'pending' at the bank
    code = "4180560000000001"
    w.issuer.sell("cultureland", code, 10_000, purchased_at=datetime.now(UTC) - timedelta(days=3))
    r = w.client.post(
        "/v1/submissions",
        headers=auth,
        json={"bank_account_id": account, "items": [item(code, 10_000)]},
    )
    assert r.status_code == 201, r.text
    redemption.record_admissions(
        d, "w1", [redemption.inquire(d, c) for c in redemption.claim_admissions(d, "w1", 10)]
    )
    redemption.record_redemptions(
        d, "w1", [redemption.redeem(d, c) for c in redemption.claim_redemptions(d, "w1", 10)]
    )
    assert sending.create_payouts(d) == 1
    claims = sending.claim_payouts(d, "w1", (PS.PENDING,), 10)
    sending.record_sends(d, "w1", [sending.send_payout(d, c) for c in claims])
    p = _payout(w)
    assert p.status == "sent"
    return p.id


def test_a_payout_the_bank_never_settles_is_parked_after_max_attempts_then_settles(
    world: World,
):
    w, d = world, world.deps
    d.limits = replace(d.limits, max_attempts=4, backoff_base_s=0.0, backoff_cap_s=0.0)
    payout_id = _sent_payout(w)
    bank_tran_id = _payout(w).bank_tran_id

    checks = 0
    while check_sent_payouts(w.deps):
        checks += 1
        assert checks < 10, "the check never stops"
    p = _payout(w)
    assert p.status == "sent" and p.failure_code == "unconfirmed"
    assert p.attempts == d.limits.max_attempts
    due_in = p.next_attempt_at.replace(tzinfo=UTC) - datetime.now(UTC)
    assert timedelta(hours=5, minutes=59) < due_in <= timedelta(hours=6)
    assert check_sent_payouts(w.deps) == 0  # parked: nothing to claim now

    # the bank settles it late; the operator's retry makes it due now
    w.bank.settle(bank_tran_id)
    inquiry = ops.inquire_payout(d, payout_id)
    assert inquiry.bank_outcome == "done" and inquiry.agrees
    ops.retry_payout(d, payout_id, actor="operator:test")
    assert check_sent_payouts(w.deps) == 1
    p = _payout(w)
    assert p.status == "confirmed" and p.failure_code is None
    with w.engine.connect() as conn:
        statuses = set(conn.scalars(select(t.items.c.status)))
    assert statuses == {"paid"}


def test_a_payout_the_bank_does_not_find_is_parked_too(world: World):
    w, d = world, world.deps
    d.limits = replace(d.limits, max_attempts=3, backoff_base_s=0.0, backoff_cap_s=0.0)
    _sent_payout(w)
    w.bank.transfers.clear()  # the bank's answer: not_found, for ever
    checks = 0
    while check_sent_payouts(w.deps):
        checks += 1
        assert checks < 10, "the check never stops"
    p = _payout(w)
    assert p.status == "sent" and p.failure_code == "unconfirmed"
    with w.engine.connect() as conn:
        statuses = set(conn.scalars(select(t.items.c.status)))
    assert statuses == {"paying"}  # nothing is paid twice or given up: an operator looks


def test_the_metrics_count_unconfirmed_payouts(world: World):
    w, d = world, world.deps
    d.limits = replace(d.limits, max_attempts=2, backoff_base_s=0.0, backoff_cap_s=0.0)
    _sent_payout(w)
    assert "giftcash_payouts_unconfirmed 0.0" in w.client.get("/metrics").text
    while check_sent_payouts(w.deps):
        pass
    assert "giftcash_payouts_unconfirmed 1.0" in w.client.get("/metrics").text
