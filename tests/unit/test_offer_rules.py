"""Offers (resale/offers.py): stocked units by brand, face value and band price with
counts; none too close to expiry, none of a brand that is not resold, none reserved."""

from __future__ import annotations

from datetime import timedelta

from fakes import FakeClock
from fakes_uow import FakeDatabase, FakeUnitOfWork
from giftcash.domain.resale import ExpiryBand, ResalePricing
from giftcash.resale.offers import Offer, list_offers
from giftcash.service.ports.records import InventoryUnit

NOW = FakeClock().at
PRICING = ResalePricing(7, (ExpiryBand(0, 1500), ExpiryBand(30, 500)))


def unit(n, brand, face, days, status="stocked"):
    return InventoryUnit(
        f"u-{n}", f"i-{n}", brand, "KRW", face, face * 9 // 10,
        NOW + timedelta(days=days, hours=1), status, NOW,
    )  # fmt: skip


def test_offers_group_units_by_brand_face_value_and_price():
    db = FakeDatabase()
    units = [
        unit(1, "kyobo_gift", 10_000, 100),
        unit(2, "kyobo_gift", 10_000, 200),
        unit(3, "kyobo_gift", 10_000, 10),
        unit(4, "kyobo_gift", 10_000, 3),  # too close to expiry
        unit(5, "kyobo_gift", 50_000, 100, status="reserved"),
        unit(6, "not_resold", 10_000, 100),
    ]
    db.inventory = {u.item_id: u for u in units}
    pricing_for = {"kyobo_gift": PRICING}.get
    with FakeUnitOfWork(db) as uow:
        offers = list_offers(uow, pricing_for, NOW)
    # each with its band's discount and the latest expiry among its units
    assert offers == [
        Offer("kyobo_gift", "KRW", 10_000, 9_500, 2, 500, NOW + timedelta(days=200, hours=1)),
        Offer("kyobo_gift", "KRW", 10_000, 8_500, 1, 1500, NOW + timedelta(days=10, hours=1)),
    ]
