"""Blocks on customers and devices, and operators' notes on customers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, tuple_

from giftcash.adapters.db import tables as t


class Blocks:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, kind: str, subject: str) -> dict[str, Any] | None:
        b = t.blocks.c
        r = self.conn.execute(select(t.blocks).where(b.kind == kind, b.subject == subject)).first()
        return dict(r._mapping) if r else None

    def any_of(self, pairs: Sequence[tuple[str, str]]) -> dict[str, Any] | None:
        """The first block among these (kind, subject) pairs, if any."""
        if not pairs:
            return None
        b = t.blocks.c
        r = self.conn.execute(
            select(t.blocks).where(tuple_(b.kind, b.subject).in_(list(pairs))).limit(1)
        ).first()
        return dict(r._mapping) if r else None

    def add(self, kind: str, subject: str, reason: str, by: str, now: datetime) -> None:
        self.conn.execute(
            insert(t.blocks).values(
                kind=kind, subject=subject, reason=reason, blocked_by=by, blocked_at=now
            )
        )

    def remove(self, kind: str, subject: str) -> bool:
        b = t.blocks.c
        done = self.conn.execute(delete(t.blocks).where(b.kind == kind, b.subject == subject))
        return done.rowcount == 1

    def for_subjects(self, kind: str, subjects: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not subjects:
            return {}
        b = t.blocks.c
        rows = self.conn.execute(
            select(t.blocks).where(b.kind == kind, b.subject.in_(sorted(set(subjects))))
        )
        return {r.subject: dict(r._mapping) for r in rows}

    def revoke_customer_tokens(self, customer_id: str) -> int:
        """End every session of a customer (a block takes effect at once)."""
        c = t.access_tokens.c
        done = self.conn.execute(
            delete(t.access_tokens).where(c.subject_type == "customer", c.subject_id == customer_id)
        )
        return done.rowcount


class CustomerNotes:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, id: str, customer_id: str, author: str, body: str, now: datetime) -> None:
        self.conn.execute(
            insert(t.customer_notes).values(
                id=id, customer_id=customer_id, author=author, body=body, created_at=now
            )
        )

    def for_customer(self, customer_id: str, limit: int) -> list[dict[str, Any]]:
        n = t.customer_notes.c
        rows = self.conn.execute(
            select(t.customer_notes)
            .where(n.customer_id == customer_id)
            .order_by(n.created_at.desc(), n.id.desc())
            .limit(limit)
        )
        return [dict(r._mapping) for r in rows]
