"""Customers as the operators look them up (``identity/customer_lookup.py``): by phone
suffix or name, with their items and payouts; and the item columns an operator may see.

Nothing here writes. No query selects an encrypted column or a keyed hash: codes leave
as their masked form only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, or_, select

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
