"""Databases for tests: every test that takes ``db_url`` (or ``engine``) runs
on SQLite (a fresh file) and on PostgreSQL when ``GIFTCASH_TEST_POSTGRES_URL`` is set.

PostgreSQL: one uniquely named database per test session, created on the server and
dropped (``WITH (FORCE)``) at the end; inside it each test that takes ``db_url`` gets a
fresh schema, selected through the connection's ``search_path``, so Alembic and the app
see an empty database and a second run never meets the first one's state.

Upgraded databases (``engine``) are copies of a template upgraded once per session, on
both engines: SQLite copies the file, PostgreSQL makes a database ``TEMPLATE`` the
session's upgraded one (about 0.1 s where running the migrations takes over a second per
test) and drops it after the test.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from giftcash.adapters.db import migrate
from giftcash.adapters.db.engine import make_engine

POSTGRES_ENV = "GIFTCASH_TEST_POSTGRES_URL"

# The quick loop's property tests try fewer examples (`--hypothesis-profile=quick`); the
# full command (.ci/run) keeps Hypothesis' default of 100, or what a test asks for.
settings.register_profile("quick", max_examples=10)

# Tests run at any hour: the banks' nightly window (23:30-00:30 Korean time by default)
# would hold every payout of a test that happens to run then. The bank-hours tests set
# their calendar and their clock themselves (test_bank_hours.py).
os.environ.setdefault("GIFTCASH_BANK_NIGHTLY", "none")

# The API world over fakes (tests/apiworld.py): the ``world`` fixture.
pytest_plugins = ["apiworld"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The PostgreSQL copy of every database test is in the slow tier: the quick loop
    (``-m "not slow"``) runs each database test once, on SQLite; the full run
    (``.ci/run``) runs both engines."""
    for item in items:
        if item.get_closest_marker("postgres") is not None:
            item.add_marker(pytest.mark.slow)


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
def backend(request: pytest.FixtureRequest) -> str:
    """The database engine a test runs on (``db_url`` and ``engine`` share it)."""
    return str(request.param)


@pytest.fixture
def db_url(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """An empty database (no schema yet)."""
    if backend == "sqlite":
        # A folder that does not exist yet: make_engine must create it.
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'var' / 'giftcash.db'}"
    return _fresh_schema_url(request.getfixturevalue("postgres_database_url"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file upgraded to head once per session; tests get copies of it."""
    path = tmp_path_factory.mktemp("template") / "giftcash.db"
    migrate.upgrade(f"sqlite:///{path}")  # disposes its engine: the WAL is checkpointed
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_database_url: str) -> Iterator[str]:
    """A PostgreSQL database upgraded to head once per session (its name); nothing stays
    connected to it, so ``CREATE DATABASE ... TEMPLATE`` may copy it."""
    url = make_url(postgres_database_url)
    name = f"{url.database}_tpl"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        migrate.upgrade(url.set(database=name).render_as_string(hide_password=False))
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def _postgres_copy(database_url: str, template: str) -> Iterator[str]:
    """A new database copied from ``template`` (WAL_LOG: no checkpoint), dropped after."""
    url = make_url(database_url)
    name = f"{url.database}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            strategy = " STRATEGY WAL_LOG" if conn.dialect.server_version_info >= (15,) else ""
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{strategy}'))
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def engine(backend: str, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """An engine on a database upgraded to the head revision (a copy of the template)."""
    with ExitStack() as stack:
        if backend == "sqlite":
            url = request.getfixturevalue("db_url")
            target = Path(make_url(url).database or "")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        else:
            url = stack.enter_context(
                _postgres_copy(
                    request.getfixturevalue("postgres_database_url"),
                    request.getfixturevalue("postgres_template"),
                )
            )
        eng = make_engine(url)
        stack.callback(eng.dispose)
        yield eng
