"""The code registry: a sold code (by keyed hash) is stored once, whoever sells it again.

``register`` never raises on a duplicate: it inserts with ``ON CONFLICT DO NOTHING``
(PostgreSQL's and SQLite's dialect inserts; narrower than SQLite's ``INSERT OR IGNORE``,
which would also swallow NOT NULL and CHECK failures) and, when the hash was already
there, answers who registered it first. On PostgreSQL a concurrent registration of the
same hash waits for the first transaction and then sees its row.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from giftcash.adapters.db.engine import is_sqlite
from giftcash.adapters.db.ledger_repo import CHUNK, Now, utc_now
from giftcash.adapters.db.tables import code_registry
from giftcash.service.ports.records import RegisteredBy


class CodeRegistry:
    def __init__(self, conn: Connection, now: Now = utc_now) -> None:
        self.conn = conn
        self._now = now

    def register(self, code_hmac: str, item_id: str, customer_id: str) -> RegisteredBy | None:
        """None: registered now. Otherwise who registered the code first (which may be this
        very item, when a command is replayed: compare ``item_id``)."""
        return self.register_many([(code_hmac, item_id, customer_id)]).get(code_hmac)

    def register_many(self, entries: Iterable[tuple[str, str, str]]) -> dict[str, RegisteredBy]:
        """Register ``(code_hmac, item_id, customer_id)`` entries in one statement per
        chunk; answers the hashes that were already registered, with their first
        registrant. A hash twice in ``entries`` counts its second entry as a duplicate."""
        now = self._now()
        rows = [
            {"code_hmac": h, "item_id": i, "customer_id": c, "created_at": now}
            for h, i, c in entries
        ]
        if not rows:
            return {}
        # One statement, executed with the rows as parameters: SQLAlchemy compiles it once
        # (cached) and sends the rows in batches ("insertmanyvalues"), collecting RETURNING
        # from each. A statement built with .values(rows) was compiled anew for every
        # chunk, bind by bind, which cost more than the rest of a submission.
        stmt = (
            self._insert()
            .on_conflict_do_nothing(index_elements=["code_hmac"])
            .returning(code_registry.c.code_hmac)
        )
        inserted = set(self.conn.scalars(stmt, rows))
        # Rows are inserted in order, so a hash's first entry is the one that got in.
        claimed: set[str] = set()
        duplicates = []
        for r in rows:
            h = r["code_hmac"]
            if h in inserted and h not in claimed:
                claimed.add(h)
            else:
                duplicates.append(h)
        return self.registered_by_many(duplicates)

    def registered_by(self, code_hmac: str) -> RegisteredBy | None:
        return self.registered_by_many([code_hmac]).get(code_hmac)

    def registered_by_many(self, hashes: Iterable[str]) -> dict[str, RegisteredBy]:
        wanted = sorted(set(hashes))
        out: dict[str, RegisteredBy] = {}
        c = code_registry.c
        for start in range(0, len(wanted), CHUNK):
            query = select(c.code_hmac, c.item_id, c.customer_id, c.created_at).where(
                c.code_hmac.in_(wanted[start : start + CHUNK])
            )
            for r in self.conn.execute(query):
                out[r.code_hmac] = RegisteredBy(r.code_hmac, r.item_id, r.customer_id, r.created_at)
        return out

    def _insert(self) -> Any:
        dialect = sqlite if is_sqlite(self.conn) else postgresql
        return dialect.insert(code_registry)
