"""Reading payouts: a customer's own (``list_payouts``, ``get_payout``), and all of them
for the operators (``all_payouts``, ``payout_detail``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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


# -- all payouts (the operators) -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PayoutDetail:
    payout: Payout
    item_ids: list[str]
    failure_code: str | None


_PAYOUT_FIELDS = (
    "id",
    "customer_id",
    "bank_account_id",
    "currency",
    "amount",
    "status",
    "bank_tran_id",
    "attempts",
    "created_at",
    "sent_at",
    "confirmed_at",
    "failure_code",
    "bank_closed_until",
)


def _payout(row: Mapping[str, Any]) -> Payout:
    return Payout(**{k: row[k] for k in _PAYOUT_FIELDS})


PAYOUT_STATUSES = (
    "pending",
    "sending",
    "sent",
    "unknown",
    "confirmed",
    "returned",
    "rejected",
    "held",  # frozen by a payment stop (stops/)
    "cancelled",
)


def all_payouts(deps: Deps, *, status: str | None, cursor: str | None, limit: int) -> list[Payout]:
    if status is not None and status not in PAYOUT_STATUSES:
        raise errors.InvalidInput(f"status is one of {', '.join(PAYOUT_STATUSES)}", field="status")
    with deps.reader() as uow:
        return [_payout(r) for r in uow.admin_payouts.page(status, cursor, limit)]


def payout_detail(deps: Deps, payout_id: str) -> PayoutDetail:
    with deps.reader() as uow:
        row = uow.admin_payouts.get(payout_id)
        if row is None:
            raise errors.PayoutNotFound("no such payout")
        return PayoutDetail(_payout(row), uow.items.ids_for_payout(payout_id), row["failure_code"])


# -- payouts with their customer and account -------------------------------------------------


@dataclass(frozen=True)
class PayoutRow:
    id: str
    customer_id: str
    customer_name: str
    bank_code: str
    account_number_masked: str
    amount: int
    currency: str
    status: str
    transfer_attempts: int  # claims to send: what the bank could have seen, not rechecks
    created_at: datetime
    sent_at: datetime | None
    confirmed_at: datetime | None
    failure_code: str | None


def payout_rows(
    deps: Deps, *, status: str | None, cursor: str | None, limit: int
) -> list[PayoutRow]:
    if status is not None and status not in PAYOUT_STATUSES:
        raise errors.InvalidInput("no such payout state", field="status")
    with deps.reader() as uow:
        rows = uow.console_search.payouts(status, cursor, limit)
    return [PayoutRow(**r) for r in rows]


def transfer_attempts(deps: Deps, payout_id: str) -> int:
    """How many times the payout was handed to the bank (rechecks of a sent one are not)."""
    with deps.reader() as uow:
        return uow.console_search.transfer_attempts(payout_id)


def item_ids_of(deps: Deps, payout_ids: list[str]) -> dict[str, list[str]]:
    """Each payout's items, so a list answers what the detail answers (a page is at most
    100 payouts: one read each, in one transaction)."""
    with deps.reader() as uow:
        return {pid: uow.items.ids_for_payout(pid) for pid in payout_ids}
