"""Reading a customer's payouts."""

from __future__ import annotations

from giftcash.domain.records import Payout
from giftcash.service import errors
from giftcash.service.deps import Deps


def list_payouts(deps: Deps, customer_id: str, *, cursor: str | None, limit: int) -> list[Payout]:
    with deps.reader() as uow:
        return uow.payouts.for_customer(customer_id, cursor, limit)


def get_payout(deps: Deps, customer_id: str, payout_id: str) -> tuple[Payout, list[str]]:
    with deps.reader() as uow:
        p = uow.payouts.get(payout_id)
        if p is None or p.customer_id != customer_id:
            raise errors.PayoutNotFound("no such payout")
        return p, uow.items.ids_for_payout(payout_id)
