"""Taking a deposit to an order's virtual account (resale/deposits.py, over the in-memory
unit of work): an exact own-name deposit in time pays the order and books the buyer's
money on their liability; anything else is queued to go back whole with its reason and a
return key made now; the same deposit reported again changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fakes_uow import FakeDatabase, FakeUnitOfWork
from giftcash.domain import ledger
from giftcash.domain.resale import ReturnReason
from giftcash.resale.deposits import return_key, take_deposit
from giftcash.service.ports.records import Order
from giftcash.service.ports.virtual_accounts import IncomingDeposit

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
DEADLINE = NOW + timedelta(hours=1)
BUYER = "홍길동"


def database() -> FakeDatabase:
    db = FakeDatabase()
    db.orders["o-1"] = Order(
        "o-1", "c-1", "kyobo_gift", "KRW", 10_000, 1, 9_500, "awaiting_payment",
        DEADLINE, "va-o-1", "va-1", "5001", NOW,
    )  # fmt: skip
    return db


def pay(db, deposit_id, amount=9_500, name=BUYER, at=NOW):
    incoming = IncomingDeposit(deposit_id, amount, name, "088", "****1234", at, "received")
    with FakeUnitOfWork(db) as uow:
        outcome = take_deposit(uow, "o-1", BUYER, incoming, NOW)
        uow.commit()
    return outcome


def test_an_exact_own_name_deposit_pays_the_order_and_books_it():
    db = database()
    outcome = pay(db, "b-1", name="홍 길동")
    assert outcome.kept and outcome.recorded
    assert db.orders["o-1"].status == "paid"
    (dep,) = db.order_deposits
    assert (dep.status, dep.return_reason) == ("matched", None)
    (t,) = db.transfers.values()
    balances = ledger.balances_from([t])
    assert balances[(ledger.BANK_CLEARING, "KRW")] == 9_500
    assert balances[(ledger.buyer_account("c-1"), "KRW")] == -9_500
    assert ledger.transfer_violations(t) == []


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"name": "김철수"}, ReturnReason.OTHER_NAME),
        ({"amount": 9_000}, ReturnReason.WRONG_AMOUNT),
        ({"at": DEADLINE}, ReturnReason.LATE),
    ],
)
def test_anything_else_is_queued_to_go_back_with_its_reason(kwargs, reason):
    db = database()
    outcome = pay(db, "b-1", **kwargs)
    assert not outcome.kept and outcome.return_reason is reason
    assert db.orders["o-1"].status == "awaiting_payment"
    (dep,) = db.order_deposits
    assert (dep.status, dep.return_reason, dep.return_key) == (
        "returning",
        reason.value,
        return_key("b-1"),
    )
    assert db.transfers == {}


def test_a_second_deposit_goes_back_and_the_first_stays():
    db = database()
    assert pay(db, "b-1").kept
    second = pay(db, "b-2")
    assert second.return_reason is ReturnReason.SECOND_DEPOSIT
    assert [d.status for d in db.order_deposits] == ["matched", "returning"]
    assert len(db.transfers) == 1


def test_the_same_deposit_reported_again_changes_nothing():
    db = database()
    pay(db, "b-1", name="김철수")
    before = (list(db.order_deposits), dict(db.orders), dict(db.transfers))
    again = pay(db, "b-1", name="김철수")
    assert not again.recorded
    assert (list(db.order_deposits), dict(db.orders), dict(db.transfers)) == before
