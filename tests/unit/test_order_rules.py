"""Placing an order (resale/orders.py) over the in-memory unit of work and the fake
virtual accounts: the dearest band's price, the exact amount on the virtual account, the
buyer's limits, and a refusal that holds nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

import pytest

from fakes import FakeClock, FakeVirtualAccounts
from fakes_uow import FakeDatabase, FakeUnitOfWork
from giftcash.domain.errors import BuyerLimitExceeded, NotForSale, OutOfStock
from giftcash.domain.resale import BuyerLimits, ExpiryBand, ResalePricing
from giftcash.resale.orders import OrderRequest, place_order
from giftcash.service.ports.records import InventoryUnit
from giftcash.service.ports.uow import UnitOfWork

NOW = FakeClock().at
PRICING = ResalePricing(7, (ExpiryBand(0, 1500), ExpiryBand(30, 500)))
LIMITS = BuyerLimits(per_day_won=30_000, per_month_won=100_000)


def world(*days_left: int):
    db = FakeDatabase()
    for n, days in enumerate(days_left):
        db.inventory[f"i-{n}"] = InventoryUnit(
            f"u-{n}", f"i-{n}", "kyobo_gift", "KRW", 10_000, 9_000,
            NOW + timedelta(days=days, hours=1), "stocked", NOW,
        )  # fmt: skip
    return db, FakeVirtualAccounts(clock=FakeClock(NOW))


def order(db, bank, order_id="o-1", quantity=1, pricing=PRICING, customer="c-1"):
    req = OrderRequest(order_id, customer, "kyobo_gift", 10_000, quantity)
    uows = lambda: cast(UnitOfWork, FakeUnitOfWork(db))  # noqa: E731
    return place_order(uows, bank, req, pricing, LIMITS, NOW)


def test_an_order_reserves_a_unit_and_gets_an_account_for_the_exact_amount():
    db, bank = world(100, 10)
    o = order(db, bank)
    assert (o.status, o.amount, o.deadline) == ("awaiting_payment", 9_500, NOW + timedelta(hours=1))
    account = bank.accounts[o.virtual_account_number]
    assert (account["reference"], account["amount"]) == ("o-1", 9_500)
    assert db.inventory["i-0"].status == "reserved" and db.unit_orders == {"u-0": "o-1"}
    assert db.inventory["i-1"].status == "stocked"


def test_too_few_units_refuse_the_order_and_hold_nothing():
    db, bank = world(100)
    with pytest.raises(OutOfStock):
        order(db, bank, quantity=2)
    assert db.orders == {} and db.unit_orders == {} and bank.accounts == {}
    assert db.inventory["i-0"].status == "stocked"


def test_units_too_close_to_expiry_are_not_sold():
    db, bank = world(3)
    with pytest.raises(OutOfStock):
        order(db, bank)
    with pytest.raises(NotForSale):
        order(db, bank, pricing=None)


def test_the_daily_limit_refuses_the_order_over_it():
    db, bank = world(100, 100, 100, 100)
    order(db, bank, "o-1", quantity=3)  # 28,500
    with pytest.raises(BuyerLimitExceeded) as refused:
        order(db, bank, "o-2")
    assert refused.value.context["code"] == "buyer_daily_limit"
    assert order(db, bank, "o-3", customer="c-2").amount == 9_500  # another buyer's own limit
