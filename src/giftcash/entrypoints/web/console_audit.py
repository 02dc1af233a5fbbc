"""The audit log (finance and admin), newest first, with whether the whole hash chain
verifies right now and the head to publish."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from starlette.responses import Response

from giftcash.audit import pages as audit_pages
from giftcash.entrypoints.web.console_pages import allow, console_errors, render_console, router
from giftcash.entrypoints.web.security import deps_of

audit = router()

PAGE_SIZE = 50
DETAIL_CHARS = 400


def detail_text(detail: dict[str, Any] | None) -> str:
    """A record's detail as compact JSON, cut short for the table (the record's hash
    covers all of it; the API serves it whole)."""
    if not detail:
        return ""
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS - 1] + "…"


@audit.get("/audit")
@console_errors
def audit_page(request: Request, before: str = "") -> Response:
    allow(request, "audit")
    page = audit_pages.audit_page(deps_of(request), cursor=before[:18] or None, limit=PAGE_SIZE)
    context = {"page": page, "detail_text": detail_text, "first_page": not before}
    return render_console(request, "console/audit.html", context)
