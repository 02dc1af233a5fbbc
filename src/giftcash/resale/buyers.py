"""Who a buyer is to the bank: the verified name (본인인증) a deposit's payer name must match.

A customer without a verified identity has no name a payer could match, so every deposit
to their order is returned (resale/deposits.py judges the payer's name against this), and
such a customer cannot order at all (``identity_required``).

And how much one buyer may order: the rule params ``buyer_max_value_per_day`` and
``buyer_max_value_per_month`` (settings ``GIFTCASH_BUYER_MAX_DAY_WON`` / ``_MONTH_WON``,
the operator's overrides over them)."""

from __future__ import annotations

from giftcash.catalogue.live import current_rules
from giftcash.domain.resale import BuyerLimits
from giftcash.identity.verification import verified_name
from giftcash.resale.worker import BuyerName
from giftcash.service.deps import Deps
from giftcash.service.ports.uow import UnitOfWork


def buyer_name(deps: Deps) -> BuyerName:
    def name(uow: UnitOfWork, customer_id: str) -> str:
        known = verified_name(uow, deps, customer_id)
        return known[0] if known is not None else ""

    return name


def buyer_limits(deps: Deps) -> BuyerLimits:
    """The buyer limits in force now (the deployment's, under the operator's overrides)."""
    p = current_rules(deps).params
    return BuyerLimits(p.buyer_max_value_per_day, p.buyer_max_value_per_month)
