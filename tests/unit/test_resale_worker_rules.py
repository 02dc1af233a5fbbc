"""The worker's resale steps over the in-memory unit of work and the fake virtual
accounts: a deposit we do not keep goes back whole exactly once, even when the bank's
answer is lost or the bank is down for a pass; a lost notification is found by the
inquiry; an unpaid order expires at its deadline and its unit is stocked again; its
virtual account is then closed at the bank, asked again until the bank has done it."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from fakes import FakeClock, FakeVirtualAccounts
from fakes_uow import FakeDatabase, FakeUnitOfWork
from giftcash.resale.deposits import take_deposit
from giftcash.resale.worker import ClosePass, close_expired_accounts, expire_unpaid, send_returns
from giftcash.service.ports.records import InventoryUnit, Order
from giftcash.service.ports.uow import UnitOfWork

CLOCK = FakeClock()
NOW = CLOCK.at
DEADLINE = NOW + timedelta(hours=1)


def world():
    db = FakeDatabase()
    bank = FakeVirtualAccounts(clock=FakeClock(NOW))
    va = bank.issue("o-1", 9_500, "giftcash", DEADLINE)
    db.orders["o-1"] = Order(
        "o-1", "c-1", "kyobo_gift", "KRW", 10_000, 1, 9_500, "awaiting_payment",
        DEADLINE, "va-o-1", "va-1", va.account_number, NOW,
    )  # fmt: skip
    db.inventory["i-1"] = InventoryUnit(
        "u-1", "i-1", "kyobo_gift", "KRW", 10_000, 9_000, NOW + timedelta(days=300),
        "reserved", NOW,
    )  # fmt: skip
    db.unit_orders["u-1"] = "o-1"
    return db, bank, va.account_number


def factory(db):
    return lambda: cast(UnitOfWork, FakeUnitOfWork(db))


def name(uow, customer_id):
    return "홍길동"


def notify(db, notice):
    with FakeUnitOfWork(db) as uow:
        take_deposit(uow, "o-1", "홍길동", notice.deposit, NOW)
        uow.commit()


def test_another_names_deposit_goes_back_once_across_passes():
    db, bank, number = world()
    notify(db, bank.pay(number, 9_500, "김철수"))
    bank.down = True
    assert send_returns(factory(db), bank, NOW).waiting == 1
    bank.down = False
    assert send_returns(factory(db), bank, NOW).returned == 1
    assert send_returns(factory(db), bank, NOW).returned == 0  # nothing queued any more
    (d,) = db.order_deposits
    assert (d.status, d.return_reason) == ("returned", "other_name")
    assert [r.outcome for r in bank.returns.values()] == ["returned"]
    assert bank.returned_twice() == 0


def test_a_lost_answer_is_resolved_by_key_not_by_a_second_return():
    db, bank, number = world()
    notify(db, bank.pay(number, 9_000, "홍길동"))
    bank.lose_next, bank.inquiry_down = 1, True
    assert send_returns(factory(db), bank, NOW).waiting == 1
    assert send_returns(factory(db), bank, NOW).returned == 1
    assert len(bank.returns) == 1 and bank.returned_twice() == 0
    assert db.order_deposits[0].return_reason == "wrong_amount"


def test_a_lost_notification_is_found_by_the_inquiry_before_expiry():
    db, bank, number = world()
    bank.pay(number, 9_500, "홍길동")  # the notification never arrives
    assert expire_unpaid(factory(db), bank, name, DEADLINE) == []
    assert db.orders["o-1"].status == "paid"
    assert db.inventory["i-1"].status == "reserved"


def test_an_unpaid_order_expires_and_its_unit_is_stocked_again():
    db, bank, _number = world()
    assert expire_unpaid(factory(db), bank, name, DEADLINE - timedelta(seconds=1)) == []
    assert expire_unpaid(factory(db), bank, name, DEADLINE) == ["o-1"]
    assert db.orders["o-1"].status == "expired"
    assert db.inventory["i-1"].status == "stocked" and "u-1" not in db.unit_orders
    assert expire_unpaid(factory(db), bank, name, DEADLINE) == []


def test_the_bank_down_at_the_deadline_does_not_expire_blind():
    db, bank, _number = world()
    bank.down = True
    assert expire_unpaid(factory(db), bank, name, DEADLINE) == []
    assert db.orders["o-1"].status == "awaiting_payment"


def expired(db, bank):
    assert expire_unpaid(factory(db), bank, name, DEADLINE) == ["o-1"]


def test_an_expired_order_s_account_is_closed_once():
    db, bank, number = world()
    assert close_expired_accounts(factory(db), bank, name, NOW).closed == 0  # not expired
    assert bank.accounts[number]["open"]
    expired(db, bank)
    assert close_expired_accounts(factory(db), bank, name, DEADLINE).closed == 1
    assert not bank.accounts[number]["open"]
    assert db.orders["o-1"].account_closed_at == DEADLINE
    assert close_expired_accounts(factory(db), bank, name, DEADLINE).closed == 0


def test_a_close_the_bank_did_not_answer_is_asked_again_until_done():
    db, bank, number = world()
    expired(db, bank)
    bank.down = True
    assert close_expired_accounts(factory(db), bank, name, DEADLINE) == ClosePass(0, 1)
    assert db.orders["o-1"].account_closed_at is None
    bank.down = False
    bank.lose_close = 1  # closed at the bank, the answer lost: not recorded yet
    assert close_expired_accounts(factory(db), bank, name, DEADLINE) == ClosePass(0, 1)
    assert not bank.accounts[number]["open"] and db.orders["o-1"].account_closed_at is None
    assert close_expired_accounts(factory(db), bank, name, DEADLINE) == ClosePass(1, 0)
    assert db.orders["o-1"].account_closed_at == DEADLINE


def test_a_deposit_to_an_expired_order_before_its_close_goes_back_once_as_late():
    db, bank, number = world()
    expired(db, bank)
    notice = bank.pay(number, 9_500, "홍길동")  # exact, own name, but the order expired
    with FakeUnitOfWork(db) as uow:
        outcome = take_deposit(uow, "o-1", "홍길동", notice.deposit, DEADLINE)
        uow.commit()
    assert (outcome.kept, outcome.return_reason) == (False, "late")
    assert db.orders["o-1"].status == "expired"
    assert close_expired_accounts(factory(db), bank, name, DEADLINE).closed == 1
    assert len(db.order_deposits) == 1  # the close's inquiry found nothing new
    assert send_returns(factory(db), bank, DEADLINE).returned == 1
    assert send_returns(factory(db), bank, DEADLINE).returned == 0
    assert bank.returned_twice() == 0 and len(bank.returns) == 1


def test_a_deposit_before_the_close_whose_notification_is_lost_is_found_by_the_close():
    db, bank, number = world()
    expired(db, bank)
    bank.pay(number, 9_500, "홍길동")  # the notification never arrives
    assert close_expired_accounts(factory(db), bank, name, DEADLINE).closed == 1
    (d,) = db.order_deposits
    assert (d.status, d.return_reason) == ("returning", "late")
    assert send_returns(factory(db), bank, DEADLINE).returned == 1
    assert db.orders["o-1"].status == "expired" and bank.returned_twice() == 0
