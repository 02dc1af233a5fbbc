"""Databases for tests: every test that takes ``db_url`` (or ``engine``) runs
on SQLite (a fresh file) and on PostgreSQL when ``GIFTCASH_TEST_POSTGRES_URL`` is set.

PostgreSQL: one uniquely named database per test session, created on the server and
dropped (``WITH (FORCE)``) at the end; inside it each test gets a fresh schema, selected
through the connection's ``search_path``, so Alembic and the app see an empty database and
a second run never meets the first one's state.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from giftcash.adapters.db import migrate
from giftcash.adapters.db.engine import make_engine

POSTGRES_ENV = "GIFTCASH_TEST_POSTGRES_URL"

# The API world over fakes (tests/apiworld.py): the ``world`` fixture.
pytest_plugins = ["apiworld"]


@pytest.fixture(scope="session")
def postgres_database_url() -> Iterator[str]:
    server_url = os.environ.get(POSTGRES_ENV)
    if not server_url:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    name = f"giftcash_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _fresh_schema_url(database_url: str) -> str:
    schema = f"t_{uuid.uuid4().hex[:16]}"
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        engine.dispose()
    url = make_url(database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An empty database (no schema yet)."""
    if request.param == "sqlite":
        # A folder that does not exist yet: make_engine must create it.
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'var' / 'giftcash.db'}"
    return _fresh_schema_url(request.getfixturevalue("postgres_database_url"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file upgraded to head once per session; tests get copies of it."""
    path = tmp_path_factory.mktemp("template") / "giftcash.db"
    migrate.upgrade(f"sqlite:///{path}")  # disposes its engine: the WAL is checkpointed
    return path


@pytest.fixture
def engine(db_url: str, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """An engine on a database upgraded to the head revision."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        target = Path(url.database or "")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
    else:
        migrate.upgrade(db_url)
    eng = make_engine(db_url)
    try:
        yield eng
    finally:
        eng.dispose()
