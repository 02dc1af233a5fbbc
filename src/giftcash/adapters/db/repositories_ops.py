"""Repositories for running the exchange (``ops/``, ``reports/``): the figures behind
reports, the dashboard and metrics, the support view of an item, and the workers'
heartbeats. Reconciliation's and key rotation's are ``repositories_reconcile.py`` and
``repositories_keys.py``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from giftcash.adapters.db import tables as t
from giftcash.adapters.db.repositories_reconcile import Reconciliation

CHUNK = 500


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class Figures:
    """Read-only figures for reports and the metrics endpoint."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def items_between(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """Items received in [since, until) with the first time each was paid."""
        i, e = t.items.c, t.item_events.c
        paid_at = (
            select(e.item_id, func.min(e.at).label("paid_at"))
            .where(e.to_status == "paid")
            .group_by(e.item_id)
            .subquery()
        )
        rows = self.conn.execute(
            select(
                i.id,
                i.brand_id,
                i.issuer,
                i.currency,
                i.face_value,
                i.payout,
                i.status,
                i.decline_code,
                i.created_at,
                paid_at.c.paid_at,
            )
            .outerjoin(paid_at, paid_at.c.item_id == i.id)
            .where(i.created_at >= since, i.created_at < until)
            .order_by(i.created_at, i.id)
        )
        return [dict(r._mapping) for r in rows]

    def items_by_status(self) -> dict[str, int]:
        c = t.items.c
        return {
            s: int(n)
            for s, n in self.conn.execute(select(c.status, func.count()).group_by(c.status))
        }

    def payouts_by_status(self) -> dict[str, int]:
        c = t.payouts.c
        return {
            s: int(n)
            for s, n in self.conn.execute(select(c.status, func.count()).group_by(c.status))
        }

    def payouts_unconfirmed(self) -> int:
        """Sent payouts the bank gave no final answer for after many checks."""
        c = t.payouts.c
        q = select(func.count()).where(c.status == "sent", c.failure_code == "unconfirmed")
        return int(self.conn.execute(q).scalar_one())

    def oldest_waiting(self, statuses: Iterable[str]) -> dict[str, datetime]:
        """Per status, the ``updated_at`` of the item that has waited longest in it."""
        c = t.items.c
        rows = self.conn.execute(
            select(c.status, func.min(c.updated_at))
            .where(c.status.in_(list(statuses)))
            .group_by(c.status)
        )
        return {s: at for s, at in rows if at is not None}

    def oldest_payout_waiting(self, statuses: Iterable[str]) -> dict[str, datetime]:
        c = t.payouts.c
        rows = self.conn.execute(
            select(c.status, func.min(c.created_at))
            .where(c.status.in_(list(statuses)))
            .group_by(c.status)
        )
        return {s: at for s, at in rows if at is not None}

    def latest_heartbeat(self) -> datetime | None:
        return self.conn.execute(select(func.max(t.worker_heartbeats.c.seen_at))).scalar()

    def heartbeats(self) -> list[tuple[str, datetime]]:
        c = t.worker_heartbeats.c
        return [(r.worker_id, r.seen_at) for r in self.conn.execute(select(c.worker_id, c.seen_at))]

    def issuer_balances(self) -> dict[str, int]:
        return Reconciliation(self.conn).issuer_balances()

    def exposure_caps(self) -> dict[str, int | None]:
        c = t.issuer_overrides.c
        return {
            r.issuer: r.exposure_cap for r in self.conn.execute(select(c.issuer, c.exposure_cap))
        }

    def payout_latencies_s(self, since: datetime, until: datetime) -> list[float]:
        """Seconds from creation to the bank's confirmation, less the time its bank was
        closed (``bank_window_s``: the promise of minutes holds outside the windows), for
        payouts confirmed in [since, until)."""
        p = t.payouts.c
        rows = self.conn.execute(
            select(p.created_at, p.confirmed_at, p.bank_window_s).where(
                p.confirmed_at.is_not(None), p.confirmed_at >= since, p.confirmed_at < until
            )
        )
        return [
            max((r.confirmed_at - r.created_at).total_seconds() - (r.bank_window_s or 0), 0.0)
            for r in rows
        ]


class Support:
    """What an operator looks at by hand: one item with its history, one payout."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def item(self, item_id: str) -> dict[str, Any] | None:
        i = t.items.c
        hidden = {"code_enc", "pin_enc", "code_hmac", "key_id", "redeem_key"}
        cols = [c for c in t.items.c if c.name not in hidden]
        row = self.conn.execute(select(*cols).where(i.id == item_id)).first()
        return dict(row._mapping) if row else None

    def item_events(self, item_id: str) -> list[dict[str, Any]]:
        e = t.item_events.c
        rows = self.conn.execute(
            select(e.from_status, e.to_status, e.at, e.detail)
            .where(e.item_id == item_id)
            .order_by(e.at, e.id)
        )
        return [dict(r._mapping) for r in rows]

    def transfers_for(self, refs: Sequence[str]) -> list[dict[str, Any]]:
        lt, lp = t.ledger_transfers.c, t.ledger_postings.c
        rows = self.conn.execute(
            select(lt.id, lt.seq, lt.kind, lt.ref, lt.created_at, lp.account, lp.amount)
            .join(t.ledger_postings, lp.transfer_id == lt.id)
            .where(lt.ref.in_(list(refs)))
            .order_by(lt.seq, lp.account)
        )
        return [dict(r._mapping) for r in rows]

    def payout(self, payout_id: str) -> dict[str, Any] | None:
        p = t.payouts.c
        row = self.conn.execute(select(t.payouts).where(p.id == payout_id)).first()
        return dict(row._mapping) if row else None

    def make_payout_due(self, payout_id: str, statuses: Sequence[str], now: datetime) -> bool:
        """Clear a payout's backoff and lease so the next worker pass takes it."""
        p = t.payouts.c
        n = self.conn.execute(
            update(t.payouts)
            .where(p.id == payout_id, p.status.in_(list(statuses)))
            .values(next_attempt_at=None, lease_owner=None, lease_expires_at=None, updated_at=now)
        ).rowcount
        return n == 1


class Workers:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"

    def beat(self, worker_id: str, now: datetime) -> None:
        ins = (pg_insert if self.pg else sqlite_insert)(t.worker_heartbeats).values(
            worker_id=worker_id, seen_at=now
        )
        self.conn.execute(
            ins.on_conflict_do_update(index_elements=["worker_id"], set_={"seen_at": now})
        )

    def latest(self) -> datetime | None:
        from sqlalchemy import func

        return self.conn.execute(select(func.max(t.worker_heartbeats.c.seen_at))).scalar()
