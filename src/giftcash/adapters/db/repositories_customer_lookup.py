"""Customers as the operators look them up (``identity/customer_lookup.py``): by phone
suffix or name, with their items and payouts; and the item columns an operator may see.

Nothing here writes. No query selects an encrypted column or a keyed hash: codes leave
as their masked form only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from giftcash.adapters.db import tables as t

CHUNK = 500

# The item columns an operator may see (never code_enc, pin_enc, code_hmac, redeem_key).
_ITEM_COLUMNS = (
    "id",
    "submission_id",
    "customer_id",
    "brand_id",
    "issuer",
    "currency",
    "face_value",
    "fee",
    "payout",
    "funding_source",
    "status",
    "masked_code",
    "decline_code",
    "purchase_channel",
    "payout_id",
    "review_reason",
    "flags",
    "reviewed_by",
    "reviewed_at",
    "review_note",
    "hold_until",
    "warning",
    "decision",
    "issuer_purchased_at",
    "created_at",
    "updated_at",
)


def operator_items_select() -> Any:
    """The items as an operator may see them (masked codes only)."""
    return select(*(t.items.c[name] for name in _ITEM_COLUMNS))


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class CustomerLookup:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def find_customers(
        self, *, phone_suffix: str | None, name: str | None, limit: int
    ) -> list[dict[str, Any]]:
        cu = t.customers.c
        q = select(
            cu.id, cu.phone, cu.name, cu.birth_date, cu.status, cu.phone_verified_at, cu.created_at
        )
        conds = []
        if phone_suffix:
            conds.append(cu.phone.like(f"%{_like_escape(phone_suffix)}", escape="\\"))
        if name:
            conds.append(cu.name.like(f"%{_like_escape(name)}%", escape="\\"))
        if not conds:
            return []
        rows = self.conn.execute(q.where(or_(*conds)).order_by(cu.created_at.desc()).limit(limit))
        return [dict(r._mapping) for r in rows]

    def customer_items(self, customer_id: str, limit: int) -> list[dict[str, Any]]:
        c = t.items.c
        q = operator_items_select().where(c.customer_id == customer_id)
        rows = self.conn.execute(q.order_by(c.created_at.desc(), c.id.desc()).limit(limit))
        return [dict(r._mapping) for r in rows]

    def customer_items_by_status(self, customer_id: str) -> dict[str, int]:
        c = t.items.c
        rows = self.conn.execute(
            select(c.status, func.count()).where(c.customer_id == customer_id).group_by(c.status)
        )
        return {s: int(n) for s, n in rows}

    def customer_payouts(self, customer_id: str, limit: int) -> list[dict[str, Any]]:
        p = t.payouts.c
        rows = self.conn.execute(
            select(t.payouts)
            .where(p.customer_id == customer_id)
            .order_by(p.created_at.desc(), p.id.desc())
            .limit(limit)
        )
        return [dict(r._mapping) for r in rows]

    def customer_names(self, customer_ids: Sequence[str]) -> dict[str, str]:
        cu = t.customers.c
        ids = sorted(set(customer_ids))
        out: dict[str, str] = {}
        for start in range(0, len(ids), CHUNK):
            rows = self.conn.execute(
                select(cu.id, cu.name).where(cu.id.in_(ids[start : start + CHUNK]))
            )
            out.update({r.id: r.name for r in rows})
        return out


class ConsoleSearch:
    """The console's lists and searches: payouts with whom and where they went, the audit
    log filtered, customers by what an operator has in hand (a keyed hash for a code or an
    account number: the clear value never reaches a query), cases and devices per
    customer. Read-only."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- payouts ---------------------------------------------------------------------------
    def payouts(self, status: str | None, before_id: str | None, limit: int) -> list[dict]:
        p, cu, a = t.payouts.c, t.customers.c, t.bank_accounts.c
        q = (
            select(
                p.id,
                p.customer_id,
                cu.name.label("customer_name"),
                a.bank_code,
                a.account_number_masked,
                p.amount,
                p.currency,
                p.status,
                p.transfer_attempts,
                p.created_at,
                p.sent_at,
                p.confirmed_at,
                p.failure_code,
            )
            .join(t.customers, cu.id == p.customer_id)
            .join(t.bank_accounts, a.id == p.bank_account_id)
        )
        if status is not None:
            q = q.where(p.status == status)
        if before_id is not None:
            q = q.where(p.id < before_id)
        return [dict(r._mapping) for r in self.conn.execute(q.order_by(p.id.desc()).limit(limit))]

    # -- the audit log ---------------------------------------------------------------------
    def audit(
        self,
        *,
        actor: str | None,
        action: str | None,
        target_kind: str | None,
        since: datetime | None,
        until: datetime | None,
        before_seq: int | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        c = t.audit_log.c
        q = select(c.seq, c.at, c.actor, c.action, c.subject, c.detail, c.redacted_at)
        if actor:
            q = q.where(c.actor.like(f"%{_like_escape(actor)}%", escape="\\"))
        if action:
            q = q.where(c.action.like(f"{_like_escape(action)}%", escape="\\"))
        if target_kind:
            q = q.where(c.subject.like(f"{_like_escape(target_kind)}:%", escape="\\"))
        if since is not None:
            q = q.where(c.at >= since)
        if until is not None:
            q = q.where(c.at < until)
        if before_seq is not None:
            q = q.where(c.seq < before_seq)
        return [dict(r._mapping) for r in self.conn.execute(q.order_by(c.seq.desc()).limit(limit))]

    # -- customers -------------------------------------------------------------------------
    def _customers(self, where: Any, limit: int) -> list[dict[str, Any]]:
        cu = t.customers.c
        q = select(
            cu.id, cu.phone, cu.name, cu.birth_date, cu.status, cu.phone_verified_at, cu.created_at
        )
        if where is not None:
            q = q.where(where)
        rows = self.conn.execute(q.order_by(cu.created_at.desc(), cu.id.desc()).limit(limit))
        return [dict(r._mapping) for r in rows]

    def recent_customers(self, limit: int) -> list[dict[str, Any]]:
        return self._customers(None, limit)

    def customers_by_ids(self, ids: Sequence[str], limit: int) -> list[dict[str, Any]]:
        if not ids:
            return []
        return self._customers(t.customers.c.id.in_(sorted(set(ids))[:CHUNK]), limit)

    def customers_by_code_hmac(self, keys: Sequence[str]) -> list[str]:
        c = t.items.c
        q = select(c.customer_id).where(c.code_hmac.in_(list(keys))).distinct()
        return list(self.conn.scalars(q))

    def customers_by_account_hmac(self, keys: Sequence[str]) -> list[str]:
        a = t.bank_accounts.c
        q = select(a.customer_id).where(a.account_number_hmac.in_(list(keys))).distinct()
        return list(self.conn.scalars(q))

    def customers_by_device(self, device_key: str) -> list[str]:
        c, f = t.items.c, t.failed_attempts.c
        sold = select(c.customer_id).where(c.decision["device_key"].as_string() == device_key)
        failed = select(f.customer_id).where(f.device_key == device_key, f.customer_id.is_not(None))
        return sorted(set(self.conn.scalars(sold)) | set(self.conn.scalars(failed)))

    def devices_of(self, customer_id: str, limit: int) -> list[str]:
        """The device keys this customer's sales and failed attempts came from."""
        c, f = t.items.c, t.failed_attempts.c
        key = c.decision["device_key"].as_string()
        sold = select(key).where(c.customer_id == customer_id, key.is_not(None)).distinct()
        failed = (
            select(f.device_key)
            .where(f.customer_id == customer_id, f.device_key.is_not(None))
            .distinct()
        )
        found = set(self.conn.scalars(sold.limit(limit))) | set(
            self.conn.scalars(failed.limit(limit))
        )
        return sorted(found)[:limit]

    def cases_of(self, customer_id: str, statuses: Sequence[str]) -> list[dict[str, Any]]:
        """Cases with evidence about this customer, newest first."""
        e, k = t.aml_case_evidence.c, t.aml_cases.c
        ids = select(e.case_id).where(e.customer_id == customer_id).distinct()
        q = (
            select(
                k.id, k.kind, k.status, k.total_amount, k.currency, k.evidence_count, k.opened_at
            )
            .where(and_(k.id.in_(ids.scalar_subquery()), k.status.in_(list(statuses))))
            .order_by(k.opened_at.desc(), k.id.desc())
        )
        return [dict(r._mapping) for r in self.conn.execute(q)]

    def phones(self, customer_ids: Sequence[str]) -> dict[str, str]:
        cu = t.customers.c
        ids = sorted(set(customer_ids))
        out: dict[str, str] = {}
        for start in range(0, len(ids), CHUNK):
            rows = self.conn.execute(
                select(cu.id, cu.phone).where(cu.id.in_(ids[start : start + CHUNK]))
            )
            out.update({r.id: r.phone for r in rows})
        return out

    def transfer_attempts(self, payout_id: str) -> int:
        p = t.payouts.c
        n = self.conn.execute(select(p.transfer_attempts).where(p.id == payout_id)).scalar()
        return int(n or 0)
