"""Banks' hours in the console (finance and admin): every bank's nightly window (from the
settings), whether it is closed now, and its announced maintenance windows, which an
operator adds and removes (one-use form tokens; audited by the service). And the issuer's
answers about an item, exported for a dispute (JSON or CSV, codes masked)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from fastapi import Request
from starlette.responses import Response

from giftcash.domain.bank_hours import KST, InvalidBankHours
from giftcash.domain.banks import BANKS
from giftcash.entrypoints.web import form_tokens
from giftcash.entrypoints.web.console_pages import (
    OPERATOR,
    allow,
    console_errors,
    render_console,
    router,
)
from giftcash.entrypoints.web.pages import field, redirect
from giftcash.entrypoints.web.security import deps_of
from giftcash.payouts import bank_hours
from giftcash.redemption import evidence
from giftcash.service.deps import Deps

hours = router()


@hours.get("/bank-hours")
@console_errors
def bank_hours_page(request: Request) -> Response:
    allow(request, "bank_hours")
    context = {
        "rows": bank_hours.overview(deps_of(request)),
        "banks": BANKS,
        "saved": request.query_params.get("saved", "")[:16],
    }
    return render_console(request, "console/bank_hours.html", context)


def _local(request: Request, name: str) -> datetime:
    """A ``datetime-local`` field, read as Korean time (the console's calendar)."""
    value = field(request, name, 32)
    try:
        return datetime.fromisoformat(value).replace(tzinfo=KST)
    except ValueError:
        raise InvalidBankHours("give the time as YYYY-MM-DDTHH:MM", field=name) from None


@hours.post("/bank-hours")
@console_errors
def add_window(request: Request) -> Response:
    op = allow(request, "bank_hours")
    bank_code = field(request, "bank_code", 3)
    starts_at, ends_at = _local(request, "starts_at"), _local(request, "ends_at")
    note = field(request, "note", 200)

    def work(deps: Deps) -> dict[str, str]:
        bank_hours.add_maintenance(deps, op.actor, bank_code, starts_at, ends_at, note)
        return {"location": "/admin/bank-hours?" + urlencode({"saved": "added"})}

    answer = form_tokens.run(request, OPERATOR, f"operator:{op.id}", work)
    return redirect(request, answer["location"])


@hours.post("/bank-hours/{maintenance_id}/remove")
@console_errors
def remove_window(request: Request, maintenance_id: str) -> Response:
    op = allow(request, "bank_hours")

    def work(deps: Deps) -> dict[str, str]:
        bank_hours.remove_maintenance(deps, op.actor, maintenance_id[:64])
        return {"location": "/admin/bank-hours?" + urlencode({"saved": "removed"})}

    answer = form_tokens.run(request, OPERATOR, f"operator:{op.id}", work)
    return redirect(request, answer["location"])


@hours.get("/items/{item_id}/evidence.{fmt}")
@console_errors
def item_evidence(request: Request, item_id: str, fmt: str) -> Response:
    allow(request, "items")
    lines = evidence.export(deps_of(request), item_id=item_id[:64])
    return _download(lines, fmt, f"evidence-item-{item_id[:64]}")


@hours.get("/submissions/{submission_id}/evidence.{fmt}")
@console_errors
def sale_evidence(request: Request, submission_id: str, fmt: str) -> Response:
    allow(request, "items")
    lines = evidence.export(deps_of(request), submission_id=submission_id[:64])
    return _download(lines, fmt, f"evidence-sale-{submission_id[:64]}")


def _download(lines: list[evidence.EvidenceLine], fmt: str, name: str) -> Response:
    safe = "".join(ch for ch in name if ch.isalnum() or ch in "-_")
    if fmt == "csv":
        body, media = evidence.as_csv(lines), "text/csv; charset=utf-8"
    else:
        body, media = evidence.as_json(lines), "application/json"
        fmt = "json"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{safe}.{fmt}"'},
    )
