"""Item and item-event rows written at the driver level: the bulk path of intake.

SQLAlchemy's executemany builds a parameter dict per row and runs every value through its
type's bind processor, which cost more than the database's own work for a 10,000-code
submission. Here each row is serialised once into a plain tuple, with the very processors
SQLAlchemy would have used for the columns that need one (aware UTC timestamps, JSON), and
the rows go to the unit of work's own DB-API connection, inside its transaction (as
``ledger_driver`` does for the ledger): on SQLite one fixed INSERT run with the cursor's
``executemany`` (one prepared statement); on PostgreSQL ``COPY … FROM STDIN`` (psycopg's
``cursor.copy``), which cost the client less CPU than the pipelined executemany of the
same INSERT (the commit message has the figures); COPY checks the constraints and foreign
keys and fires triggers as INSERT does.

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


def param_mark(dialect: str) -> str:
    """The DB-API parameter placeholder: sqlite3's ``?``, psycopg's ``%s``."""
    return "?" if dialect == "sqlite" else "%s"


def _column_list(table: Table, columns: Sequence[str]) -> str:
    for name in columns:
        assert name in table.c, (table.name, name)  # only known column names go in the text
    return ", ".join(columns)


def dbapi_in_transaction(conn: Connection) -> Any:
    """The connection's DB-API connection, inside the unit of work's transaction: begun
    here when nothing began it yet (after a ``commit()`` SQLAlchemy would begin the next
    one on its next statement; a driver-level statement is not one of its own)."""
    if not conn.in_transaction():
        conn.begin()
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    return dbapi


def _executemany(conn: Connection, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """``sql`` for each row on the connection's DB-API cursor, in its transaction."""
    dbapi = dbapi_in_transaction(conn)
    with driver_errors(conn, sql):
        cur = dbapi.cursor()
        try:
            cur.executemany(sql, rows)
        finally:
            cur.close()


def write_rows(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """``rows`` (values of ``columns``) into ``table``, in the unit of work's transaction:
    on PostgreSQL with ``COPY … FROM STDIN`` (constraints, foreign keys and triggers hold
    as for INSERT), on SQLite with the cursor's ``executemany`` of one INSERT."""
    if conn.dialect.name == "sqlite":
        _executemany(conn, _insert_sql(conn, table, columns), rows)
        return
    dbapi = dbapi_in_transaction(conn)
    statement = _copy_sql(table, columns)
    with driver_errors(conn, statement):
        cur = dbapi.cursor()
        try:
            with cur.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cur.close()


_insert_sqls: dict[tuple[str, str, tuple[str, ...]], str] = {}


def _insert_sql(conn: Connection, table: Table, columns: Sequence[str]) -> str:
    """``INSERT INTO table (columns) VALUES (...)`` in the driver's parameter style, made
    once per database, table and columns."""
    key = (conn.dialect.name, table.name, tuple(columns))
    sql = _insert_sqls.get(key)
    if sql is None:
        marks = ", ".join(param_mark(conn.dialect.name) for _ in columns)
        cols = _column_list(table, columns)
        sql = _insert_sqls[key] = f"INSERT INTO {table.name} ({cols}) VALUES ({marks})"  # noqa: S608
    return sql


def _copy_sql(table: Table, columns: Sequence[str]) -> str:
    return f"COPY {table.name} ({_column_list(table, columns)}) FROM STDIN"


ITEM_EVENT_COLUMNS = ("id", "item_id", "from_status", "to_status", "at", "detail")


def insert_events(
    conn: Connection,
    ids: Sequence[str],
    changes: Sequence[tuple[str, str | None, str, str | None]],
    now: datetime,
) -> None:
    """One ``item_events`` row per (item id, from, to, note), ``ids[i]`` for the i-th."""
    assert len(ids) == len(changes)
    at = processor(conn, t.item_events.c.at)(now)
    detail = json_processor(conn, t.item_events.c.detail)
    write_rows(
        conn,
        t.item_events,
        ITEM_EVENT_COLUMNS,
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


def insert_items(conn: Connection, items: Sequence[NewItem], now: datetime) -> None:
    """One ``items`` row per new item, created and updated ``now``."""
    c = t.items.c
    at = processor(conn, c.created_at)(now)
    time_of = processor(conn, c.hold_until)
    flags_of = json_processor(conn, c.flags)
    decision_of = json_processor(conn, c.decision)
    write_rows(
        conn,
        t.items,
        ITEM_COLUMNS,
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
