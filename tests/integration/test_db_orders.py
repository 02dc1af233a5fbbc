"""Orders and their units on SQLite and PostgreSQL (resale, the buyer's side): a unit is
reserved by one order only (a conditional UPDATE from ``stocked``), a release puts it back
in stock, and a deposit is recorded once per the bank's deposit id."""

from __future__ import annotations

import threading
from datetime import timedelta

from fakes import FakeClock, FakeVirtualAccounts
from giftcash.adapters.db import ledger_check
from giftcash.adapters.db.app_uow import AppUnitOfWork as SqlUnitOfWork
from giftcash.domain import ledger
from giftcash.domain.errors import OutOfStock
from giftcash.domain.resale import BuyerLimits, ExpiryBand, ResalePricing, ReturnReason
from giftcash.domain.states import (
    DepositStatus,
    OrderStatus,
    UnitStatus,
    transition,
)
from giftcash.resale.deposits import take_deposit
from giftcash.resale.orders import OrderRequest, place_order
from giftcash.resale.worker import send_returns
from giftcash.service.ports.records import OrderDeposit
from giftcash.service.ports.virtual_accounts import IncomingDeposit
from resale_seed import BUYERS, NOW, order, seed


def test_fifty_orders_for_the_last_unit_reserve_it_once(engine):
    (unit,) = seed(engine)
    start = threading.Barrier(BUYERS)
    won: dict[int, list[str]] = {}

    def buy(n: int) -> None:
        start.wait()
        with SqlUnitOfWork(engine) as uow:
            uow.orders.add(order(n), NOW)
            event = transition(unit, UnitStatus.STOCKED, UnitStatus.RESERVED)
            moved = uow.inventory.apply([event], f"o-{n:02}", NOW)
            if moved:
                uow.commit()
            won[n] = moved

    threads = [threading.Thread(target=buy, args=(n,)) for n in range(BUYERS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    winners = [n for n, moved in won.items() if moved]
    assert len(won) == BUYERS and len(winners) == 1
    with SqlUnitOfWork(engine, read_only=True) as uow:
        held = uow.inventory.of_order(f"o-{winners[0]:02}")
        assert [(u.id, u.status) for u in held] == [(unit, "reserved")]
        assert uow.orders.get(f"o-{winners[0]:02}") is not None
        losers = [n for n in range(BUYERS) if n != winners[0]]
        assert all(uow.orders.get(f"o-{n:02}") is None for n in losers)


def test_a_released_unit_is_stocked_again_and_the_order_expires(engine):
    (unit,) = seed(engine)
    with SqlUnitOfWork(engine) as uow:
        uow.orders.add(order(1), NOW)
        uow.inventory.apply(
            [transition(unit, UnitStatus.STOCKED, UnitStatus.RESERVED)], "o-01", NOW
        )
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        o = uow.orders.get("o-01")
        assert o is not None and uow.orders.awaiting_payment(10) == [o]
        expired = transition(o.id, OrderStatus.AWAITING_PAYMENT, OrderStatus.EXPIRED)
        assert uow.orders.apply(expired, NOW)
        assert not uow.orders.apply(expired, NOW)  # a second expiry moves nothing
        release = transition(unit, UnitStatus.RESERVED, UnitStatus.STOCKED)
        assert uow.inventory.apply([release], None, NOW) == [unit]
        uow.commit()
    with SqlUnitOfWork(engine, read_only=True) as uow:
        assert [u.id for u in uow.inventory.stocked("kyobo_gift", 10_000, 10)] == [unit]
        assert uow.inventory.of_order("o-01") == []
        assert uow.orders.awaiting_payment(10) == []
        assert uow.orders.ordered_won_since("c-01", NOW) == 0


def test_a_deposit_is_recorded_once_per_bank_id(engine):
    seed(engine)
    dep = OrderDeposit(
        "d-1", "o-01", "bank-dep-1", 9_500, "김철수", NOW, "received", None, None, NOW
    )
    with SqlUnitOfWork(engine) as uow:
        uow.orders.add(order(1), NOW)
        assert uow.orders.add_deposit(dep, NOW)
        assert not uow.orders.add_deposit(dep, NOW)
        assert not uow.orders.add_deposit(
            OrderDeposit("d-2", "o-01", "bank-dep-1", 1, "x", NOW, "received", None, None, NOW),
            NOW,
        )
        queued = transition("d-1", DepositStatus.RECEIVED, DepositStatus.RETURNING)
        assert uow.orders.apply_deposit(queued, NOW, "other_name", "ret-d-1")
        uow.commit()
    with SqlUnitOfWork(engine, read_only=True) as uow:
        (only,) = uow.orders.deposits("o-01")
        assert (only.status, only.return_reason, only.return_key) == (
            "returning",
            "other_name",
            "ret-d-1",
        )
        assert uow.orders.returning(10) == [only]
        assert uow.orders.ordered_won_since("c-01", NOW) == 9_500


def test_a_kept_deposit_pays_the_order_and_the_books_check(engine):
    seed(engine)
    incoming = IncomingDeposit("bank-dep-9", 9_500, "홍 길동", "088", "****1", NOW, "received")
    with SqlUnitOfWork(engine) as uow:
        uow.orders.add(order(1), NOW)
        uow.commit()
    for _ in range(2):  # the notification repeated: the second changes nothing
        with SqlUnitOfWork(engine) as uow:
            take_deposit(uow, "o-01", "홍길동", incoming, NOW)
            uow.commit()
    later = NOW + timedelta(minutes=1)
    late = IncomingDeposit("bank-dep-10", 9_500, "홍길동", "088", "****1", later, "received")
    with SqlUnitOfWork(engine) as uow:
        second = take_deposit(uow, "o-01", "홍길동", late, later)
        uow.commit()
    assert second.return_reason is ReturnReason.SECOND_DEPOSIT
    with SqlUnitOfWork(engine, read_only=True) as uow:
        o = uow.orders.get("o-01")
        assert o is not None and o.status == "paid"
        assert [(d.bank_deposit_id, d.status) for d in uow.orders.deposits("o-01")] == [
            ("bank-dep-9", "matched"),
            ("bank-dep-10", "returning"),
        ]
        assert uow.ledger.balance(ledger.buyer_account("c-01"), "KRW") == -9_500
    with engine.connect() as conn:
        assert ledger_check.check(conn) == []


def test_fifty_buyers_placing_orders_for_the_last_unit(engine):
    """Through the service: one order holds the unit and has a virtual account; the other
    forty-nine are refused out_of_stock with no order, no account and no money asked."""
    (unit,) = seed(engine)
    bank = FakeVirtualAccounts(clock=FakeClock(NOW))
    pricing = ResalePricing(7, (ExpiryBand(0, 500),))
    limits = BuyerLimits(per_day_won=1_000_000, per_month_won=5_000_000)
    start = threading.Barrier(BUYERS)
    answers: dict[int, str] = {}

    def buy(n: int) -> None:
        req = OrderRequest(f"o-{n:02}", f"c-{n:02}", "kyobo_gift", 10_000, 1)
        start.wait()
        try:
            place_order(lambda: SqlUnitOfWork(engine), bank, req, pricing, limits, NOW)
            answers[n] = "ordered"
        except OutOfStock as e:
            answers[n] = e.code

    threads = [threading.Thread(target=buy, args=(n,)) for n in range(BUYERS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(answers.values()) == ["ordered"] + ["out_of_stock"] * (BUYERS - 1)
    (winner,) = [n for n, a in answers.items() if a == "ordered"]
    assert [a["reference"] for a in bank.accounts.values()] == [f"o-{winner:02}"]
    with SqlUnitOfWork(engine, read_only=True) as uow:
        assert [u.id for u in uow.inventory.of_order(f"o-{winner:02}")] == [unit]
        o = uow.orders.get(f"o-{winner:02}")
        assert o is not None and o.virtual_account_number is not None
        assert all(uow.orders.get(f"o-{n:02}") is None for n in range(BUYERS) if n != winner)


def test_bad_deposits_are_each_returned_once_and_the_order_says_why(engine):
    """Over the fake bank (the HTTP simulator's /sim/returns is not yet wired here):
    another name, a short deposit and a late one, and a second after the kept one."""
    seed(engine)
    bank = FakeVirtualAccounts(clock=FakeClock(NOW))
    va = bank.issue("o-01", 9_500, "giftcash", NOW + timedelta(hours=1))
    with SqlUnitOfWork(engine) as uow:
        uow.orders.add(order(1), NOW)
        uow.orders.set_virtual_account("o-01", va.account_number, va.account_number, NOW)
        uow.commit()
    script = [
        (9_500, "김철수"),
        (9_000, "홍길동"),
        (9_500, "홍길동"),
        (9_500, "홍길동"),
    ]
    for amount, payer in script:
        bank.pay(va.account_number, amount, payer)
    bank.clock.advance(2 * 3600)
    bank.pay(va.account_number, 9_500, "홍길동")  # after the deadline
    uows = lambda: SqlUnitOfWork(engine)  # noqa: E731
    for incoming in bank.deposits(va.account_number):
        with uows() as uow:
            take_deposit(uow, "o-01", "홍길동", incoming, NOW)
            uow.commit()
    for _ in range(2):  # a second pass sends nothing again
        send_returns(uows, bank, NOW)
    with SqlUnitOfWork(engine, read_only=True) as uow:
        assert uow.orders.get("o-01").status == "paid"
        reasons = [(d.status, d.return_reason) for d in uow.orders.deposits("o-01")]
    assert sorted(reasons, key=str) == sorted(
        [
            ("returned", "other_name"),
            ("returned", "wrong_amount"),
            ("matched", None),
            ("returned", "second_deposit"),
            ("returned", "late"),
        ],
        key=str,
    )
    assert sorted(r.outcome for r in bank.returns.values()) == ["returned"] * 4
    assert bank.returned_twice() == 0
    with engine.connect() as conn:
        assert ledger_check.check(conn) == []
