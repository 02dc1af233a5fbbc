"""Announced bank maintenance (``bank_maintenance``; payouts/bank_hours.py) and the
issuer's answers kept as dispute evidence (``issuer_evidence``; redemption/evidence.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from giftcash.adapters.db import tables as t
from giftcash.domain.bank_hours import Maintenance
from giftcash.service.ports.records import IssuerEvidence


class BankHours:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def maintenance(self, ending_after: datetime) -> list[Maintenance]:
        m = t.bank_maintenance.c
        rows = self.conn.execute(
            select(m.id, m.bank_code, m.starts_at, m.ends_at, m.note)
            .where(m.ends_at > ending_after)
            .order_by(m.starts_at, m.id)
        )
        return [Maintenance(r.id, r.bank_code, r.starts_at, r.ends_at, r.note) for r in rows]

    def add_maintenance(self, m: Maintenance, by: str, now: datetime) -> None:
        self.conn.execute(
            insert(t.bank_maintenance).values(
                id=m.id,
                bank_code=m.bank_code,
                starts_at=m.starts_at,
                ends_at=m.ends_at,
                note=m.note,
                created_by=by,
                created_at=now,
            )
        )

    def remove_maintenance(self, maintenance_id: str) -> Maintenance | None:
        m = t.bank_maintenance.c
        r = self.conn.execute(
            select(m.id, m.bank_code, m.starts_at, m.ends_at, m.note).where(m.id == maintenance_id)
        ).first()
        if r is None:
            return None
        self.conn.execute(delete(t.bank_maintenance).where(m.id == maintenance_id))
        return Maintenance(r.id, r.bank_code, r.starts_at, r.ends_at, r.note)


_EVIDENCE_FIELDS = (
    "id",
    "item_id",
    "kind",
    "issuer",
    "asked_at",
    "answered_at",
    "outcome",
    "used_at",
    "used_where",
    "issuer_ref",
    "amount",
)


class Evidence:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_many(self, rows: Sequence[IssuerEvidence], now: datetime) -> None:
        if rows:
            self.conn.execute(
                insert(t.issuer_evidence),
                [{**{f: getattr(r, f) for f in _EVIDENCE_FIELDS}, "created_at": now} for r in rows],
            )

    def for_items(self, item_ids: Sequence[str]) -> dict[str, list[IssuerEvidence]]:
        e = t.issuer_evidence.c
        out: dict[str, list[IssuerEvidence]] = {i: [] for i in item_ids}
        if not item_ids:
            return out
        rows = self.conn.execute(
            select(*(getattr(e, f) for f in _EVIDENCE_FIELDS))
            .where(e.item_id.in_(list(item_ids)))
            .order_by(e.item_id, e.answered_at, e.id)
        )
        for r in rows:
            out[r.item_id].append(IssuerEvidence(**r._mapping))
        return out
