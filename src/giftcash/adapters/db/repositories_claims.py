"""Buyers' claims on delivered units (resale/claims.py): the port ``ClaimsRepo``."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from giftcash.adapters.db import tables as t
from giftcash.domain.states import ClaimStatus, Moved
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
