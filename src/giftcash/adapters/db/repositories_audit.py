"""The audit log's repository: records appended under the chain's head row, each hashed
onto the one before (``audit/log.py``), read in order or newest first."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, String, func, insert, literal, select, text, update

from giftcash.adapters.db import tables as t
from giftcash.audit.log import REDACTED_DEVICE, AuditRecord, seal

PAGE = 1000


def _record(r: Any) -> AuditRecord:
    return AuditRecord(
        seq=r.seq,
        id=r.id,
        at=r.at,
        actor=r.actor,
        action=r.action,
        subject=r.subject,
        detail=r.detail,
        prev_hash=r.prev_hash,
        hash=r.hash,
        body_digest=r.body_digest,
        salt=r.salt,
        redacted_at=r.redacted_at,
    )


class AuditLog:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"

    def append(
        self,
        *,
        id: str,
        at: datetime,
        actor: str,
        action: str,
        subject: str | None,
        detail: dict[str, Any] | None,
    ) -> AuditRecord:
        h = t.audit_head.c
        q = select(h.seq, h.hash).where(h.id == 1)
        if self.pg:  # SQLite: BEGIN IMMEDIATE already serialises writers
            q = q.with_for_update()
        head = self.conn.execute(q).one_or_none()
        assert head is not None, "audit_head has no row: run the migrations"
        seq = head.seq + 1
        fields = {
            "seq": seq,
            "id": id,
            "at": at,
            "actor": actor,
            "action": action,
            "subject": subject,
            "detail": detail,
        }
        sealed = seal(head.hash, **fields)
        sealing = {"salt": sealed.salt, "body_digest": sealed.body_digest}
        self.conn.execute(
            insert(t.audit_log).values(**fields, **sealing, prev_hash=head.hash, hash=sealed.hash)
        )
        self.conn.execute(update(t.audit_head).where(h.id == 1).values(seq=seq, hash=sealed.hash))
        return AuditRecord(**fields, prev_hash=head.hash, hash=sealed.hash, **sealing)

    def redact(self, subject: str, now: datetime, limit: int) -> list[int]:
        c = t.audit_log.c
        return self._redact(
            (c.subject == subject, c.salt.is_not(None), c.redacted_at.is_(None)), now, limit
        )

    def redact_items_of(self, customer_id: str, now: datetime, limit: int) -> list[int]:
        c, i = t.audit_log.c, t.items.c
        items = select(literal("item:", String) + i.id).where(i.customer_id == customer_id)
        return self._redact(
            (c.subject.in_(items), c.salt.is_not(None), c.redacted_at.is_(None)), now, limit
        )

    def _redact(self, where: tuple[Any, ...], now: datetime, limit: int) -> list[int]:
        c = t.audit_log.c
        seqs = [
            int(s)
            for s in self.conn.execute(
                select(c.seq).where(*where).order_by(c.seq).limit(limit)
            ).scalars()
        ]
        if seqs:
            self.conn.execute(
                update(t.audit_log)
                .where(c.seq.in_(seqs))
                .values(detail=None, salt=None, redacted_at=now)
            )
        return seqs

    def redact_old_devices(self, before: datetime, now: datetime, limit: int) -> list[int]:
        c, b = t.audit_log.c, t.blocks.c
        blocked = select(literal("device:", String) + b.subject).where(b.kind == "device")
        seqs = [
            int(s)
            for s in self.conn.execute(
                select(c.seq)
                .where(
                    c.subject.like("device:%"),
                    c.subject != REDACTED_DEVICE,
                    c.salt.is_not(None),
                    c.at < before,
                    c.subject.not_in(blocked),
                )
                .order_by(c.seq)
                .limit(limit)
            ).scalars()
        ]
        if seqs:
            self.conn.execute(
                update(t.audit_log)
                .where(c.seq.in_(seqs))
                .values(subject=REDACTED_DEVICE, detail=None, salt=None, redacted_at=now)
            )
        return seqs

    def snapshot(self) -> None:
        """Make this transaction one snapshot (PostgreSQL: REPEATABLE READ), so a chain walk
        over many pages is not confused by records appended meanwhile. Call it first in
        the transaction. SQLite's transactions already are snapshots."""
        if self.pg:
            self.conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))

    def head(self) -> tuple[int, str]:
        h = t.audit_head.c
        row = self.conn.execute(select(h.seq, h.hash).where(h.id == 1)).one()
        return row.seq, row.hash

    def all_in_order(self) -> Iterator[AuditRecord]:
        c = t.audit_log.c
        after = 0
        while True:
            rows = self.conn.execute(
                select(t.audit_log).where(c.seq > after).order_by(c.seq).limit(PAGE)
            ).all()
            for r in rows:
                yield _record(r)
            if len(rows) < PAGE:
                return
            after = rows[-1].seq

    def newest_first(self, before_seq: int | None, limit: int) -> list[AuditRecord]:
        c = t.audit_log.c
        q = select(t.audit_log)
        if before_seq is not None:
            q = q.where(c.seq < before_seq)
        return [_record(r) for r in self.conn.execute(q.order_by(c.seq.desc()).limit(limit))]

    def count(self, action: str, subject: str, since: datetime) -> int:
        c = t.audit_log.c
        return self.conn.execute(
            select(func.count())
            .select_from(t.audit_log)
            .where(c.action == action, c.subject == subject, c.at > since)
        ).scalar_one()

    def last_at(self, action: str, subject: str) -> datetime | None:
        c = t.audit_log.c
        return self.conn.execute(
            select(func.max(c.at)).where(c.action == action, c.subject == subject)
        ).scalar()
