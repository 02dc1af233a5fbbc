"""Repositories of the operators' side: the hash-chained audit log, the operator's
overrides of brands, issuers and rules, the review queue, payouts for finance, and the
one-use TOTP step of an operator's login."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from giftcash.adapters.db import tables as t
from giftcash.adapters.db.repositories_items import Items
from giftcash.audit.log import AuditRecord, canonical, chain_hash
from giftcash.domain.states import ItemStatus

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
        digest = chain_hash(head.hash, canonical(**fields))
        self.conn.execute(insert(t.audit_log).values(**fields, prev_hash=head.hash, hash=digest))
        self.conn.execute(update(t.audit_head).where(h.id == 1).values(seq=seq, hash=digest))
        return AuditRecord(**fields, prev_hash=head.hash, hash=digest)

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


class OperatorOverrides:
    """Rows over the code's defaults; a NULL column means "the default"."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"

    def brands(self) -> dict[str, dict[str, Any]]:
        return {
            r.brand_id: dict(r._mapping)
            for r in self.conn.execute(
                select(t.brand_overrides).order_by(t.brand_overrides.c.brand_id)
            )
        }

    def issuers(self) -> dict[str, dict[str, Any]]:
        return {
            r.issuer: dict(r._mapping)
            for r in self.conn.execute(
                select(t.issuer_overrides).order_by(t.issuer_overrides.c.issuer)
            )
        }

    def rules(self) -> list[dict[str, Any]]:
        c = t.rule_overrides.c
        rows = self.conn.execute(select(t.rule_overrides).order_by(c.updated_at, c.rule_id))
        return [dict(r._mapping) for r in rows]

    def set_brand(self, brand_id: str, changes: dict[str, Any], now: datetime, by: str) -> None:
        self._upsert(t.brand_overrides, "brand_id", brand_id, changes, now, by)

    def set_issuer(self, issuer: str, changes: dict[str, Any], now: datetime, by: str) -> None:
        self._upsert(t.issuer_overrides, "issuer", issuer, changes, now, by)

    def set_rule(self, rule_id: str, changes: dict[str, Any], now: datetime, by: str) -> None:
        self._upsert(t.rule_overrides, "rule_id", rule_id, changes, now, by)

    def _upsert(
        self, table: Any, key: str, value: str, changes: dict[str, Any], now: datetime, by: str
    ) -> None:
        assert set(changes) <= set(table.c.keys()) - {key, "updated_at", "updated_by"}
        values = {**changes, "updated_at": now, "updated_by": by}
        ins = (pg_insert if self.pg else sqlite_insert)(table).values(**{key: value}, **values)
        self.conn.execute(ins.on_conflict_do_update(index_elements=[key], set_=values))


class ReviewQueue:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def send_to_review(
        self, item_ids: Sequence[str], reason: str, flags: Sequence[str], now: datetime
    ) -> None:
        """received → review, with the reason and flags the reviewer will see."""
        Items(self.conn).transition(item_ids, ItemStatus.RECEIVED, ItemStatus.REVIEW, now)
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


class AdminPayouts:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def page(self, status: str | None, before_id: str | None, limit: int) -> list[dict[str, Any]]:
        p = t.payouts.c
        q = select(t.payouts)
        if status is not None:
            q = q.where(p.status == status)
        if before_id is not None:
            q = q.where(p.id < before_id)
        return [dict(r._mapping) for r in self.conn.execute(q.order_by(p.id.desc()).limit(limit))]

    def get(self, payout_id: str) -> dict[str, Any] | None:
        r = self.conn.execute(select(t.payouts).where(t.payouts.c.id == payout_id)).first()
        return dict(r._mapping) if r else None


class OperatorAuth:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def accept_totp_step(self, operator_id: str, step: int) -> bool:
        """Record ``step`` as used; False if it (or a later one) was used before. One
        conditional UPDATE, so two logins racing with one code cannot both win."""
        c = t.operators.c
        n = self.conn.execute(
            update(t.operators)
            .where(
                c.id == operator_id,
                or_(c.last_totp_step.is_(None), c.last_totp_step < step),
            )
            .values(last_totp_step=step)
        ).rowcount
        return n == 1

    def all(self) -> list[dict[str, Any]]:
        c = t.operators.c
        rows = self.conn.execute(
            select(c.id, c.username, c.role, c.created_at).order_by(c.username)
        )
        return [dict(r._mapping) for r in rows]
