"""Suspicious-activity cases (reviewers and admin): the list by status and kind, one case
with its evidence and its notes, the next status with a note (audited, one effect per
form), and the report for the bank's compliance team as the CLI writes it (CSV or JSON;
the export is audited, so it is a POST)."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import Request
from starlette.responses import Response

from giftcash.domain.aml import CASE_TRANSITIONS, CaseKind, CaseStatus
from giftcash.entrypoints.web import form_tokens
from giftcash.entrypoints.web.console_pages import (
    OPERATOR,
    allow,
    console_errors,
    render_console,
    router,
)
from giftcash.entrypoints.web.console_privacy import log_view
from giftcash.entrypoints.web.i18n import N_
from giftcash.entrypoints.web.pages import field, redirect
from giftcash.entrypoints.web.security import deps_of
from giftcash.identity import tiers
from giftcash.privacy.access_log import View
from giftcash.redemption import evidence
from giftcash.review import cases as case_service
from giftcash.service.deps import Deps

cases = router()

PAGE_SIZE = 50

CASE_KINDS = {
    CaseKind.DUPLICATE_RING.value: N_("One code sold by several customers"),
    CaseKind.SHARED_ACCOUNT.value: N_("One bank account used by several customers"),
    CaseKind.STRUCTURING.value: N_("Sales kept just under a threshold"),
    CaseKind.VELOCITY_SPIKE.value: N_("A day far above the customer's usual"),
    CaseKind.PIN_TESTING.value: N_("Many invalid codes tried"),
    CaseKind.DECLARATION_CONTRADICTED.value: N_("Declared payment contradicted by the issuer"),
}
CASE_STATES = {
    CaseStatus.OPEN.value: N_("Open"),
    CaseStatus.UNDER_REVIEW.value: N_("Under review"),
    CaseStatus.REPORTED.value: N_("Reported"),
    CaseStatus.DISMISSED.value: N_("Dismissed"),
}
CASE_TONE = {"open": "bad", "under_review": "warn", "reported": "ok", "dismissed": "quiet"}
# What the button that moves a case to each status says.
CASE_ACTIONS = {
    CaseStatus.UNDER_REVIEW.value: N_("Start the review"),
    CaseStatus.REPORTED.value: N_("Mark as reported to the bank"),
    CaseStatus.DISMISSED.value: N_("Dismiss"),
}
STATUS_FILTERS = ("active", *CASE_STATES)


def _context() -> dict:
    return {"CASE_KINDS": CASE_KINDS, "CASE_STATES": CASE_STATES, "CASE_TONE": CASE_TONE}


@cases.get("/cases")
@console_errors
def cases_page(
    request: Request, status: str = "active", kind: str = "", after: str = ""
) -> Response:
    allow(request, "cases")
    status = status if status in (*STATUS_FILTERS, "all") else "active"
    kind = kind if kind in CASE_KINDS else ""
    rows = case_service.list_cases(
        deps_of(request),
        status=None if status == "all" else status,
        kind=kind or None,
        cursor=after[:64] or None,
        limit=PAGE_SIZE + 1,
    )
    context = {
        **_context(),
        "cases": rows[:PAGE_SIZE],
        "more": rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None,
        "status": status,
        "kind": kind,
        "filters": STATUS_FILTERS,
    }
    return render_console(request, "console/cases.html", context)


@cases.get("/cases/{case_id}")
@console_errors
def case_page(request: Request, case_id: str) -> Response:
    op = allow(request, "cases")
    detail = case_service.get_case(deps_of(request), case_id[:64])
    view = View("case", ("name", "masked_evidence"), subject=f"case:{detail.case.id}")
    log_view(request, op, view, [c["id"] for c in detail.customers])
    nexts = sorted(s.value for s in CASE_TRANSITIONS[CaseStatus(detail.case.status)])
    item_ids = [str(e["item_id"]) for e in detail.evidence if e.get("item_id")]
    context = {
        **_context(),
        "answers": evidence.for_items(deps_of(request), item_ids),
        "d": detail,
        "c": detail.case,
        "nexts": nexts,
        "CASE_ACTIONS": CASE_ACTIONS,
        "changed": request.query_params.get("changed", "") in CASE_STATES,
        "edd_asked": request.query_params.get("edd") == "asked",
    }
    return render_console(request, "console/case.html", context)


@cases.post("/cases/{case_id}/status")
@console_errors
def case_status(request: Request, case_id: str) -> Response:
    op = allow(request, "cases")
    target = field(request, "status", 32)

    def work(deps: Deps) -> dict[str, str]:
        note = field(request, "note", case_service.MAX_NOTE)
        case_service.change_status(deps, op, case_id[:64], target, note)
        return {"location": f"/admin/cases/{quote(case_id[:64])}?" + urlencode({"changed": target})}

    answer = form_tokens.run(request, OPERATOR, f"operator:{op.id}", work)
    return redirect(request, answer["location"])


@cases.post("/cases/{case_id}/require-edd")
@console_errors
def case_requires_edd(request: Request, case_id: str) -> Response:
    """The case asks its customers for enhanced due diligence (identity/tiers.py): each
    customer's next sale waits for their answers; each request is audited."""
    op = allow(request, "cases")

    def work(deps: Deps) -> dict[str, str]:
        detail = case_service.get_case(deps, case_id[:64])
        reason = field(request, "reason", tiers.MAX_REASON - 20)
        for customer in detail.customers:
            tiers.require_edd(deps, op, customer["id"], f"case {detail.case.id[-8:]}: {reason}")
        return {"location": f"/admin/cases/{quote(case_id[:64])}?edd=asked"}

    answer = form_tokens.run(request, OPERATOR, f"operator:{op.id}", work)
    return redirect(request, answer["location"])


@cases.post("/cases/export")
@console_errors
def export(request: Request) -> Response:
    op = allow(request, "cases")
    fmt = field(request, "format", 8)
    status = field(request, "status", 32)
    report = case_service.export(
        deps_of(request), op, fmt=fmt, status=None if status in ("", "all") else status
    )
    # the export names customers by masked name; which customers is in the file itself
    subject = f"cases:{status or 'all'}:{fmt}"[:64]
    log_view(request, op, View("case_export", ("masked_name",), subject=subject), [])
    return Response(
        report.content,
        media_type=report.media_type,
        headers={"Content-Disposition": f'attachment; filename="{report.filename}"'},
    )
