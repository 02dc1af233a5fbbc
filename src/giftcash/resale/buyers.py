"""Who a buyer is to the bank: the verified name (본인인증) a deposit's payer name must match.

A customer without a verified identity has no name a payer could match, so every deposit
to their order is returned (resale/deposits.py judges the payer's name against this)."""

from __future__ import annotations

from giftcash.identity.verification import verified_name
from giftcash.resale.worker import BuyerName
from giftcash.service.deps import Deps
from giftcash.service.ports.uow import UnitOfWork


def buyer_name(deps: Deps) -> BuyerName:
    def name(uow: UnitOfWork, customer_id: str) -> str:
        known = verified_name(uow, deps, customer_id)
        return known[0] if known is not None else ""

    return name
