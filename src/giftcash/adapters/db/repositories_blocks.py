"""Blocks on customers and devices, and operators' notes on customers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, tuple_

from giftcash.adapters.db import tables as t
from giftcash.service.ports.records import Block, Note


def _block(r: Any) -> Block:
    return Block(r.kind, r.subject, r.reason, r.blocked_by, r.blocked_at)


class Blocks:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, kind: str, subject: str) -> Block | None:
        b = t.blocks.c
        r = self.conn.execute(select(t.blocks).where(b.kind == kind, b.subject == subject)).first()
        return _block(r) if r else None

    def any_of(self, pairs: Sequence[tuple[str, str]]) -> Block | None:
        """The first block among these (kind, subject) pairs, if any."""
        if not pairs:
            return None
        b = t.blocks.c
        r = self.conn.execute(
            select(t.blocks).where(tuple_(b.kind, b.subject).in_(list(pairs))).limit(1)
        ).first()
        return _block(r) if r else None

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

    def for_subjects(self, kind: str, subjects: Sequence[str]) -> dict[str, Block]:
        if not subjects:
            return {}
        b = t.blocks.c
        rows = self.conn.execute(
            select(t.blocks).where(b.kind == kind, b.subject.in_(sorted(set(subjects))))
        )
        return {r.subject: _block(r) for r in rows}

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

    def for_customer(self, customer_id: str, limit: int) -> list[Note]:
        n = t.customer_notes.c
        rows = self.conn.execute(
            select(t.customer_notes)
            .where(n.customer_id == customer_id)
            .order_by(n.created_at.desc(), n.id.desc())
            .limit(limit)
        )
        return [Note(r.id, r.author, r.body, r.created_at) for r in rows]
