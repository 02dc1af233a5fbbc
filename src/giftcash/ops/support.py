"""One item as support looks at it (``items show``): the item (masked code only), its
events, its payout and the ledger transfers of both. Changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from giftcash.payouts.operations import public_payout
from giftcash.service import errors
from giftcash.service.deps import Deps
from giftcash.service.ports.records import RowView


class ItemNotFound(errors.NotFound):
    code = "item_not_found"


@dataclass(frozen=True)
class ItemView:
    item: RowView  # masked code only
    events: list[RowView]
    payout: dict[str, Any] | None
    transfers: list[RowView]


def show_item(deps: Deps, item_id: str) -> ItemView:
    with deps.reader() as uow:
        item = uow.support.item(item_id)
        if item is None:
            raise ItemNotFound("no such item")
        payout = uow.support.payout(item["payout_id"]) if item["payout_id"] else None
        refs = [item_id] + ([payout["id"]] if payout else [])
        return ItemView(
            item=item,
            events=uow.support.item_events(item_id),
            payout=public_payout(payout) if payout else None,
            transfers=uow.support.transfers_for(refs),
        )
