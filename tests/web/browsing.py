"""What the browser tests share: Debian's Chromium driven by Playwright, the screen sizes,
the screenshots folder, and the rule that a test whose page reported an error fails.

The fixtures that use these live in conftest.py (``demo_stack``, ``demo``, ``browser``,
``page`` at phone width, ``desk_page`` at desk width)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
RESULTS = Path(__file__).resolve().parents[2] / "test-results"
PHONE_WIDTH = {"width": 375, "height": 812}
DESK_WIDTH = {"width": 1366, "height": 900}
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
]

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"
)


def shot(pg, name: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(RESULTS / f"{name}.png"), full_page=True)


def _unexpected(message, allowed: tuple[int, ...]) -> bool:
    """A console error other than the 422 a refused form answers with, or a status the test
    expects (CSP refusals, script errors and failed loads all count)."""
    expected = any(f"status of {status}" in message.text for status in (422, *allowed))
    return message.type == "error" and not expected


@contextmanager
def checked_page(
    browser, request: pytest.FixtureRequest, viewport: dict, allowed: tuple[int, ...] = ()
) -> Iterator[object]:
    """A fresh browser context's page; the test fails if the page reported an error (other
    than a refusal with a status in ``allowed``), and a failing test leaves a screenshot of
    the page as it was."""
    context = browser.new_context(viewport=viewport, locale="ko-KR")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if _unexpected(m, allowed) else None)
    try:
        yield pg
        assert not errors, f"the browser reported errors: {errors}"  # CSP refusals land here
    finally:
        report = getattr(request.node, "report_call", None)
        if report is None or report.failed:
            RESULTS.mkdir(exist_ok=True)
            pg.screenshot(path=str(RESULTS / f"{request.node.name}-failed.png"), full_page=True)
        context.close()
