"""A bank that refuses a deposit as closed (점검 시간), on SQLite and PostgreSQL with the
in-memory bank: the payout waits for the reopening the bank announced, or, when it did not
say, ``bank_closed_retry_s``; the refusal is not counted as an attempt and never fails the
payout; the deposit is made once when the bank opens."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from apiworld import World, add_account, item, signup
from giftcash.adapters.db import tables as t
from giftcash.domain.states import PayoutStatus as PS
from giftcash.payouts import sending
from giftcash.redemption import steps as redemption
from giftcash.service.ports import BankClosed


class MovableClock:
    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def now(self) -> datetime:
        return self.at


def _one_payout(w: World, phone: str, number: str, code: str) -> None:
    d = w.deps
    auth = signup(w, phone)
    account = add_account(w, auth, number)
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


def _send(w: World) -> list[sending.PayoutOutcome]:
    d = w.deps
    claims = sending.claim_payouts(d, "w1", (PS.PENDING, PS.SENDING, PS.UNKNOWN), 10)
    outcomes = [sending.send_payout(d, c) for c in claims]
    sending.record_sends(d, "w1", outcomes)
    return outcomes


def _payout(w: World):
    with w.engine.connect() as conn:
        return conn.execute(select(t.payouts)).one()


def test_a_closed_bank_that_names_no_reopening_is_asked_again_later_without_a_failure(
    world: World,
):
    w = world
    clock = MovableClock()
    w.deps.clock = clock
    w.deps.limits = replace(w.deps.limits, bank_closed_retry_s=600)
    _one_payout(w, "010-7300-0001", "73000000000001", "4180730000000001")
    w.bank.closed = BankClosed("closed", reopens_at=None)
    for _ in range(3):  # three refusals in a row: none counts, none fails
        (o,) = _send(w)
        assert o.kind == "closed"
        p = _payout(w)
        assert (p.status, p.attempts, p.failure_code) == ("sending", 0, None)
        assert p.next_attempt_at == clock.at + timedelta(seconds=600)
        assert _send(w) == []  # not due before then
        clock.at = p.next_attempt_at
    w.bank.closed = None
    (o,) = _send(w)
    assert o.kind == "sent" and _payout(w).status == "sent"
    assert w.bank.paid_to("004", "73000000000001") == 9_000
    assert len([x for x in w.bank.transfers.values() if x["amount"] > 1]) == 1


def test_a_closed_bank_announcing_its_reopening_is_waited_for(world: World):
    w = world
    clock = MovableClock()
    w.deps.clock = clock
    _one_payout(w, "010-7300-0002", "73000000000002", "4180730000000002")
    opens = clock.at + timedelta(minutes=37)
    w.bank.closed = BankClosed("closed", reopens_at=opens)
    (o,) = _send(w)
    assert (o.kind, o.reopens_at) == ("closed", opens)
    p = _payout(w)
    assert p.next_attempt_at == p.bank_closed_until == opens and p.attempts == 0
    clock.at = opens
    w.bank.closed = None
    (o,) = _send(w)
    assert o.kind == "sent"
