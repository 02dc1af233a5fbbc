"""Webhook endpoints and the outbox (rows written in the same transaction as the state
change they announce)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, exists, insert, select, update

from giftcash.adapters.db import tables as t
from giftcash.adapters.db.ids import new_id


class Webhooks:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"

    def add_endpoint(
        self,
        *,
        id: str,
        customer_id: str,
        url: str,
        secret_enc: bytes,
        key_id: str,
        event_types: list[str],
        now: datetime,
    ) -> None:
        self.conn.execute(
            insert(t.webhook_endpoints).values(
                id=id,
                customer_id=customer_id,
                url=url,
                secret_enc=secret_enc,
                key_id=key_id,
                event_types=event_types,
                enabled=True,
                created_at=now,
            )
        )

    def endpoints(self, customer_id: str) -> list[dict[str, Any]]:
        c = t.webhook_endpoints.c
        rows = self.conn.execute(
            select(c.id, c.url, c.event_types, c.enabled, c.created_at)
            .where(c.customer_id == customer_id)
            .order_by(c.id)
        )
        return [dict(r._mapping) for r in rows]

    def remove_endpoint(self, customer_id: str, endpoint_id: str) -> bool:
        c = t.webhook_endpoints.c
        self.conn.execute(
            delete(t.webhook_outbox).where(
                t.webhook_outbox.c.endpoint_id == endpoint_id,
                t.webhook_outbox.c.delivered_at.is_(None),
            )
        )
        n = self.conn.execute(
            delete(t.webhook_endpoints).where(c.id == endpoint_id, c.customer_id == customer_id)
        ).rowcount
        return n == 1

    def any_endpoint(self) -> bool:
        return bool(
            self.conn.execute(select(exists().where(t.webhook_endpoints.c.enabled))).scalar()
        )

    def enqueue(self, customer_events: list[tuple[str, str, dict[str, Any]]], now: datetime) -> int:
        """(customer_id, event_type, data) → one outbox row per subscribed endpoint."""
        if not customer_events or not self.any_endpoint():
            return 0
        c = t.webhook_endpoints.c
        customers = sorted({cid for cid, _, _ in customer_events})
        subs: dict[str, list[tuple[str, list[str]]]] = {}
        for row in self.conn.execute(
            select(c.id, c.customer_id, c.event_types).where(
                c.customer_id.in_(customers), c.enabled
            )
        ):
            subs.setdefault(row.customer_id, []).append((row.id, list(row.event_types or [])))
        rows = []
        for cid, event_type, data in customer_events:
            for endpoint_id, types in subs.get(cid, []):
                if types and event_type not in types and "*" not in types:
                    continue
                msg_id = new_id()
                payload = {"type": event_type, "timestamp": now.isoformat(), "data": data}
                rows.append(
                    {
                        "id": msg_id,
                        "endpoint_id": endpoint_id,
                        "event_type": event_type,
                        "payload": json.dumps(payload, separators=(",", ":"), default=str),
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                )
        if rows:
            self.conn.execute(insert(t.webhook_outbox), rows)
        return len(rows)

    def claim(
        self, worker_id: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[dict[str, Any]]:
        o, e = t.webhook_outbox.c, t.webhook_endpoints.c
        pick = (
            select(o.id)
            .where(
                o.delivered_at.is_(None), o.next_attempt_at.is_not(None), o.next_attempt_at <= now
            )
            .where((o.lease_expires_at.is_(None)) | (o.lease_expires_at < now))
            .order_by(o.next_attempt_at, o.created_at, o.id)
            .limit(limit)
        )
        if self.pg:
            pick = pick.with_for_update(skip_locked=True)
        ids = list(self.conn.scalars(pick))
        if not ids:
            return []
        self.conn.execute(
            update(t.webhook_outbox)
            .where(o.id.in_(ids))
            .values(lease_owner=worker_id, lease_expires_at=lease_until, attempts=o.attempts + 1)
        )
        rows = self.conn.execute(
            select(
                o.id,
                o.payload,
                o.attempts,
                e.url,
                e.secret_enc,
                e.key_id,
                e.id.label("endpoint_id"),
            )
            .join(t.webhook_endpoints, e.id == o.endpoint_id)
            .where(o.id.in_(ids))
            .order_by(o.created_at, o.id)
        )
        return [dict(r._mapping) for r in rows]

    def delivered(self, msg_id: str, now: datetime) -> None:
        o = t.webhook_outbox.c
        self.conn.execute(
            update(t.webhook_outbox)
            .where(o.id == msg_id)
            .values(delivered_at=now, lease_owner=None, lease_expires_at=None, last_error=None)
        )

    def postpone(self, msg_id: str, next_attempt_at: datetime) -> None:
        """Not sent (its endpoint's bound is reached): the attempt the claim counted is
        given back, and it waits."""
        o = t.webhook_outbox.c
        self.conn.execute(
            update(t.webhook_outbox)
            .where(o.id == msg_id)
            .values(
                attempts=o.attempts - 1,
                next_attempt_at=next_attempt_at,
                lease_owner=None,
                lease_expires_at=None,
            )
        )

    def failed(self, msg_id: str, error: str, next_attempt_at: datetime | None) -> None:
        """``next_attempt_at`` None: given up (kept, with its error, for an operator)."""
        o = t.webhook_outbox.c
        self.conn.execute(
            update(t.webhook_outbox)
            .where(o.id == msg_id)
            .values(
                last_error=error[:500],
                next_attempt_at=next_attempt_at,
                lease_owner=None,
                lease_expires_at=None,
            )
        )

    def pending(self, endpoint_id: str | None = None) -> list[dict[str, Any]]:
        o = t.webhook_outbox.c
        q = select(t.webhook_outbox)
        if endpoint_id:
            q = q.where(o.endpoint_id == endpoint_id)
        return [dict(r._mapping) for r in self.conn.execute(q.order_by(o.created_at, o.id))]
