"""Withdrawal (탈퇴) without a database: the password again, open sales and payouts finish
first, nothing owed is dropped; a withdrawal is audited and tells when the phone can
sign up again."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from fakes_uow import FakeWorld
from giftcash.domain import ledger as L
from giftcash.privacy import withdrawal
from giftcash.service import errors
from giftcash.service.ports.records import PaymentStop


@pytest.fixture
def world() -> FakeWorld:
    w = FakeWorld()
    w.customer("c-1")
    w.bank_account("c-1", "a-1")
    w.submission("c-1", "a-1", "s-1")
    return w


def test_a_customer_with_nothing_open_withdraws(world: FakeWorld) -> None:
    rejoin = withdrawal.withdraw(world.deps, "c-1", "pw")
    assert world.db.customers["c-1"].status == "withdrawn"
    # the purge frees the phone when the year of keeping is over
    assert rejoin == (world.clock.now() + timedelta(days=366)).date()
    [rec] = world.db.audit
    assert (rec.actor, rec.action, rec.subject) == (
        "customer:c-1",
        "customer.withdraw",
        "customer:c-1",
    )
    assert world.db.commits == 1


def test_the_password_is_asked_again(world: FakeWorld) -> None:
    with pytest.raises(errors.InvalidCredentials):
        withdrawal.withdraw(world.deps, "c-1", "not it")
    assert world.db.customers["c-1"].status == "active"
    assert [f["kind"] for f in world.db.failures] == ["bad_login"]


@pytest.mark.parametrize("status", ["received", "review", "redeeming", "redeemed", "paying"])
def test_open_sales_finish_first(world: FakeWorld, status: str) -> None:
    world.item("i-1", status)
    with pytest.raises(errors.WithdrawalRefused) as refused:
        withdrawal.withdraw(world.deps, "c-1", "pw")
    assert refused.value.context["reason"] == "open_sales"
    assert world.db.customers["c-1"].status == "active"
    assert world.db.audit == []


def test_finished_sales_do_not_stop_a_withdrawal(world: FakeWorld) -> None:
    for n, status in enumerate(["paid", "declined", "invalid"]):
        world.item(f"i-{n}", status)
    withdrawal.withdraw(world.deps, "c-1", "pw")
    assert world.db.customers["c-1"].status == "withdrawn"


def test_money_still_owed_stops_a_withdrawal(world: FakeWorld) -> None:
    world.item("i-1", "failed")  # terminal for the pipeline, but the won is still owed
    with world.deps.uow() as uow:
        uow.ledger.post(
            L.redemption(
                "r-1",
                issuer="cultureland",
                customer_id="c-1",
                face=10_000,
                payout=9_000,
                currency="KRW",
                ref="i-1",
            )
        )
        uow.commit()
    with pytest.raises(errors.WithdrawalRefused) as refused:
        withdrawal.withdraw(world.deps, "c-1", "pw")
    assert refused.value.context["reason"] == "money_owed"


def test_a_withdrawn_customer_cannot_withdraw_again(world: FakeWorld) -> None:
    withdrawal.withdraw(world.deps, "c-1", "pw")
    with pytest.raises(errors.Unauthorized):
        withdrawal.withdraw(world.deps, "c-1", "pw")
    assert len(world.db.audit) == 1


def test_wrong_passwords_are_bounded_as_at_sign_in(world: FakeWorld) -> None:
    for _ in range(world.deps.limits.login_max_failures):
        with pytest.raises(errors.InvalidCredentials):
            withdrawal.withdraw(world.deps, "c-1", "guess")
    with pytest.raises(errors.TooManyAttempts):
        withdrawal.withdraw(world.deps, "c-1", "pw")  # even the right one, for now
    assert world.db.customers["c-1"].status == "active"
    world.clock.advance(world.deps.limits.failure_window_s + 1)
    withdrawal.withdraw(world.deps, "c-1", "pw")
    assert world.db.customers["c-1"].status == "withdrawn"


@pytest.mark.parametrize("scope", ["customer", "account", "code"])
def test_an_active_payment_stop_refuses_withdrawal_until_it_is_closed(
    world: FakeWorld, scope: str
) -> None:
    world.item("i-1", "paid")  # nothing open: only the stop refuses
    world.db.bank_accounts["a-1"]["account_number_hmac"] = "hmac-a-1"
    subject = {
        "customer": ("c-1", None),
        "account": (None, "hmac-a-1"),
        "code": (None, "hmac-i-1"),
    }[scope]
    stop = PaymentStop(
        id="st-1",
        scope=scope,
        customer_id=subject[0],
        subject_hmac=subject[1],
        subject_masked="***",
        bank_code="004" if scope == "account" else None,
        requester="police",
        requester_name="서울경찰청",
        requester_contact="112",
        reference="R-1",
        reason="사기 피해금",
        state="active",
        requested_by="operator:op-1",
        created_at=world.clock.now(),
    )
    world.db.payment_stops[stop.id] = stop
    with pytest.raises(errors.WithdrawalRefused) as refused:
        withdrawal.withdraw(world.deps, "c-1", "pw")
    assert refused.value.context["reason"] == "payment_stop"
    assert world.db.customers["c-1"].status == "active" and world.db.audit == []
    world.db.payment_stops[stop.id] = replace(stop, state="released")
    withdrawal.withdraw(world.deps, "c-1", "pw")
    assert world.db.customers["c-1"].status == "withdrawn"
