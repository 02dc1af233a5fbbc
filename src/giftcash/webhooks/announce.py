"""The outbox: a webhook message for each state change a customer subscribed to, made from
the change's event and queued in the transaction that makes the change (so a message is
sent if and only if the change committed). The use case that moves an item or a payout
announces what its repository reports as moved; ``delivery`` sends the messages. The
customer's text notices of money events are queued here too, from the same events
(payouts/notices.py), whether or not any webhook endpoint is registered.

Standard Webhooks payloads: ``item.updated`` (id, submission_id, status,
previous_status, reason) and ``payout.updated`` (id, status, previous_status, amount,
currency, bank_account_id).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from giftcash.domain.states import ItemStatus, Moved, PayoutStatus
from giftcash.payouts import notices
from giftcash.service.ports.records import NewItem
from giftcash.service.ports.uow import UnitOfWork


def items_created(uow: UnitOfWork, items: Iterable[NewItem], now: datetime) -> None:
    """A submission's items as they were stored (received, or declined at intake)."""
    created = [(i.id, None, i.status, i.decline_code) for i in items]
    _items(uow, created, now)


def items_moved(uow: UnitOfWork, moved: Iterable[Moved[ItemStatus]], now: datetime) -> None:
    changes = [(e.id, e.source.value, e.target.value, e.reason) for e in moved]
    _items(uow, changes, now)


def _items(
    uow: UnitOfWork, changes: Sequence[tuple[str, str | None, str, str | None]], now: datetime
) -> None:
    notices.items_moved(uow, [(item_id, new) for item_id, _old, new, _reason in changes], now)
    if not changes or not uow.webhooks.any_endpoint():
        return
    owners = uow.items.owners([item_id for item_id, *_ in changes])
    uow.webhooks.enqueue(
        [
            (
                owners[item_id][0],
                "item.updated",
                {
                    "id": item_id,
                    "submission_id": owners[item_id][1],
                    "status": new,
                    "previous_status": old,
                    "reason": reason,
                },
            )
            for item_id, old, new, reason in changes
        ],
        now,
    )


def payouts_moved(uow: UnitOfWork, moved: Iterable[Moved[PayoutStatus]], now: datetime) -> None:
    events = list(moved)
    notices.payouts_moved(uow, events, now)
    if not events or not uow.webhooks.any_endpoint():
        return
    messages = []
    for e in events:
        p = uow.payouts.get(e.id)
        assert p is not None  # moved in this unit of work
        data = {
            "id": p.id,
            "status": e.target.value,
            "previous_status": e.source.value,
            "amount": p.amount,
            "currency": p.currency,
            "bank_account_id": p.bank_account_id,
        }
        messages.append((p.customer_id, "payout.updated", data))
    uow.webhooks.enqueue(messages, now)
