"""Bounded foreign calls (``bounded_calls``), the per-kind head rows that serialise
check-and-record, and the providers' circuit-breaker trips (see abuse/bounds.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from giftcash.adapters.db import tables as t
from giftcash.adapters.db.ids import new_id

KEYS = ("address", "person", "range_key", "account")


class BoundedCalls:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"

    def lock(self, kinds: Sequence[str]) -> None:
        """Hold the head rows of ``kinds`` until the commit (in name order, so two
        transactions locking overlapping kinds cannot deadlock). SQLite's writers are
        serialised already (BEGIN IMMEDIATE)."""
        if not self.pg:
            return
        h = t.bound_heads.c
        for kind in sorted(set(kinds)):
            self.conn.execute(
                pg_insert(t.bound_heads).values(kind=kind, calls=0).on_conflict_do_nothing()
            )
            self.conn.execute(select(h.kind).where(h.kind == kind).with_for_update())

    def count(self, kinds: Sequence[str], since: datetime, key: str | None, value: str) -> int:
        c = t.bounded_calls.c
        q = select(func.count()).where(c.kind.in_(list(kinds)), c.at >= since)
        if key is not None:
            assert key in KEYS
            q = q.where(c[key] == value)
        return int(self.conn.execute(q).scalar_one())

    def nth_oldest(
        self, kinds: Sequence[str], since: datetime, key: str | None, value: str, n: int
    ) -> datetime | None:
        """The ``n``-th oldest (0 first) call counted by ``count`` with these arguments."""
        c = t.bounded_calls.c
        q = select(c.at).where(c.kind.in_(list(kinds)), c.at >= since)
        if key is not None:
            q = q.where(c[key] == value)
        return self.conn.execute(q.order_by(c.at).offset(max(n, 0)).limit(1)).scalar()

    def add(self, id: str, kind: str, at: datetime, **keys: str | None) -> None:
        assert set(keys) <= set(KEYS)
        self.conn.execute(insert(t.bounded_calls).values(id=id, kind=kind, at=at, **keys))
        ins = pg_insert if self.pg else sqlite_insert
        h = t.bound_heads.c
        self.conn.execute(ins(t.bound_heads).values(kind=kind, calls=0).on_conflict_do_nothing())
        self.conn.execute(update(t.bound_heads).where(h.kind == kind).values(calls=h.calls + 1))

    def tripped_until(self, provider: str, now: datetime) -> datetime | None:
        b = t.breaker_trips.c
        q = select(func.max(b.until)).where(b.provider == provider, b.until > now)
        return self.conn.execute(q).scalar()

    def trip(self, id: str, provider: str, now: datetime, until: datetime, calls: int) -> None:
        self.conn.execute(
            insert(t.breaker_trips).values(
                id=id, provider=provider, tripped_at=now, until=until, calls=calls
            )
        )

    def usage(self, kinds: Sequence[str]) -> int:
        """Every call of ``kinds`` ever recorded (the head rows' totals)."""
        h = t.bound_heads.c
        q = select(func.coalesce(func.sum(h.calls), 0)).where(h.kind.in_(list(kinds)))
        return int(self.conn.execute(q).scalar_one())


class Failures:
    """Failed attempts (invalid codes, bad logins, bad SMS codes) for the brute-force guard."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self,
        kind: str,
        now: datetime,
        *,
        customer_id: str | None = None,
        device_key: str | None = None,
    ) -> None:
        self.conn.execute(
            insert(t.failed_attempts).values(
                id=new_id(), kind=kind, customer_id=customer_id, device_key=device_key, at=now
            )
        )

    def count(
        self,
        *,
        since: datetime,
        customer_id: str | None = None,
        device_key: str | None = None,
        kinds: Sequence[str] | None = None,
    ) -> int:
        c = t.failed_attempts.c
        q = select(func.count()).where(c.at >= since)
        if kinds is not None:
            q = q.where(c.kind.in_(list(kinds)))
        if customer_id is not None:
            q = q.where(c.customer_id == customer_id)
        if device_key is not None:
            q = q.where(c.device_key == device_key)
        return int(self.conn.execute(q).scalar_one())
