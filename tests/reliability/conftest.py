"""Reliability runs get a database: ``None`` for an SQLite file the harness makes per run,
or with ``GIFTCASH_TEST_POSTGRES_URL`` set also a PostgreSQL database (made for the test
session) in which each run makes and drops its own schema."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str | None:
    if request.param == "sqlite":
        return None
    return str(request.getfixturevalue("postgres_database_url"))
