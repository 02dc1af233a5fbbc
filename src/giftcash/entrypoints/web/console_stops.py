"""Payment stops (지급정지) in the console: the list by state with the form to file one
(a bank's or the police's request taken by phone or fax, or our own), one stop with what
it found and the payouts sent before it, release and settlement with a reason (finance;
audited, one effect per form), and the tracing export (audited, so a POST)."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import Request
from starlette.responses import Response

from giftcash.domain import stops as rules
from giftcash.domain.banks import BANKS
from giftcash.entrypoints.web import form_tokens
from giftcash.entrypoints.web.console_pages import (
    OPERATOR,
    allow,
    console_errors,
    render_console,
    router,
)
from giftcash.entrypoints.web.i18n import N_
from giftcash.entrypoints.web.pages import field, redirect
from giftcash.entrypoints.web.security import deps_of
from giftcash.service.deps import Deps
from giftcash.stops import filing, tracing

stops = router()

PAGE_SIZE = 50
STOP_STATES = {
    rules.StopState.ACTIVE.value: N_("Active"),
    rules.StopState.RELEASED.value: N_("Released"),
    rules.StopState.SETTLED.value: N_("Settled"),
}
STOP_TONE = {"active": "bad", "released": "ok", "settled": "quiet"}
SCOPES = {
    rules.StopScope.ACCOUNT.value: N_("Bank account"),
    rules.StopScope.CUSTOMER.value: N_("Customer"),
    rules.StopScope.CODE.value: N_("Voucher code"),
}
REQUESTERS = {
    rules.Requester.BANK.value: N_("Bank"),
    rules.Requester.POLICE.value: N_("Police"),
    rules.Requester.INTERNAL.value: N_("Our fraud team"),
}
FINDINGS = {
    "held": N_("Held"),
    "in_flight": N_("At the issuer or bank when the stop came"),
    "in_doubt": N_("Payout the bank may have"),
    "paid_before": N_("Paid before the stop"),
    "closed": N_("Closed, nothing to hold"),
}
CHANGES = {"released": N_("The stop is released."), "settled": N_("The stop is settled.")}


def _context() -> dict[str, object]:
    return {
        "STOP_STATES": STOP_STATES,
        "STOP_TONE": STOP_TONE,
        "SCOPES": SCOPES,
        "REQUESTERS": REQUESTERS,
        "FINDINGS": FINDINGS,
    }


@stops.get("/stops")
@console_errors
def stops_page(request: Request, state: str = "active", after: str = "") -> Response:
    op = allow(request, "stops")
    state = state if state in (*STOP_STATES, "all") else "active"
    rows = filing.list_stops(
        deps_of(request),
        op,
        state=None if state == "all" else state,
        cursor=after[:64] or None,
        limit=PAGE_SIZE + 1,
    )
    context = {
        **_context(),
        "stops": rows[:PAGE_SIZE],
        "more": rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None,
        "state": state,
        "banks": sorted(BANKS.items()),
    }
    return render_console(request, "console/stops.html", context)


@stops.post("/stops")
@console_errors
def file_stop(request: Request) -> Response:
    op = allow(request, "stops")

    def work(deps: Deps) -> dict[str, str]:
        scope = field(request, "scope", 16)
        req = filing.StopRequest(
            scope=scope,
            requester=field(request, "requester", 16),
            requester_name=field(request, "requester_name", rules.MAX_REQUESTER_NAME),
            requester_contact=field(request, "requester_contact", rules.MAX_CONTACT),
            reference=field(request, "reference", rules.MAX_REFERENCE),
            reason=field(request, "reason", rules.MAX_REASON),
            customer_id=field(request, "customer_id", 64) if scope == "customer" else None,
            code=field(request, "code", 128) if scope == "code" else None,
            bank_code=field(request, "bank_code", 8) if scope == "account" else None,
            account_number=field(request, "account_number", 32) if scope == "account" else None,
        )
        detail = filing.file_stop(deps, op, req)
        return {"location": f"/admin/stops/{quote(detail.stop.id)}?filed=1"}

    answer = form_tokens.run(request, OPERATOR, f"operator:{op.id}", work)
    return redirect(request, answer["location"])


@stops.get("/stops/{stop_id}")
@console_errors
def stop_page(request: Request, stop_id: str) -> Response:
    op = allow(request, "stops")
    detail = filing.get_stop(deps_of(request), op, stop_id[:64])
    changed = request.query_params.get("changed", "")
    context = {
        **_context(),
        "d": detail,
        "s": detail.stop,
        "filed": request.query_params.get("filed") == "1",
        "changed": CHANGES.get(changed),
        "may_close": op.may(filing.STAFF) and detail.stop.state == "active",
    }
    return render_console(request, "console/stop.html", context)


def _close(request: Request, stop_id: str, action: str) -> Response:
    op = allow(request, "stops")
    close = filing.release_stop if action == "released" else filing.settle_stop

    def work(deps: Deps) -> dict[str, str]:
        close(deps, op, stop_id[:64], field(request, "reason", rules.MAX_REASON))
        where = f"/admin/stops/{quote(stop_id[:64])}?"
        return {"location": where + urlencode({"changed": action})}

    answer = form_tokens.run(request, OPERATOR, f"operator:{op.id}", work)
    return redirect(request, answer["location"])


@stops.post("/stops/{stop_id}/release")
@console_errors
def release(request: Request, stop_id: str) -> Response:
    return _close(request, stop_id, "released")


@stops.post("/stops/{stop_id}/settle")
@console_errors
def settle(request: Request, stop_id: str) -> Response:
    return _close(request, stop_id, "settled")


@stops.post("/stops/{stop_id}/export")
@console_errors
def export(request: Request, stop_id: str) -> Response:
    op = allow(request, "stops")
    report = tracing.export(deps_of(request), op, stop_id[:64], fmt=field(request, "format", 8))
    return Response(
        report.content,
        media_type=report.media_type,
        headers={"Content-Disposition": f'attachment; filename="{report.filename}"'},
    )
