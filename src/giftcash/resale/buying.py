"""The buyer's commands and reads behind the v1 API (issue 15): what is on offer, placing
an order (reserve, then the bank's virtual account), a buyer's own orders, and the bank's
deposit notification.

Placing an order calls the bank, so its idempotent command is phased
(``service/idempotency``): the key is stored first, and the work is safe to run again.
The order's id is made from the buyer and the key, so a run again after the bank did not
answer (the order reserved without an account, ``virtual_account_pending``) finds the
same order and asks the bank again under the same reference, which answers the same
account: one order, one account, whatever the retries."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from giftcash.catalogue import live as catalogue
from giftcash.domain.brands import Brand
from giftcash.domain.errors import DomainError
from giftcash.domain.resale import ResalePricing
from giftcash.domain.states import OrderStatus
from giftcash.identity.verification import verified_name
from giftcash.resale import notifications
from giftcash.resale.buyers import buyer_limits, buyer_name
from giftcash.resale.deposits import DepositOutcome
from giftcash.resale.offers import Offer, list_offers
from giftcash.resale.orders import OrderRequest, reserve
from giftcash.service.deps import Deps
from giftcash.service.errors import IdempotencyKeyReused
from giftcash.service.ports import Ambiguous, Unavailable
from giftcash.service.ports.records import Claim, InventoryUnit, Order, OrderDeposit
from giftcash.service.ports.virtual_accounts import VirtualAccountPort

HOLDER_NAME = "giftcash"  # the name the bank shows on an order's virtual account


class IdentityRequired(DomainError):
    """Only a customer whose identity is verified (본인인증) may buy: a deposit is kept
    only from a payer of the buyer's verified name."""

    code = "identity_required"
    kind = "forbidden"


class ResaleUnavailable(DomainError):
    """No virtual accounts are configured (``GIFTCASH_BANK_NOTIFICATION_SECRET`` unset):
    nothing can be paid for, so nothing is ordered."""

    code = "resale_unavailable"
    kind = "unavailable"


class VirtualAccountPending(DomainError):
    """The bank did not issue the order's virtual account (down or its answer lost): the
    order is reserved; send the same request with the same Idempotency-Key again."""

    code = "virtual_account_pending"
    kind = "unavailable"


class OrderNotFound(DomainError):
    code = "order_not_found"
    kind = "not_found"


class OrderExpired(DomainError):
    """A retry of an order that expired before the bank issued its account."""

    code = "order_expired"
    kind = "conflict"


class IdempotencyKeyRequired(DomainError):
    code = "idempotency_key_required"


# -- offers ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OfferView:
    offer: Offer
    brand_name: str


def _on_sale(deps: Deps) -> dict[str, Brand]:
    """The brands sold now: resell brands that are on (and their issuer on), priced."""
    return {
        k: b
        for k, b in catalogue.current_brands(deps).items()
        if b.enabled and b.resale_pricing is not None
    }


def pricing_lookup(deps: Deps) -> Callable[[str], ResalePricing | None]:
    """The operator's prices now, by brand id: None for a brand not on sale."""
    brands = _on_sale(deps)

    def pricing_for(brand_id: str) -> ResalePricing | None:
        b = brands.get(brand_id)
        return None if b is None else b.resale_pricing

    return pricing_for


def offers(deps: Deps) -> list[OfferView]:
    brands = _on_sale(deps)
    with deps.reader() as uow:
        found = list_offers(uow, pricing_lookup(deps), deps.clock.now())
    return [OfferView(o, brands[o.brand_id].name) for o in found]


def offer_for(deps: Deps, brand_id: str, face_value: int) -> OfferView | None:
    """The offer an order of this brand and face value is priced at: the dearest on offer
    (its units the longest before expiry), as ``reserve`` prices an order."""
    found = (
        v for v in offers(deps) if (v.offer.brand_id, v.offer.face_value) == (brand_id, face_value)
    )
    return next(found, None)


def identity_verified(deps: Deps, customer_id: str) -> bool:
    """Whether the customer may buy at all (``IdentityRequired`` otherwise)."""
    with deps.reader() as uow:
        return verified_name(uow, deps, customer_id) is not None


# -- orders ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderView:
    order: Order
    deposits: list[OrderDeposit]
    units: list[InventoryUnit]
    claims: list[Claim] = field(default_factory=list)

    @property
    def bank_code(self) -> str | None:
        """The bank of the virtual account (its id is ``<bank code>:<number>``)."""
        acct = self.order.virtual_account_id
        return acct.partition(":")[0] if acct and ":" in acct else None


def order_id_for(customer_id: str, key: str) -> str:
    digest = hashlib.sha256(f"{customer_id}\n{key}".encode()).hexdigest()
    return f"ord_{digest[:26]}"


def _port(deps: Deps) -> VirtualAccountPort:
    if deps.virtual_accounts is None:
        raise ResaleUnavailable("buying is not available now: no bank for virtual accounts")
    return deps.virtual_accounts


def place(
    deps: Deps, customer_id: str, key: str, brand_id: str, face_value: int, quantity: int
) -> OrderView:
    """Reserve the units and write the order (one transaction), then ask the bank for the
    order's virtual account and record it. A run again with the same key resumes the
    order it made."""
    port = _port(deps)
    now = deps.clock.now()
    req = OrderRequest(order_id_for(customer_id, key), customer_id, brand_id, face_value, quantity)
    # The prices and limits are read before the order's unit of work: they open their own
    # connection, and a command holding one while waiting for a second exhausts the pool
    # when many buyers order at once (fifty threads: the pool's timeout, not an answer).
    brand = _on_sale(deps).get(brand_id)
    pricing = None if brand is None else brand.resale_pricing
    limits = buyer_limits(deps)
    with deps.uow() as uow:
        if verified_name(uow, deps, customer_id) is None:
            raise IdentityRequired("a verified identity (본인인증) is needed to buy")
        order = uow.orders.get(req.order_id)
        if order is None:
            order = reserve(uow, req, pricing, limits, now)
            uow.commit()
        elif (order.brand_id, order.face_value, order.quantity) != (
            brand_id,
            face_value,
            quantity,
        ):
            raise IdempotencyKeyReused("this idempotency key was used with a different request")
    if order.virtual_account_number is None:
        order = _issue_account(deps, port, order, now)
    return get_order(deps, customer_id, order.id)


def _issue_account(deps: Deps, port: VirtualAccountPort, order: Order, now: datetime) -> Order:
    if order.status != OrderStatus.AWAITING_PAYMENT.value or order.deadline <= now:
        raise OrderExpired("the order expired before its account was issued; order again")
    try:
        account = port.issue(order.id, order.amount, HOLDER_NAME, order.deadline)
    except (Ambiguous, Unavailable) as e:
        raise VirtualAccountPending(
            "the order is reserved but the bank has not issued its account yet: send the"
            " same request with the same Idempotency-Key again"
        ) from e
    with deps.uow() as uow:
        uow.orders.set_virtual_account(
            order.id, f"{account.bank_code}:{account.account_number}", account.account_number, now
        )
        uow.commit()
        stored = uow.orders.get(order.id)
    assert stored is not None
    return stored


def get_order(deps: Deps, customer_id: str, order_id: str) -> OrderView:
    """The buyer's own order; another's answers as one that does not exist."""
    with deps.reader() as uow:
        order = uow.orders.get(order_id[:64])
        if order is None or order.customer_id != customer_id:
            raise OrderNotFound("no such order")
        return OrderView(
            order,
            uow.orders.deposits(order.id),
            uow.inventory.of_order(order.id),
            uow.claims.of_order(order.id),
        )


def list_orders(deps: Deps, customer_id: str, *, cursor: str | None, limit: int) -> list[OrderView]:
    with deps.reader() as uow:
        found = uow.orders.of_customer(customer_id, limit, after=cursor)
        return [
            OrderView(
                o,
                uow.orders.deposits(o.id),
                uow.inventory.of_order(o.id),
                uow.claims.of_order(o.id),
            )
            for o in found
        ]


# -- the bank's notification ----------------------------------------------------------------


def take_notification(deps: Deps, headers: dict[str, str], body: bytes) -> DepositOutcome:
    """A deposit notification, verified by its signature (``invalid_notification``),
    recorded and judged once (a repeat changes nothing)."""
    port = _port(deps)
    return notifications.take_notification(
        deps.uow, port, headers, body, buyer_name(deps), deps.clock.now()
    )
