"""Consents as given (``customer_consents``, append-only; see identity/consents.py)."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from giftcash.adapters.db import tables as t
from giftcash.service.ports.records import ConsentGiven


class Consents:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, id: str, given: ConsentGiven) -> None:
        self.conn.execute(
            insert(t.customer_consents).values(
                id=id,
                customer_id=given.customer_id,
                document=given.document,
                version=given.version,
                agreed=given.agreed,
                at=given.at,
            )
        )

    def latest(self, customer_id: str) -> dict[str, ConsentGiven]:
        c = t.customer_consents.c
        rows = self.conn.execute(
            select(c.customer_id, c.document, c.version, c.agreed, c.at)
            .where(c.customer_id == customer_id)
            .order_by(c.at, c.id)
        )
        # ordered by time, so the last answer to each document wins
        return {
            r.document: ConsentGiven(r.customer_id, r.document, r.version, bool(r.agreed), r.at)
            for r in rows
        }
