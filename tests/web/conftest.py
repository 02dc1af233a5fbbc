"""Fixtures for the web tests: the app over in-memory fakes, and a failing test's report
for the browser tests' screenshots."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from websupport import Site

from fakes import FakeBank, FakeIssuer, FakeSms
from giftcash.bootstrap import build_deps
from giftcash.config import Settings
from giftcash.entrypoints.api.app import create_app


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def site(engine, tmp_path) -> Iterator[Site]:
    issuer, bank, sms = FakeIssuer(), FakeBank(), FakeSms()
    settings = Settings(data_dir=tmp_path, database_url=str(engine.url))
    deps = build_deps(
        settings, engine=engine, issuer=issuer, bank=bank, sms=sms, fast_passwords=True
    )
    with TestClient(create_app(deps), base_url="http://testserver") as client:
        yield Site(client, deps, issuer, bank, sms)
