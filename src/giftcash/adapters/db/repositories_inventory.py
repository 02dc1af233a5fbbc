"""Units of inventory (resale, ``inventory_units``): the port ``InventoryRepo``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from giftcash.adapters.db import tables as t
from giftcash.domain.states import Moved, UnitStatus
from giftcash.service.ports.records import InventoryUnit, SealedCode

_FIELDS = tuple(InventoryUnit.__dataclass_fields__)


class Inventory:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_many(self, units: Sequence[InventoryUnit], now: datetime) -> None:
        if units:
            self.conn.execute(
                insert(t.inventory_units), [{**asdict(u), "updated_at": now} for u in units]
            )

    def for_items(self, item_ids: Sequence[str]) -> dict[str, InventoryUnit]:
        c = t.inventory_units.c
        if not item_ids:
            return {}
        rows = self.conn.execute(
            select(*(getattr(c, f) for f in _FIELDS)).where(c.item_id.in_(sorted(set(item_ids))))
        )
        return {r.item_id: InventoryUnit(**r._mapping) for r in rows}

    def in_status(self, status: str, limit: int = 500) -> list[InventoryUnit]:
        c = t.inventory_units.c
        rows = self.conn.execute(
            select(*(getattr(c, f) for f in _FIELDS))
            .where(c.status == status)
            .order_by(c.created_at, c.id)
            .limit(limit)
        )
        return [InventoryUnit(**r._mapping) for r in rows]

    def stocked(self, brand_id: str, face_value: int, limit: int) -> list[InventoryUnit]:
        c = t.inventory_units.c
        rows = self.conn.execute(
            select(*(getattr(c, f) for f in _FIELDS))
            .where(c.status == "stocked", c.brand_id == brand_id, c.face_value == face_value)
            .order_by(c.expires_at, c.created_at, c.id)
            .limit(limit)
        )
        return [InventoryUnit(**r._mapping) for r in rows]

    def apply(
        self, events: Sequence[Moved[UnitStatus]], order_id: str | None, now: datetime
    ) -> list[str]:
        c = t.inventory_units.c
        moved: list[str] = []
        # in key order, so two orders reaching for the same units lock them alike
        for e in sorted(events, key=lambda e: e.id):
            result = self.conn.execute(
                update(t.inventory_units)
                .where(c.id == e.id, c.status == e.source.value)
                .values(status=e.target.value, order_id=order_id, updated_at=now)
            )
            if result.rowcount == 1:
                moved.append(e.id)
        return moved

    def of_order(self, order_id: str) -> list[InventoryUnit]:
        c = t.inventory_units.c
        rows = self.conn.execute(
            select(*(getattr(c, f) for f in _FIELDS)).where(c.order_id == order_id).order_by(c.id)
        )
        return [InventoryUnit(**r._mapping) for r in rows]

    def sealed(self, unit_ids: Sequence[str]) -> dict[str, SealedCode]:
        u, i = t.inventory_units.c, t.items.c
        if not unit_ids:
            return {}
        rows = self.conn.execute(
            select(
                u.id.label("unit_id"),
                i.id.label("item_id"),
                i.customer_id.label("seller_id"),
                i.issuer,
                i.masked_code,
                i.code_enc,
                i.pin_enc,
                i.key_id,
            )
            .join(t.items, i.id == u.item_id)
            .where(u.id.in_(sorted(set(unit_ids))))
        )
        return {r.unit_id: SealedCode(**r._mapping) for r in rows}
