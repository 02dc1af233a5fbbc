"""The review queue (reviewers and admin): each item in review with its evidence, approved
or declined with a reason; and the items decided lately, followed live to where they end
(paid, declined), so a reviewer sees what their decision did."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from starlette.responses import Response

from giftcash.domain.banks import BANKS
from giftcash.domain.brands import brand_index
from giftcash.entrypoints.web import form_tokens
from giftcash.entrypoints.web.console_customers import dashed_phone
from giftcash.entrypoints.web.console_pages import (
    CONDITIONS,
    FINDINGS,
    FLAGS,
    ITEM_STATES,
    OPERATOR,
    OUTCOMES,
    allow,
    console_errors,
    render_console,
    router,
)
from giftcash.entrypoints.web.console_privacy import log_view
from giftcash.entrypoints.web.i18n import N_
from giftcash.entrypoints.web.pages import field, redirect
from giftcash.entrypoints.web.security import deps_of
from giftcash.privacy.access_log import View
from giftcash.review import queue as review_queue
from giftcash.service.deps import Deps

review = router()

PAGE_SIZE = 20
RECENT = 10
POLL = "3s"
LIVE_STATES = frozenset({"received", "redeeming", "redeemed", "stocked", "paying"})

DONE = {
    "approved": N_("Approved: the worker redeems it and pays it."),
    "declined": N_("Declined: nothing is redeemed or paid."),
}


def _cursor(request: Request) -> str | None:
    return request.query_params.get("after", "")[:64] or None


@review.get("/review")
@console_errors
def review_page(request: Request) -> Response:
    op = allow(request, "review")
    deps = deps_of(request)
    cases = review_queue.review_cases(deps, cursor=_cursor(request), limit=PAGE_SIZE + 1)
    done = request.query_params.get("done", "")
    context = {
        "cases": cases[:PAGE_SIZE],
        "more": cases[PAGE_SIZE - 1].item["id"] if len(cases) > PAGE_SIZE else None,
        "brands": brand_index(deps.brand_catalogue),
        "FINDINGS": FINDINGS,
        "CONDITIONS": CONDITIONS,
        "dashed_phone": dashed_phone,
        "OUTCOMES": OUTCOMES,
        "FLAGS": FLAGS,
        "notice_done": DONE.get(done),
        "banks": BANKS,
        **_recent_context(request),
    }
    view = View("review", ("name", "phone", "age_band", "bank_account_masked", "holder_name"))
    shown = [c.entry.customer["id"] for c in cases[:PAGE_SIZE]]
    log_view(request, op, view, [*shown, *(r["customer_id"] for r in context["recent"])])
    return render_console(request, "console/review.html", context)


def _recent_context(request: Request) -> dict:
    deps = deps_of(request)
    recent = review_queue.recent_decisions(deps, limit=RECENT)
    return {
        "recent": recent,
        "recent_live": any(r["status"] in LIVE_STATES for r in recent),
        "poll": POLL,
        "brands": brand_index(deps.brand_catalogue),
        "ITEM_STATES": ITEM_STATES,
    }


@review.get("/review/recent")
@console_errors
def recent_fragment(request: Request) -> Response:
    op = allow(request, "review")
    context = _recent_context(request)
    shown = [r["customer_id"] for r in context["recent"]]
    log_view(request, op, View("review_recent", ("name",)), shown)
    return render_console(request, "console/_recent.html", context)


def _decide(request: Request, item_id: str, approve: bool) -> Response:
    op = allow(request, "review")
    decide = review_queue.approve if approve else review_queue.decline
    outcome = "approved" if approve else "declined"

    def work(deps: Deps) -> dict[str, str]:
        decide(deps, op, item_id[:64], field(request, "reason", review_queue.MAX_REASON))
        return {"location": "/admin/review?" + urlencode({"done": outcome})}

    # clicked twice: one decision, and the second click sees the first one's answer
    answer = form_tokens.run(request, OPERATOR, f"operator:{op.id}", work)
    return redirect(request, answer["location"])


@review.post("/review/{item_id}/approve")
@console_errors
def approve(request: Request, item_id: str) -> Response:
    return _decide(request, item_id, approve=True)


@review.post("/review/{item_id}/decline")
@console_errors
def decline(request: Request, item_id: str) -> Response:
    return _decide(request, item_id, approve=False)
