"""Alembic, configured in code (no alembic.ini): ``upgrade(url)`` and friends.

The migration scripts ship inside the package (``migrations/``). On SQLite a migration
runs with foreign keys off, because batch mode rebuilds a table by copying it and dropping
the original, which enforced keys would refuse; the keys are checked once it is done.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from giftcash.adapters.db.engine import is_sqlite, make_engine
from giftcash.domain.errors import DomainError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class ForeignKeyViolations(RuntimeError):
    """A migration left rows whose foreign keys point nowhere (SQLite only)."""


class DatabaseUnavailable(DomainError):
    code = "database_unavailable"
    kind = "unavailable"


class SchemaNotCurrent(DomainError):
    code = "schema_not_current"
    kind = "unavailable"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str, revision: str = "head") -> None:
    _run(url, lambda cfg: command.upgrade(cfg, revision))


def downgrade(url: str, revision: str) -> None:
    _run(url, lambda cfg: command.downgrade(cfg, revision))


def current_revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except OperationalError as e:
        raise _unavailable(e) from None
    finally:
        engine.dispose()


def require_current_schema(url: str) -> None:
    """Raise ``SchemaNotCurrent`` unless the database is at the code's head revision."""
    have, want = current_revision(url), head_revision()
    if have != want:
        raise SchemaNotCurrent(
            f"the database schema is at revision {have or 'none'}, the code needs {want}: "
            "run `giftcash db upgrade`",
            have=have,
            want=want,
        )


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _run(url: str, action: object) -> None:
    engine = make_engine(url, sqlite_foreign_keys=False)
    try:
        # One transaction for the whole run: DDL is transactional on both engines.
        with engine.begin() as conn:
            action(alembic_config(conn))  # type: ignore[operator]
            if is_sqlite(conn):
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    tables = sorted({row[0] for row in broken})
                    raise ForeignKeyViolations(f"foreign keys broken in {tables}")
    except OperationalError as e:
        raise _unavailable(e) from None
    finally:
        engine.dispose()


def _unavailable(e: OperationalError) -> DatabaseUnavailable:
    # The driver's first line names the problem (refused, no such database, locked);
    # the URL, which may hold a password, is not repeated.
    first_line = str(e.orig).strip().splitlines()[0] if e.orig else type(e).__name__
    return DatabaseUnavailable(f"cannot use the database: {first_line}")
