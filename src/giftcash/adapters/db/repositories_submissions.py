"""The submissions repository: a submission, the account it pays to, a customer's list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from giftcash.adapters.db import tables as t
from giftcash.domain.records import Submission


class Submissions:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self, id: str, customer_id: str, bank_account_id: str, item_count: int, now: datetime
    ) -> None:
        self.conn.execute(
            insert(t.submissions).values(
                id=id,
                customer_id=customer_id,
                bank_account_id=bank_account_id,
                status="received",
                item_count=item_count,
                created_at=now,
            )
        )

    def get(self, submission_id: str) -> Submission | None:
        r = self.conn.execute(
            select(t.submissions).where(t.submissions.c.id == submission_id)
        ).first()
        return _submission(r) if r else None

    def move_to_account(self, submission_id: str, current: str, target: str) -> bool:
        """Point the submission at ``target`` if it still names ``current``."""
        c = t.submissions.c
        moved = self.conn.execute(
            update(t.submissions)
            .where(c.id == submission_id, c.bank_account_id == current)
            .values(bank_account_id=target)
        )
        return moved.rowcount == 1

    def for_customer(self, customer_id: str, cursor: str | None, limit: int) -> list[Submission]:
        c = t.submissions.c
        q = select(t.submissions).where(c.customer_id == customer_id)
        if cursor:
            q = q.where(c.id < cursor)
        rows = self.conn.execute(q.order_by(c.id.desc()).limit(limit))
        return [_submission(r) for r in rows]


def _submission(r: Any) -> Submission:
    return Submission(
        id=r.id,
        customer_id=r.customer_id,
        bank_account_id=r.bank_account_id,
        status=r.status,
        item_count=r.item_count,
        created_at=r.created_at,
    )


# What an outcome may set besides the status (see ``Items.transition_leased``).
