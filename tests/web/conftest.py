"""Fixtures for the web tests: the app over in-memory fakes, a failing test's report for
the browser tests' screenshots, and for the browser tests the whole demo started
in-process (one per test module) with Chromium (browsing.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browsing import CHROMIUM, DESK_WIDTH, LAUNCH_ARGS, PHONE_WIDTH, checked_page
from fastapi.testclient import TestClient
from websupport import Site

from appcache import app_for
from fakes import FakeBank, FakeIssuer, FakeSms
from giftcash.bootstrap import build_deps
from giftcash.config import Settings
from giftcash.entrypoints import demo as demo_module
from giftcash.entrypoints.servers import free_port


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
    with TestClient(app_for(deps), base_url="http://testserver") as client:
        yield Site(client, deps, issuer, bank, sms)


@pytest.fixture(scope="module")
def demo_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[demo_module.Demo]:
    """The demo (API, web, worker, simulators) with its ``deps`` for what a test must set
    up behind the pages' backs (e.g. another operator)."""
    running = demo_module.start(tmp_path_factory.mktemp("demo"), port=free_port())
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def demo(demo_stack: demo_module.Demo) -> dict:
    return demo_stack.info


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest) -> Iterator[object]:
    """At phone width. A test that expects a refusal names its status:
    ``@pytest.mark.parametrize("page", [403], indirect=True)``."""
    allowed = (request.param,) if hasattr(request, "param") else ()
    with checked_page(browser, request, PHONE_WIDTH, allowed) as pg:
        yield pg


@pytest.fixture
def desk_page(browser, request: pytest.FixtureRequest) -> Iterator[object]:
    with checked_page(browser, request, DESK_WIDTH) as pg:
        yield pg
