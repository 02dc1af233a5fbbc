"""Item and item-event rows written at the driver level: the bulk path of intake.

SQLAlchemy's executemany builds a parameter dict per row and runs every value through its
type's bind processor, which cost more than the database's own work for a 10,000-code
submission. Here each row is serialised once into a plain tuple, with the very processors
SQLAlchemy would have used for the columns that need one (aware UTC timestamps, JSON), and
the fixed SQL text runs with the DB-API cursor's ``executemany`` on the unit of work's own
connection, inside its transaction (as ``ledger_driver`` does for the ledger). psycopg 3
pipelines an ``executemany``; sqlite3 runs it in one prepared statement.

The rows are the same the SQLAlchemy ``insert`` wrote (a test compares them column by
column on both engines), and the driver's errors come out as SQLAlchemy's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, Table

from giftcash.adapters.db import tables as t
from giftcash.adapters.db.ledger_driver import driver_errors
from giftcash.service.ports.records import NewItem

_processors: dict[tuple[str, str, str], Callable[[Any], Any]] = {}


def processor(conn: Connection, column: Column[Any]) -> Callable[[Any], Any]:
    """What SQLAlchemy binds for ``column`` on this database (the identity if nothing)."""
    key = (conn.dialect.name, column.table.name, column.name)
    bind = _processors.get(key)
    if bind is None:
        found = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        bind = _processors[key] = found if found is not None else _same
    return bind


def _same(value: Any) -> Any:
    return value


def json_processor(conn: Connection, column: Column[Any]) -> Callable[[Any], Any]:
    """``processor`` of a JSON column, with None (bound as JSON ``null``, not SQL NULL,
    as SQLAlchemy does) bound once instead of serialised per row."""
    bind = processor(conn, column)
    null = bind(None)
    return lambda value: null if value is None else bind(value)


def insert_sql(conn: Connection, table: Table, columns: Sequence[str]) -> str:
    """``INSERT INTO table (columns) VALUES (...)`` in the driver's parameter style."""
    for name in columns:
        assert name in table.c, (table.name, name)  # only known column names go in the text
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    marks = ", ".join(mark for _ in columns)
    return f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608


def dbapi_in_transaction(conn: Connection) -> Any:
    """The connection's DB-API connection, inside the unit of work's transaction: begun
    here when nothing began it yet (after a ``commit()`` SQLAlchemy would begin the next
    one on its next statement; a driver-level statement is not one of its own)."""
    if not conn.in_transaction():
        conn.begin()
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    return dbapi


def executemany(conn: Connection, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """``sql`` for each row on the connection's DB-API cursor, in its transaction."""
    dbapi = dbapi_in_transaction(conn)
    with driver_errors(conn, sql):
        cur = dbapi.cursor()
        try:
            cur.executemany(sql, rows)
        finally:
            cur.close()


ITEM_EVENT_COLUMNS = ("id", "item_id", "from_status", "to_status", "at", "detail")
_event_sql: dict[str, str] = {}


def insert_events(
    conn: Connection,
    ids: Sequence[str],
    changes: Sequence[tuple[str, str | None, str, str | None]],
    now: datetime,
) -> None:
    """One ``item_events`` row per (item id, from, to, note), ``ids[i]`` for the i-th."""
    assert len(ids) == len(changes)
    sql = _event_sql.get(conn.dialect.name)
    if sql is None:
        sql = _event_sql[conn.dialect.name] = insert_sql(conn, t.item_events, ITEM_EVENT_COLUMNS)
    at = processor(conn, t.item_events.c.at)(now)
    detail = json_processor(conn, t.item_events.c.detail)
    executemany(
        conn,
        sql,
        [
            (id_, item_id, old, new, at, detail({"code": note} if note else None))
            for id_, (item_id, old, new, note) in zip(ids, changes, strict=True)
        ],
    )


# The columns intake writes (``attempts`` and the rest keep their defaults), in the order
# of ``insert_items``' tuples.
ITEM_COLUMNS = (
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
    "code_enc",
    "pin_enc",
    "key_id",
    "code_hmac",
    "masked_code",
    "decline_code",
    "decline_message",
    "review_reason",
    "flags",
    "hold_until",
    "warning",
    "decision",
    "created_at",
    "updated_at",
)
# every field of a new item is written: a field added to NewItem must be added here too
assert set(ITEM_COLUMNS) == {f.name for f in fields(NewItem)} | {"created_at", "updated_at"}
_item_sql: dict[str, str] = {}


def insert_items(conn: Connection, items: Sequence[NewItem], now: datetime) -> None:
    """One ``items`` row per new item, created and updated ``now``."""
    sql = _item_sql.get(conn.dialect.name)
    if sql is None:
        sql = _item_sql[conn.dialect.name] = insert_sql(conn, t.items, ITEM_COLUMNS)
    c = t.items.c
    at = processor(conn, c.created_at)(now)
    time_of = processor(conn, c.hold_until)
    flags_of = json_processor(conn, c.flags)
    decision_of = json_processor(conn, c.decision)
    executemany(
        conn,
        sql,
        [
            (
                it.id,
                it.submission_id,
                it.customer_id,
                it.brand_id,
                it.issuer,
                it.currency,
                it.face_value,
                it.fee,
                it.payout,
                it.funding_source,
                it.status,
                it.code_enc,
                it.pin_enc,
                it.key_id,
                it.code_hmac,
                it.masked_code,
                it.decline_code,
                it.decline_message,
                it.review_reason,
                flags_of(it.flags),
                None if it.hold_until is None else time_of(it.hold_until),
                it.warning,
                decision_of(it.decision),
                at,
                at,
            )
            for it in items
        ],
    )
