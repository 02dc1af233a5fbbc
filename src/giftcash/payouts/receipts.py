"""A payout's receipt for people (the web pages): the payout, the account it went to and
the items it carried."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from giftcash.domain.advisor import KST
from giftcash.domain.records import BankAccount, Item, Payout
from giftcash.service import errors
from giftcash.service.deps import Deps


@dataclass(frozen=True, slots=True)
class Receipt:
    payout: Payout
    account: BankAccount | None
    items: list[Item]


def receipt(deps: Deps, customer_id: str, payout_id: str) -> Receipt:
    with deps.reader() as uow:
        p = uow.payouts.get(payout_id)
        if p is None or p.customer_id != customer_id:
            raise errors.PayoutNotFound("no such payout")
        items = [uow.items.get(i) for i in uow.items.ids_for_payout(payout_id)]
        account = uow.bank_accounts.get(p.bank_account_id)
    return Receipt(p, account, [it for it in items if it is not None])


def receipt_number(payout_id: str, created_at: datetime) -> str:
    """A number a person can read out on the phone: the day (Korean time) and the last six
    characters of the id, which are random in a UUID (the full id stays on the receipt)."""
    day = created_at.astimezone(KST).strftime("%Y%m%d")
    return f"GC-{day}-{payout_id.replace('-', '')[-6:].upper()}"
