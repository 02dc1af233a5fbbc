"""The audit log (finance and admin) as a table filtered by actor, action, target kind and
date range, newest first, each target linked to its page; with whether the whole hash
chain verifies right now and the head to publish."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from starlette.responses import Response

from giftcash.audit import pages as audit_pages
from giftcash.entrypoints.web.console_pages import allow, console_errors, render_console, router
from giftcash.entrypoints.web.security import deps_of
from giftcash.service import errors

audit = router()

PAGE_SIZE = 50
DETAIL_CHARS = 400

# Where a target's page is: (kind -> path pattern, the area that opens it).
TARGET_PAGES = {
    "customer": ("/admin/customers/{id}", "customers"),
    "item": ("/admin/items/{id}", "items"),
    "payout": ("/admin/payouts/{id}", "payouts"),
    "case": ("/admin/cases/{id}", "cases"),
    "brand": ("/admin/brands", "brands"),
    "issuer": ("/admin/brands", "brands"),
}


def detail_text(detail: dict[str, Any] | None) -> str:
    """A record's detail as compact JSON, cut short for the table (the record's hash
    covers all of it; the API serves it whole)."""
    if not detail:
        return ""
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS - 1] + "…"


def target_link(subject: str | None) -> tuple[str, str] | None:
    """(href, area) of a record's target, when it has a page."""
    kind, _, ident = (subject or "").partition(":")
    if kind not in TARGET_PAGES or not ident:
        return None
    path, area = TARGET_PAGES[kind]
    return path.format(id=ident), area


def _day(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise errors.InvalidInput("a date is YYYY-MM-DD", field=name) from None


@audit.get("/audit")
@console_errors
def audit_page(
    request: Request,
    before: str = "",
    actor: str = "",
    action: str = "",
    target: str = "",
    since: str = "",
    until: str = "",
) -> Response:
    op = allow(request, "audit")
    f = audit_pages.AuditFilter(
        actor=actor.strip()[:64],
        action=action.strip()[:64],
        target_kind=target if target in audit_pages.AUDIT_TARGETS else "",
        since=_day(since, "since"),
        until=_day(until, "until"),
    )
    page = audit_pages.audit_search(
        deps_of(request), f, cursor=before[:18] or None, limit=PAGE_SIZE
    )
    query = {
        k: v
        for k, v in {
            "actor": f.actor,
            "action": f.action,
            "target": f.target_kind,
            "since": since[:10],
            "until": until[:10],
        }.items()
        if v
    }

    def link(subject: str | None) -> str | None:
        found = target_link(subject)
        return found[0] if found and op.may(console_pages_area(found[1])) else None

    context = {
        "page": page,
        "f": f,
        "since": since[:10],
        "until": until[:10],
        "targets": audit_pages.AUDIT_TARGETS,
        "detail_text": detail_text,
        "target_href": link,
        "first_page": not before,
        "filtered": bool(query),
        "older": "/admin/audit?" + urlencode({**query, "before": page.next_cursor or ""}),
    }
    return render_console(request, "console/audit.html", context)


def console_pages_area(area: str) -> tuple[str, ...]:
    from giftcash.entrypoints.web.console_pages import AREAS

    return AREAS[area]
