"""The bank's deposit notification (POST /v1/bank/notifications): authenticated by its
signature, not a token. A verified notice names our order (its reference) and one deposit,
taken as the inquiry would take it (resale/deposits.py): a repeat or a notice arriving
after the worker's inquiry already recorded the deposit changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from giftcash.domain.errors import DomainError
from giftcash.resale.deposits import DepositOutcome, take_deposit
from giftcash.resale.worker import BuyerName
from giftcash.service.ports.uow import UnitOfWork
from giftcash.service.ports.virtual_accounts import InvalidNotification, VirtualAccountPort


class NotificationRefused(DomainError):
    code = "invalid_notification"
    kind = "unauthorized"


class UnknownOrder(DomainError):
    code = "order_not_found"
    kind = "not_found"


def take_notification(
    uow_factory: Callable[[], UnitOfWork],
    port: VirtualAccountPort,
    headers: Mapping[str, str],
    body: bytes,
    buyer_name: BuyerName,
    now: datetime,
) -> DepositOutcome:
    try:
        notice = port.verify_notification(headers, body)
    except InvalidNotification as e:
        raise NotificationRefused("the notification's signature or time is not the bank's") from e
    with uow_factory() as uow:
        order = uow.orders.get(notice.reference)
        if order is None or order.virtual_account_number != notice.account_number:
            raise UnknownOrder("no order for this virtual account")
        outcome = take_deposit(
            uow, order.id, buyer_name(uow, order.customer_id), notice.deposit, now
        )
        uow.commit()
    return outcome
