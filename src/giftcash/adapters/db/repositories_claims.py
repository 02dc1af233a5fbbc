"""Buyers' claims on delivered units (resale/claims.py): the port ``ClaimsRepo``."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import Connection, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from giftcash.adapters.db import tables as t
from giftcash.domain.states import ClaimStatus, Moved, PayoutStatus
from giftcash.service.ports.records import Claim

_CLAIM = tuple(Claim.__dataclass_fields__)


class Claims:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, claim: Claim, now: datetime) -> bool:
        # a savepoint: a unit claimed by a racing request leaves the caller's transaction
        # usable to read the claim that won
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(t.claims).values(**asdict(claim), updated_at=now))
        except IntegrityError:
            if self.for_unit(claim.unit_id) is None:
                raise
            return False
        return True

    def for_unit(self, unit_id: str) -> Claim | None:
        c = t.claims.c
        row = self.conn.execute(
            select(*(getattr(c, f) for f in _CLAIM)).where(c.unit_id == unit_id)
        ).first()
        return Claim(**row._mapping) if row else None

    def of_order(self, order_id: str) -> list[Claim]:
        c = t.claims.c
        rows = self.conn.execute(
            select(*(getattr(c, f) for f in _CLAIM))
            .where(c.order_id == order_id)
            .order_by(c.created_at, c.id)
        )
        return [Claim(**r._mapping) for r in rows]

    def get(self, claim_id: str) -> Claim | None:
        c = t.claims.c
        row = self.conn.execute(
            select(*(getattr(c, f) for f in _CLAIM)).where(c.id == claim_id)
        ).first()
        return Claim(**row._mapping) if row else None

    def page(self, status: str | None, cursor: str | None, limit: int) -> list[Claim]:
        c = t.claims.c
        q = select(*(getattr(c, f) for f in _CLAIM)).order_by(c.id).limit(limit)
        if status is not None:
            q = q.where(c.status == status)
        if cursor is not None:
            q = q.where(c.id > cursor)
        return [Claim(**r._mapping) for r in self.conn.execute(q)]

    def resolve(
        self,
        event: Moved[ClaimStatus],
        *,
        refund: str | None,
        payout_id: str | None,
        by: str,
        note: str,
        now: datetime,
    ) -> bool:
        c = t.claims.c
        done = self.conn.execute(
            update(t.claims)
            .where(c.id == event.id, c.status == event.source.value, c.resolved_at.is_(None))
            .values(
                status=event.target.value,
                refund=refund,
                payout_id=payout_id,
                resolved_by=by,
                resolved_at=now,
                resolution_note=note,
                updated_at=now,
            )
        )
        return done.rowcount == 1

    def to_repay(self, limit: int) -> list[Claim]:
        c, p = t.claims.c, t.payouts.c
        gone = (PayoutStatus.RETURNED.value, PayoutStatus.REJECTED.value)
        q = (
            select(*(getattr(c, f) for f in _CLAIM))
            .select_from(t.claims.outerjoin(t.payouts, p.id == c.payout_id))
            .where(
                c.status == ClaimStatus.REFUNDED.value,
                or_(c.refund == "owed", and_(c.refund == "payout", p.status.in_(gone))),
            )
            .order_by(c.created_at, c.id)
            .limit(limit)
        )
        return [Claim(**r._mapping) for r in self.conn.execute(q)]

    def set_refund(
        self,
        claim_id: str,
        *,
        was: tuple[str | None, str | None],
        refund: str,
        payout_id: str | None,
        now: datetime,
    ) -> bool:
        c = t.claims.c
        was_refund, was_payout = was
        same_payout = c.payout_id.is_(None) if was_payout is None else c.payout_id == was_payout
        done = self.conn.execute(
            update(t.claims)
            .where(c.id == claim_id, c.refund == was_refund, same_payout)
            .values(refund=refund, payout_id=payout_id, updated_at=now)
        )
        return done.rowcount == 1
