"""The review queue's repository: items sent to review, what a reviewer sees beside them,
the decision recorded (``review/queue.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from giftcash.adapters.db import tables as t
from giftcash.adapters.db.repositories_customer_lookup import operator_items_select
from giftcash.domain.states import ItemStatus

_CHUNK = 500


class ReviewQueue:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def note_reason(self, item_ids: Sequence[str], reason: str, flags: Sequence[str]) -> None:
        """The reason and flags the reviewer will see beside items sent to review."""
        c = t.items.c
        self.conn.execute(
            update(t.items)
            .where(c.id.in_(list(item_ids)))
            .values(review_reason=reason, flags=sorted(set(flags)))
        )

    def waiting(self, after_id: str | None, limit: int) -> list[dict[str, Any]]:
        """Items in review, oldest first, with their customer and payout account."""
        i, cu, s, a = t.items.c, t.customers.c, t.submissions.c, t.bank_accounts.c
        q = (
            select(
                i.id,
                i.submission_id,
                i.customer_id,
                i.brand_id,
                i.issuer,
                i.currency,
                i.face_value,
                i.fee,
                i.payout,
                i.funding_source,
                i.purchase_channel,
                i.masked_code,
                i.review_reason,
                i.flags,
                i.created_at,
                i.updated_at,
                cu.name.label("customer_name"),
                cu.birth_date,
                cu.created_at.label("customer_since"),
                a.bank_code,
                a.account_number_masked,
                a.holder_name,
                a.status.label("account_status"),
            )
            .join(t.customers, cu.id == i.customer_id)
            .join(t.submissions, s.id == i.submission_id)
            .join(t.bank_accounts, a.id == s.bank_account_id)
            .where(i.status == ItemStatus.REVIEW.value)
        )
        if after_id is not None:
            q = q.where(i.id > after_id)
        return [dict(r._mapping) for r in self.conn.execute(q.order_by(i.id).limit(limit))]

    def prior_sales(self, customer_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
        """(items paid, payout paid) per customer."""
        c = t.items.c
        if not customer_ids:
            return {}
        rows = self.conn.execute(
            select(c.customer_id, func.count(), func.coalesce(func.sum(c.payout), 0))
            .where(c.customer_id.in_(sorted(set(customer_ids))), c.status == "paid")
            .group_by(c.customer_id)
        )
        return {r[0]: (r[1], r[2]) for r in rows}

    def record_decision(
        self,
        item_id: str,
        *,
        by: str,
        at: datetime,
        note: str,
        decline: tuple[str, str] | None = None,
    ) -> None:
        values: dict[str, Any] = {"reviewed_by": by, "reviewed_at": at, "review_note": note}
        if decline is not None:
            values["decline_code"], values["decline_message"] = decline
        self.conn.execute(update(t.items).where(t.items.c.id == item_id).values(**values))

    def review_evidence(self, item_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Per item: the policy's last decision, the customer's warning, the hold and the
        time the issuer says the voucher was bought."""
        c = t.items.c
        out: dict[str, dict[str, Any]] = {}
        ids = sorted(set(item_ids))
        for start in range(0, len(ids), _CHUNK):
            rows = self.conn.execute(
                select(c.id, c.decision, c.warning, c.hold_until, c.issuer_purchased_at).where(
                    c.id.in_(ids[start : start + _CHUNK])
                )
            )
            out.update({r.id: dict(r._mapping) for r in rows})
        return out

    def recently_reviewed(self, limit: int) -> list[dict[str, Any]]:
        """Items an operator decided, the latest decision first."""
        c = t.items.c
        q = operator_items_select().where(c.reviewed_at.is_not(None))
        rows = self.conn.execute(q.order_by(c.reviewed_at.desc(), c.id.desc()).limit(limit))
        return [dict(r._mapping) for r in rows]
