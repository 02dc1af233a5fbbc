"""Placing a buyer's order (issue 15 item 2): the units are reserved from stock and the
order written in one unit of work, then the bank is asked for the order's virtual account
(a foreign call, outside any transaction, under the order id as its reference so that
asking again answers the same account), then the account is written on the order.

A unit is never reserved by two orders: each reservation is a conditional move from
``stocked`` (InventoryRepo.apply); when fewer units move than ordered, the whole order is
refused and its transaction rolled back, so nothing is held and nothing charged."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from giftcash.domain.errors import BuyerLimitExceeded, NotForSale, OutOfStock
from giftcash.domain.resale import (
    BuyerLimits,
    ResalePricing,
    days_left,
    limit_refusal,
    offer_price_won,
)
from giftcash.domain.states import OrderStatus, UnitStatus, transition
from giftcash.service.ports.records import InventoryUnit, Order
from giftcash.service.ports.uow import UnitOfWork
from giftcash.service.ports.virtual_accounts import VirtualAccountPort

PAYMENT_WINDOW = timedelta(hours=1)
CANDIDATES = 20  # units looked at beyond those ordered, for the ones others take first


@dataclass(frozen=True, slots=True)
class OrderRequest:
    order_id: str  # made by the caller (the idempotent command's answer names it)
    customer_id: str
    brand_id: str
    face_value: int
    quantity: int


def _price(pricing: ResalePricing, units: list[InventoryUnit], now: datetime) -> dict[str, int]:
    prices: dict[str, int] = {}
    for u in units:
        if u.expires_at is None:
            continue  # an expiry the issuer did not report prices no band: not sold
        price = offer_price_won(pricing, u.face_value, days_left(u.expires_at, now))
        if price is not None:
            prices[u.id] = price
    return prices


def reserve(
    uow: UnitOfWork,
    req: OrderRequest,
    pricing: ResalePricing | None,
    limits: BuyerLimits,
    now: datetime,
) -> Order:
    """Phase one, in the caller's unit of work: write the order and reserve its units.
    Raises OutOfStock, NotForSale or BuyerLimitExceeded (the caller rolls back)."""
    assert req.quantity > 0
    if pricing is None:
        raise NotForSale("this brand is not sold", brand_id=req.brand_id)
    candidates = uow.inventory.stocked(req.brand_id, req.face_value, req.quantity + CANDIDATES)
    prices = _price(pricing, candidates, now)
    if not prices:
        raise OutOfStock("none in stock", brand_id=req.brand_id, face_value=req.face_value)
    # the price a buyer is quoted is the dearest unit's (the one longest before expiry)
    unit_price = max(prices.values())
    amount = unit_price * req.quantity
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    refusal = limit_refusal(
        limits,
        uow.orders.ordered_won_since(req.customer_id, day),
        uow.orders.ordered_won_since(req.customer_id, month),
        amount,
    )
    if refusal is not None:
        raise BuyerLimitExceeded("over the buyer's limit", code=refusal.value)
    order = Order(
        id=req.order_id,
        customer_id=req.customer_id,
        brand_id=req.brand_id,
        currency="KRW",
        face_value=req.face_value,
        quantity=req.quantity,
        amount=amount,
        status=OrderStatus.AWAITING_PAYMENT.value,
        deadline=now + PAYMENT_WINDOW,
        virtual_account_key=f"va-{req.order_id}",
        virtual_account_id=None,
        virtual_account_number=None,
        created_at=now,
    )
    uow.orders.add(order, now)
    reserved: list[str] = []
    for u in candidates:
        if len(reserved) == req.quantity:
            break
        if prices.get(u.id) != unit_price:
            continue  # a nearer-expiry unit is cheaper: the order's price is one price
        event = transition(u.id, UnitStatus.STOCKED, UnitStatus.RESERVED)
        reserved += uow.inventory.apply([event], order.id, now)
    if len(reserved) < req.quantity:
        raise OutOfStock("not enough in stock", brand_id=req.brand_id, face_value=req.face_value)
    return order


def place_order(
    uow_factory: Callable[[], UnitOfWork],
    port: VirtualAccountPort,
    req: OrderRequest,
    pricing: ResalePricing | None,
    limits: BuyerLimits,
    now: datetime,
) -> Order:
    """Reserve (one transaction), then ask for the virtual account, then record it. An
    ``Ambiguous`` or ``Unavailable`` answer is raised with the order reserved and no
    account: asking again with the same order id finds the same account; an order that
    never gets one expires at its deadline like any unpaid order."""
    with uow_factory() as uow:
        order = reserve(uow, req, pricing, limits, now)
        uow.commit()
    account = port.issue(order.id, order.amount, "giftcash", order.deadline)
    with uow_factory() as uow:
        uow.orders.set_virtual_account(
            order.id, account.account_number, account.account_number, now
        )
        uow.commit()
        stored = uow.orders.get(order.id)
    assert stored is not None
    return stored
