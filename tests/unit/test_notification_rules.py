"""The bank's deposit notification (resale/notifications.py) over the fakes: a forged one
is refused and records nothing; lost, repeated and out-of-order notifications end as the
bank's inquiry says: the exact own-name deposit keeps the order paid, the other goes back
once."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

import pytest

from fakes import FakeClock, FakeVirtualAccounts
from fakes_uow import FakeDatabase, FakeUnitOfWork
from giftcash.resale.notifications import NotificationRefused, take_notification
from giftcash.resale.worker import expire_unpaid, send_returns
from giftcash.service.ports.records import Order
from giftcash.service.ports.uow import UnitOfWork

NOW = FakeClock().at
DEADLINE = NOW + timedelta(hours=1)


def world():
    db = FakeDatabase()
    bank = FakeVirtualAccounts(clock=FakeClock(NOW))
    va = bank.issue("o-1", 9_500, "giftcash", DEADLINE)
    db.orders["o-1"] = Order(
        "o-1", "c-1", "kyobo_gift", "KRW", 10_000, 1, 9_500, "awaiting_payment",
        DEADLINE, "va-o-1", va.account_number, va.account_number, NOW,
    )  # fmt: skip
    return db, bank, va.account_number


def uows(db):
    return lambda: cast(UnitOfWork, FakeUnitOfWork(db))


def name(uow, customer_id):
    return "홍길동"


def notify(db, bank, notice):
    return take_notification(uows(db), bank, {}, notice.deposit.deposit_id.encode(), name, NOW)


def test_a_forged_notification_records_nothing():
    db, bank, number = world()
    notice = bank.pay(number, 9_500, "홍길동")
    bank.forged = True
    with pytest.raises(NotificationRefused):
        notify(db, bank, notice)
    assert db.order_deposits == [] and db.orders["o-1"].status == "awaiting_payment"


def end_state(db, bank):
    send_returns(uows(db), bank, NOW)
    return (
        db.orders["o-1"].status,
        sorted((d.status, d.return_reason) for d in db.order_deposits),
        sorted(r.outcome for r in bank.returns.values()),
        [t.kind for t in db.transfers.values()],
    )


@pytest.mark.parametrize("script", ["in_order", "repeated", "reversed", "lost"])
def test_notifications_lost_repeated_or_out_of_order_end_the_same(script):
    db, bank, number = world()
    stranger = bank.pay(number, 9_500, "김철수")
    own = bank.pay(number, 9_500, "홍길동")
    if script == "in_order":
        notify(db, bank, stranger), notify(db, bank, own)
    elif script == "repeated":
        for n in (stranger, own, own, stranger, own):
            notify(db, bank, n)
    elif script == "reversed":
        notify(db, bank, own), notify(db, bank, stranger)
    else:  # both lost: the worker's inquiry at the deadline finds them
        assert expire_unpaid(uows(db), bank, name, DEADLINE) == []
    assert end_state(db, bank) == (
        "paid",
        [("matched", None), ("returned", "other_name")],
        ["returned"],
        ["order_paid"],
    )
    assert bank.returned_twice() == 0
