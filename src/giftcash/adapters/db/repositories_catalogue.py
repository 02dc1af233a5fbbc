"""The operators' overrides of brands, issuers and rules (``catalogue/``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from giftcash.adapters.db import tables as t


class OperatorOverrides:
    """Rows over the code's defaults; a NULL column means "the default"."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"
        self.written = False  # an override written in this transaction, not yet committed

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

    def version(self) -> tuple[object, int] | None:
        """The engine (whose processes' caches it keys) and the catalogue's version; None
        after an override written in this transaction: what is built from it may yet be
        rolled back, and must not be kept under the number it bumped."""
        if self.written:
            return None
        c = t.catalogue_version.c
        n = self.conn.execute(select(c.version).where(c.id == 1)).scalar()
        return self.conn.engine, int(n or 0)

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
        self._bump()

    def _bump(self) -> None:
        """The version up by one, in the override's transaction (its row lock orders
        concurrent writers on PostgreSQL; SQLite's writers hold the database's)."""
        self.written = True
        v = t.catalogue_version
        ins = (pg_insert if self.pg else sqlite_insert)(v).values(id=1, version=1)
        self.conn.execute(
            ins.on_conflict_do_update(index_elements=["id"], set_={"version": v.c.version + 1})
        )
