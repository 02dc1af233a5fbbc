"""The notices a customer chose and the outbox of money events (``notice_choices``,
``notice_outbox``; see payouts/notices.py). ``enqueue`` stores the rows the service
makes from the events that moved, in the transaction of the state change."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from giftcash.adapters.db import tables as t
from giftcash.adapters.db.ids import new_id
from giftcash.service.ports.records import NoticeDue


class Notices:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def choice(self, customer_id: str) -> frozenset[str] | None:
        c = t.notice_choices.c
        events = self.conn.execute(
            select(c.events).where(c.customer_id == customer_id)
        ).scalar_one_or_none()
        return None if events is None else frozenset(e for e in events.split(",") if e)

    def choose(self, customer_id: str, events: frozenset[str], now: datetime) -> None:
        c = t.notice_choices.c
        self.conn.execute(delete(t.notice_choices).where(c.customer_id == customer_id))
        self.conn.execute(
            insert(t.notice_choices).values(
                customer_id=customer_id, events=",".join(sorted(events)), updated_at=now
            )
        )

    def enqueue(self, events: Iterable[tuple[str, str, str]], now: datetime) -> None:
        """One row per (customer, event, subject) not queued before: the unique key makes
        a repeated state change (a retried step) queue nothing more."""
        o = t.notice_outbox.c
        for customer_id, event, subject_id in dict.fromkeys(events):
            known = self.conn.execute(
                select(o.id).where(o.event == event, o.subject_id == subject_id)
            ).first()
            if known is None:
                self.conn.execute(
                    insert(t.notice_outbox).values(
                        id=new_id(),
                        customer_id=customer_id,
                        event=event,
                        subject_id=subject_id,
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[NoticeDue]:
        """The unsettled notices due now, each leased until ``lease_until`` (a worker that
        dies mid-send leaves it to be sent again with the same key)."""
        o = t.notice_outbox.c
        rows = self.conn.execute(
            select(o.id, o.customer_id, o.event, o.subject_id, o.attempts)
            .where(o.outcome.is_(None), o.next_attempt_at <= now)
            .order_by(o.next_attempt_at, o.id)
            .limit(limit)
        ).all()
        due = []
        for r in rows:
            n = self.conn.execute(
                update(t.notice_outbox)
                .where(o.id == r.id, o.outcome.is_(None), o.attempts == r.attempts)
                .values(attempts=r.attempts + 1, next_attempt_at=lease_until)
            ).rowcount
            if n == 1:
                due.append(NoticeDue(r.id, r.customer_id, r.event, r.subject_id, r.attempts + 1))
        return due

    def settle(self, notice_id: str, outcome: str, now: datetime) -> None:
        o = t.notice_outbox.c
        self.conn.execute(
            update(t.notice_outbox)
            .where(o.id == notice_id, o.outcome.is_(None))
            .values(outcome=outcome, settled_at=now)
        )
