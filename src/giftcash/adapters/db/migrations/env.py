"""Alembic environment: metadata from ``tables.py``; the connection comes from
``migrate.py`` (``config.attributes["connection"]``) or, for ``alembic`` run by hand,
from ``GIFTCASH_DATABASE_URL`` through the settings."""

from __future__ import annotations

from typing import Any

from alembic import context

from giftcash.adapters.db.tables import UtcDateTime, metadata

config = context.config


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    # Revisions stay frozen: they must not import the app's types, which may change.
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    from giftcash.bootstrap import make_engine_from_settings
    from giftcash.config import load_settings

    engine = make_engine_from_settings(load_settings(), sqlite_foreign_keys=False)
    try:
        with engine.begin() as conn:
            _configure(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported")
run_migrations_online()
