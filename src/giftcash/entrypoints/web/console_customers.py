"""Customers (admin): the newest customers before any search; a search by phone digits or
name, by a voucher code or an account number (matched by the vault's keyed hash, never
shown) or by a device; each customer's record: limits used today, holds, flags, open
cases, declaration mismatches, bank accounts, devices, items, payouts and notes; and the
actions on a customer: block or unblock the customer or a device (with a reason) and add
a note, all audited and each form used once."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from giftcash.domain.banks import BANKS
from giftcash.domain.brands import brand_index
from giftcash.entrypoints.web import form_tokens
from giftcash.entrypoints.web.console_cases import CASE_KINDS, CASE_STATES, CASE_TONE
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
from giftcash.identity import blocks, customer_lookup, tiers
from giftcash.privacy.access_log import View
from giftcash.service.deps import Deps

customers = router()


def masked_phone(phone: str) -> str:
    """01012345678 -> 010-****-5678: enough to recognise, less to copy."""
    if len(phone) < 8:
        return "*" * len(phone)
    return f"{phone[:3]}-{'*' * (len(phone) - 7)}-{phone[-4:]}"


def dashed_phone(phone: str) -> str:
    if len(phone) == 11:
        return f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"
    return phone


SEARCH_BY = {
    "phone_or_name": N_("Phone digits or name"),
    "code": N_("Voucher code"),
    "account": N_("Account number"),
    "device": N_("Device"),
}
# What the customer record shows of the person (the access log names them).
CUSTOMER_FIELDS = ("name", "phone", "age_band", "bank_accounts", "devices", "notes", "sales")


def customer_fields(tier: tiers.TierView) -> tuple[str, ...]:
    """What the customer record shows, for the log of views: always the due-diligence
    level (the verified identity's tier), and the EDD answers and the reason they were
    asked for when the page shows them."""
    shown = [*CUSTOMER_FIELDS, "tier"]
    if tier.edd_required_reason is not None:
        shown.append("edd_reason")
    if tier.edd_answers is not None:
        shown.append("edd_answers")
    return tuple(shown)


DONE = {
    "blocked": N_("Blocked. The customer's sessions ended; sign-in and sales are refused."),
    "unblocked": N_("Unblocked."),
    "edd_required": N_(
        "Enhanced due diligence asked for: the customer's sales wait for their answers."
    ),
    "noted": N_("Note added."),
}


@customers.get("/customers")
@console_errors
def customers_page(request: Request, q: str = "", by: str = "phone_or_name") -> Response:
    op = allow(request, "customers")
    deps = deps_of(request)
    q, by = q[:100], by if by in SEARCH_BY else "phone_or_name"
    found = customer_lookup.search_customers(deps, q, by) if q.strip() else None
    recent = customer_lookup.recent_customers(deps) if found is None else []
    shown = [c.id for c in (found if found is not None else recent)]
    log_view(request, op, View("customers", ("name", "phone_masked", "age_band")), shown)
    context = {
        "q": q if by != "code" else "",  # a code is bearer value: not echoed back
        "by": by,
        "SEARCH_BY": SEARCH_BY,
        "found": found,
        "recent": recent,
        "masked_phone": masked_phone,
    }
    return render_console(request, "console/customers.html", context)


@customers.get("/customers/{customer_id}")
@console_errors
def customer_page(request: Request, customer_id: str) -> Response:
    op = allow(request, "customers")
    deps = deps_of(request)
    record = customer_lookup.customer_record(deps, customer_id[:64])
    tier = tiers.view(deps, record.customer.id)
    log_view(request, op, View("customer", customer_fields(tier)), [record.customer.id])
    context = {
        "r": record,
        "w": customer_lookup.customer_watch(deps, record.customer.id),
        "done": DONE.get(request.query_params.get("done", "")),
        "CASE_KINDS": CASE_KINDS,
        "CASE_STATES": CASE_STATES,
        "CASE_TONE": CASE_TONE,
        "phone": dashed_phone(record.customer.phone),
        "banks": BANKS,
        "brands": brand_index(deps.brand_catalogue),
        "tier": tier,
    }
    return render_console(request, "console/customer.html", context)


def _act(request: Request, customer_id: str, act, done: str) -> Response:
    op = allow(request, "customers")
    cid = customer_id[:64]

    def work(deps: Deps) -> dict[str, str]:
        act(deps, op, cid)
        return {"location": f"/admin/customers/{cid}?done={done}"}

    answer = form_tokens.run(request, OPERATOR, f"operator:{op.id}", work)
    return redirect(request, answer["location"])


def _subject(request: Request, cid: str) -> tuple[str, str]:
    kind = field(request, "kind", 16)
    return kind, (cid if kind == "customer" else field(request, "device", blocks.MAX_DEVICE_KEY))


@customers.post("/customers/{customer_id}/block")
@console_errors
def block(request: Request, customer_id: str) -> Response:
    def act(deps: Deps, op, cid: str) -> None:
        kind, subject = _subject(request, cid)
        blocks.block(deps, op, kind, subject, field(request, "reason", blocks.MAX_REASON))

    return _act(request, customer_id, act, "blocked")


@customers.post("/customers/{customer_id}/unblock")
@console_errors
def unblock(request: Request, customer_id: str) -> Response:
    def act(deps: Deps, op, cid: str) -> None:
        kind, subject = _subject(request, cid)
        blocks.unblock(deps, op, kind, subject, field(request, "reason", blocks.MAX_REASON))

    return _act(request, customer_id, act, "unblocked")


@customers.post("/customers/{customer_id}/notes")
@console_errors
def note(request: Request, customer_id: str) -> Response:
    def act(deps: Deps, op, cid: str) -> None:
        blocks.add_note(deps, op, cid, field(request, "note", blocks.MAX_NOTE))

    return _act(request, customer_id, act, "noted")


@customers.post("/customers/{customer_id}/require-edd")
@console_errors
def require_edd(request: Request, customer_id: str) -> Response:
    """The customer answers the enhanced-due-diligence questions before their next sale
    (audited with the reason)."""

    def act(deps: Deps, op, cid: str) -> None:
        tiers.require_edd(deps, op, cid, field(request, "reason", tiers.MAX_REASON))

    return _act(request, customer_id, act, "edd_required")
