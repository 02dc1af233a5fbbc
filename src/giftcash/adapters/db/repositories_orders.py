"""Buyers' orders and the deposits to their virtual accounts (resale): the port
``OrdersRepo``."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import Connection, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from giftcash.adapters.db import tables as t
from giftcash.domain.states import DepositStatus, Moved, OrderStatus
from giftcash.service.ports.records import Order, OrderDeposit

_ORDER = tuple(Order.__dataclass_fields__)
# Orders done with their virtual account: it is closed at the bank, then asked once more
# for deposits (one whose notification was lost is taken and returned, not kept unseen).
CLOSING = (OrderStatus.EXPIRED.value, OrderStatus.DELIVERED.value, OrderStatus.REFUNDED.value)
_DEPOSIT = tuple(OrderDeposit.__dataclass_fields__)


class Orders:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, order: Order, now: datetime) -> None:
        self.conn.execute(insert(t.orders).values(**asdict(order), updated_at=now))

    def get(self, order_id: str) -> Order | None:
        c = t.orders.c
        row = self.conn.execute(
            select(*(getattr(c, f) for f in _ORDER)).where(c.id == order_id)
        ).first()
        return Order(**row._mapping) if row else None

    def set_virtual_account(
        self, order_id: str, account_id: str, account_number: str, now: datetime
    ) -> None:
        c = t.orders.c
        self.conn.execute(
            update(t.orders)
            .where(c.id == order_id)
            .values(
                virtual_account_id=account_id,
                virtual_account_number=account_number,
                updated_at=now,
            )
        )

    def apply(self, event: Moved[OrderStatus], now: datetime) -> bool:
        c = t.orders.c
        values: dict[str, object] = {"status": event.target.value, "updated_at": now}
        if event.target is OrderStatus.DELIVERED:
            values["delivered_at"] = now
        result = self.conn.execute(
            update(t.orders)
            .where(c.id == event.id, c.status == event.source.value)
            .values(**values)
        )
        return result.rowcount == 1

    def ordered_won_since(self, customer_id: str, since: datetime) -> int:
        c = t.orders.c
        total = self.conn.execute(
            select(func.coalesce(func.sum(c.amount), 0)).where(
                c.customer_id == customer_id,
                c.created_at >= since,
                c.status != OrderStatus.EXPIRED.value,
            )
        ).scalar_one()
        return int(total)

    def awaiting_payment(self, limit: int) -> list[Order]:
        c = t.orders.c
        rows = self.conn.execute(
            select(*(getattr(c, f) for f in _ORDER))
            .where(c.status == OrderStatus.AWAITING_PAYMENT.value)
            .order_by(c.deadline, c.id)
            .limit(limit)
        )
        return [Order(**r._mapping) for r in rows]

    def of_customer(self, customer_id: str, limit: int, after: str | None = None) -> list[Order]:
        c = t.orders.c
        query = select(*(getattr(c, f) for f in _ORDER)).where(c.customer_id == customer_id)
        if after is not None:
            mark = self.conn.execute(
                select(c.created_at).where(c.id == after, c.customer_id == customer_id)
            ).scalar_one_or_none()
            if mark is None:
                return []
            query = query.where(or_(c.created_at < mark, and_(c.created_at == mark, c.id < after)))
        rows = self.conn.execute(query.order_by(c.created_at.desc(), c.id.desc()).limit(limit))
        return [Order(**r._mapping) for r in rows]

    def accounts_to_close(self, limit: int) -> list[Order]:
        c = t.orders.c
        rows = self.conn.execute(
            select(*(getattr(c, f) for f in _ORDER))
            .where(
                c.status.in_(CLOSING),
                c.virtual_account_number.is_not(None),
                c.account_closed_at.is_(None),
            )
            .order_by(c.deadline, c.id)
            .limit(limit)
        )
        return [Order(**r._mapping) for r in rows]

    def mark_account_closed(self, order_id: str, now: datetime) -> bool:
        c = t.orders.c
        result = self.conn.execute(
            update(t.orders)
            .where(c.id == order_id, c.account_closed_at.is_(None))
            .values(account_closed_at=now, updated_at=now)
        )
        return result.rowcount == 1

    def add_deposit(self, deposit: OrderDeposit, now: datetime) -> bool:
        # a savepoint, so a repeated notification leaves the caller's transaction usable
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    insert(t.order_deposits).values(**asdict(deposit), updated_at=now)
                )
        except IntegrityError:
            c = t.order_deposits.c
            found = self.conn.execute(
                select(c.id).where(c.bank_deposit_id == deposit.bank_deposit_id)
            ).first()
            if found is None:
                raise
            return False
        return True

    def deposits(self, order_id: str) -> list[OrderDeposit]:
        c = t.order_deposits.c
        rows = self.conn.execute(
            select(*(getattr(c, f) for f in _DEPOSIT))
            .where(c.order_id == order_id)
            .order_by(c.created_at, c.id)
        )
        return [OrderDeposit(**r._mapping) for r in rows]

    def apply_deposit(
        self,
        event: Moved[DepositStatus],
        now: datetime,
        return_reason: str | None = None,
        return_key: str | None = None,
    ) -> bool:
        c = t.order_deposits.c
        values: dict[str, object] = {"status": event.target.value, "updated_at": now}
        if return_reason is not None:
            values["return_reason"] = return_reason
        if return_key is not None:
            values["return_key"] = return_key
        result = self.conn.execute(
            update(t.order_deposits)
            .where(c.id == event.id, c.status == event.source.value)
            .values(**values)
        )
        return result.rowcount == 1

    def returning(self, limit: int) -> list[OrderDeposit]:
        c = t.order_deposits.c
        rows = self.conn.execute(
            select(*(getattr(c, f) for f in _DEPOSIT))
            .where(c.status == DepositStatus.RETURNING.value)
            .order_by(c.created_at, c.id)
            .limit(limit)
        )
        return [OrderDeposit(**r._mapping) for r in rows]

    def mark_revealed(self, order_id: str, now: datetime) -> bool:
        c = t.orders.c
        result = self.conn.execute(
            update(t.orders)
            .where(c.id == order_id, c.codes_revealed_at.is_(None))
            .values(codes_revealed_at=now, updated_at=now)
        )
        return result.rowcount == 1

    def paid(self, limit: int) -> list[Order]:
        c = t.orders.c
        rows = self.conn.execute(
            select(*(getattr(c, f) for f in _ORDER))
            .where(c.status == OrderStatus.PAID.value)
            .order_by(c.created_at, c.id)
            .limit(limit)
        )
        return [Order(**r._mapping) for r in rows]
