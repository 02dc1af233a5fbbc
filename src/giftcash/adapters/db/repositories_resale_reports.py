"""The console's view of resale: the port ``ResaleReportsRepo``. Aggregates in SQL (the
expiry buckets are bounds computed in Python and passed as parameters, so one statement
serves SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, case, func, select

from giftcash.adapters.db import tables as t
from giftcash.domain.ledger import RECEIVABLE_PREFIX
from giftcash.domain.states import ClaimStatus, DepositStatus, OrderStatus, UnitStatus
from giftcash.service.ports.records import (
    BrandMargin,
    Claim,
    ClaimTally,
    OrderDeposit,
    OrderTally,
    ReviewClaim,
    SellerDebt,
    StockLine,
)

_HELD = (UnitStatus.STOCKED.value, UnitStatus.RESERVED.value)
_NOT_KEPT = (DepositStatus.RETURNING.value, DepositStatus.RETURNED.value)
_DEPOSIT = tuple(OrderDeposit.__dataclass_fields__)
_CLAIM = tuple(Claim.__dataclass_fields__)


class ResaleReports:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def stock(self, now: datetime) -> list[StockLine]:
        c = t.inventory_units.c

        def before(days: int) -> object:
            return func.sum(case((c.expires_at < now + timedelta(days=days), 1), else_=0))

        rows = self.conn.execute(
            select(
                c.brand_id,
                c.face_value,
                c.status,
                func.count().label("units"),
                func.sum(c.cost).label("cost"),
                before(30).label("expiring_30"),
                before(90).label("expiring_90"),
                func.sum(case((c.expires_at.is_(None), 1), else_=0)).label("no_expiry"),
                func.min(c.created_at).label("oldest"),
            )
            .where(c.status.in_(_HELD))
            .group_by(c.brand_id, c.face_value, c.status)
            .order_by(c.brand_id, c.face_value, c.status)
        ).all()
        return [
            StockLine(
                brand_id=r.brand_id,
                face_value=int(r.face_value),
                status=r.status,
                units=int(r.units),
                cost=int(r.cost),
                expiring_30=int(r.expiring_30),
                expiring_90=int(r.expiring_90),
                no_expiry=int(r.no_expiry),
                oldest=r.oldest,
            )
            for r in rows
        ]

    def order_tallies(self) -> list[OrderTally]:
        c = t.orders.c
        rows = self.conn.execute(
            select(c.status, func.count().label("n"), func.sum(c.amount).label("amount"))
            .group_by(c.status)
            .order_by(c.status)
        ).all()
        return [OrderTally(r.status, int(r.n), int(r.amount)) for r in rows]

    def not_kept(self, limit: int) -> list[OrderDeposit]:
        c = t.order_deposits.c
        rows = self.conn.execute(
            select(*(getattr(c, f) for f in _DEPOSIT))
            .where(c.status.in_(_NOT_KEPT))
            .order_by(c.created_at.desc(), c.id)
            .limit(limit)
        ).all()
        return [OrderDeposit(**r._mapping) for r in rows]

    def margins(self) -> list[BrandMargin]:
        o, u = t.orders.c, t.inventory_units.c
        delivered = o.status == OrderStatus.DELIVERED.value
        sales = self.conn.execute(
            select(o.brand_id, func.count().label("n"), func.sum(o.amount).label("revenue"))
            .where(delivered)
            .group_by(o.brand_id)
        ).all()
        costs = {
            r.brand_id: (int(r.units), int(r.cost))
            for r in self.conn.execute(
                select(
                    o.brand_id,
                    func.count(u.id).label("units"),
                    func.sum(u.cost).label("cost"),
                )
                .join(t.inventory_units, u.order_id == o.id)
                .where(delivered, u.status != UnitStatus.WITHDRAWN.value)
                .group_by(o.brand_id)
            )
        }
        margins = []
        for r in sorted(sales, key=lambda r: r.brand_id):
            units, cost = costs.get(r.brand_id, (0, 0))
            margins.append(BrandMargin(r.brand_id, int(r.n), units, int(r.revenue), cost))
        return margins

    def claim_tallies(self) -> list[ClaimTally]:
        c = t.claims.c
        rows = self.conn.execute(
            select(c.status, func.count().label("n"), func.sum(c.amount).label("amount"))
            .group_by(c.status)
            .order_by(c.status)
        ).all()
        return [ClaimTally(r.status, int(r.n), int(r.amount)) for r in rows]

    def claims_in_review(self, limit: int) -> list[ReviewClaim]:
        c, u = t.claims.c, t.inventory_units.c
        rows = self.conn.execute(
            select(*(getattr(c, f) for f in _CLAIM), u.brand_id, u.face_value)
            .join(t.inventory_units, u.id == c.unit_id)
            .where(c.status == ClaimStatus.REVIEW.value)
            .order_by(c.created_at, c.id)
            .limit(limit)
        ).all()
        return [
            ReviewClaim(Claim(**{f: r._mapping[f] for f in _CLAIM}), r.brand_id, int(r.face_value))
            for r in rows
        ]

    def debts(self, limit: int) -> list[SellerDebt]:
        a = t.ledger_accounts.c
        rows = self.conn.execute(
            select(a.path, a.currency, a.balance, a.created_at)
            .where(a.path.startswith(RECEIVABLE_PREFIX, autoescape=True), a.balance > 0)
            .order_by(a.balance.desc(), a.path)
            .limit(limit)
        ).all()
        return [
            SellerDebt(
                r.path.removeprefix(RECEIVABLE_PREFIX), r.currency, int(r.balance), r.created_at
            )
            for r in rows
        ]
