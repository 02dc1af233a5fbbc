"""The code registry: a sold code (by keyed hash) is stored once, whoever sells it again.

``register`` never raises on a duplicate: it inserts with ``ON CONFLICT DO NOTHING``
(PostgreSQL's and SQLite's, at the driver level; narrower than SQLite's ``INSERT OR IGNORE``,
which would also swallow NOT NULL and CHECK failures) and, when the hash was already
there, answers who registered it first. On PostgreSQL a concurrent registration of the
same hash waits for the first transaction and then sees its row.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from giftcash.adapters.db.items_driver import dbapi_in_transaction, param_mark, processor
from giftcash.adapters.db.ledger_driver import driver_errors
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
        at = processor(self.conn, code_registry.c.created_at)(self._now())
        rows = [(h, i, c, at) for h, i, c in entries]
        if not rows:
            return {}
        # At the driver level (as items_driver): one multi-row INSERT … ON CONFLICT DO
        # NOTHING RETURNING per chunk, its text cached per chunk size, the values flat.
        # SQLAlchemy's insertmanyvalues sent the same statements, building and binding a
        # parameter dict per row first.
        dbapi = dbapi_in_transaction(self.conn)
        inserted: set[str] = set()
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            sql = _register_sql(self.conn.dialect.name, len(chunk))
            with driver_errors(self.conn, sql):
                cur = dbapi.cursor()
                try:
                    cur.execute(sql, [value for row in chunk for value in row])
                    inserted.update(h for (h,) in cur.fetchall())
                finally:
                    cur.close()
        # Rows are inserted in order, so a hash's first entry is the one that got in.
        claimed: set[str] = set()
        duplicates = []
        for h, *_ in rows:
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


_register_sqls: dict[tuple[str, int], str] = {}


def _register_sql(dialect: str, n: int) -> str:
    """``n`` registrations in one INSERT that skips a hash already there and answers the
    hashes it stored (PostgreSQL's and SQLite's ``ON CONFLICT DO NOTHING``: narrower than
    ``INSERT OR IGNORE``, which would also swallow NOT NULL and CHECK failures)."""
    sql = _register_sqls.get((dialect, n))
    if sql is None:
        mark = param_mark(dialect)
        row = f"({mark}, {mark}, {mark}, {mark})"
        values = ", ".join(row for _ in range(n))  # only placeholders go into the text
        sql = _register_sqls[(dialect, n)] = (
            "INSERT INTO code_registry (code_hmac, item_id, customer_id, created_at) VALUES "  # noqa: S608
            + values
            + " ON CONFLICT (code_hmac) DO NOTHING RETURNING code_hmac"
        )
    return sql
