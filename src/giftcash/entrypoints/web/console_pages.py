"""What every console page shares: the operator realm (its own session cookie, signed in
with password and TOTP), the roles each area allows, the navigation an operator's role
sees, and error pages in the console's own frame and language.

Role checks: each page calls ``allow(request, AREA)`` first. It answers the signed-in
operator, or raises ``SignInRequired`` (a redirect to the sign-in page) or
``ForbiddenRole`` (audited by ``operators.check_role``; a 403 page). Admin may do all.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from babel.dates import format_timedelta
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from giftcash.domain.errors import DomainError
from giftcash.entrypoints.web import messages
from giftcash.entrypoints.web.i18n import N_, Tr
from giftcash.entrypoints.web.pages import (
    SignInRequired,
    render,
    route_class,
    status_of,
    tr_of,
)
from giftcash.entrypoints.web.security import Realm, deps_of, session_token
from giftcash.identity import operators
from giftcash.identity.operators import Operator
from giftcash.service import errors
from giftcash.service.deps import Deps

F = TypeVar("F", bound=Callable[..., Response])


def _operator_id(deps: Deps, token: str) -> str:
    return operators.authenticate(deps, token).id


OPERATOR = Realm("operator", "gc_op_session", "/admin/signin", _operator_id, "console/error.html")
ROUTE_CLASS = route_class(OPERATOR)
HOME = "/admin"

# The roles each area allows besides admin (who may do everything).
AREAS: dict[str, tuple[str, ...]] = {
    "dashboard": ("finance",),
    "review": ("reviewer",),
    "cases": ("reviewer",),
    "stops": ("finance", "stop_requester"),
    "brands": (),
    "customers": (),
    "items": ("finance",),
    "payouts": ("finance",),
    "bank_hours": ("finance",),
    "resale": ("finance",),
    "reconciliation": ("finance",),
    "audit": ("finance",),
    "privacy": (),  # the log of console views of personal data: admin only
}

# The navigation, in order: (area, path, label).
NAV = (
    ("dashboard", "/admin", N_("Dashboard")),
    ("review", "/admin/review", N_("Review")),
    ("cases", "/admin/cases", N_("Cases")),
    ("stops", "/admin/stops", N_("Payment stops")),
    ("payouts", "/admin/payouts", N_("Payouts")),
    ("resale", "/admin/resale", N_("Resale")),
    ("bank_hours", "/admin/bank-hours", N_("Bank hours")),
    ("customers", "/admin/customers", N_("Customers")),
    ("brands", "/admin/brands", N_("Brands")),
    ("reconciliation", "/admin/reconciliation", N_("Reconciliation")),
    ("audit", "/admin/audit", N_("Audit log")),
    ("privacy", "/admin/privacy", N_("Personal data access")),
)

ROLES = {
    "reviewer": N_("Reviewer"),
    "finance": N_("Finance"),
    "admin": N_("Administrator"),
    "stop_requester": N_("Payment-stop requester"),
}

# Statuses as operators name them (the customer site words them for customers).
ITEM_STATES = {
    "received": N_("Received"),
    "review": N_("In review"),
    "redeeming": N_("Redeeming"),
    "redeemed": N_("Redeemed"),
    "stocked": N_("Stocked for resale"),
    "paying": N_("Paying"),
    "paid": N_("Paid"),
    "declined": N_("Declined"),
    "invalid": N_("Invalid at issuer"),
    "failed": N_("Failed"),
    "withheld": N_("Withheld (payment stop)"),
}
PAYOUT_STATES = {
    "pending": N_("Pending"),
    "sending": N_("Sending"),
    "sent": N_("Sent"),
    "unknown": N_("Unknown (inquiry)"),
    "confirmed": N_("Confirmed"),
    "returned": N_("Returned"),
    "rejected": N_("Rejected"),
    "held": N_("Held (payment stop)"),
    "cancelled": N_("Cancelled (payment stop)"),
}
STATE_TONE = {
    "paid": "ok",
    "confirmed": "ok",
    "declined": "bad",
    "invalid": "bad",
    "returned": "bad",
    "rejected": "bad",
    "failed": "bad",
    "review": "warn",
    "unknown": "warn",
    "held": "warn",
    "withheld": "bad",
    "cancelled": "quiet",
}

# What each policy finding means, for the evidence list (the codes stay beside them).
FINDINGS = {
    "scam_check": N_("First sale of vouchers bought minutes ago, or in the age band to check"),
    "first_sale_hold": N_("First sale above the hold threshold"),
    "declaration_mismatch": N_("Declared payment differs from the issuer's report"),
    "duplicate_code": N_("Code submitted before"),
    "limit_exceeded": N_("Daily limit exceeded"),
    "too_many_attempts": N_("Too many failed attempts"),
    "account_holder_mismatch": N_("Account holder is not the customer"),
    "issuer_disabled": N_("Issuer switched off"),
    "brand_disabled": N_("Brand switched off"),
    "issuer_exposure_cap": N_("Issuer exposure cap reached"),
    "carrier_billing_prohibited": N_("Paid with phone billing (statutory)"),
    "credit_card_financing_prohibited": N_("Paid with a credit card (statutory)"),
}
# The exact condition that sent an item to review (review.queue.review_condition).
CONDITIONS = {
    "scam_check:recent_and_large": N_(
        "First sale, of vouchers bought minutes before the sale, above the amount to check"
    ),
    "scam_check:age_band": N_("First sale, by a customer in the age band set to be checked"),
    **{k: v for k, v in FINDINGS.items() if k != "scam_check"},
}
OUTCOMES = {
    "accept": N_("note"),
    "hold": N_("hold"),
    "review": N_("review"),
    "decline": N_("decline"),
}
FLAGS = {
    "first_sale": N_("first sale"),
    "recent_purchase": N_("bought minutes ago"),
    "declaration_mismatch": N_("declaration differs from issuer"),
    "duplicate_code": N_("duplicate code"),
}


def reason_text(tr: Tr, reason: str | None) -> str:
    """A review reason ("code: message", the policy's English) in the page's language when
    its code is known."""
    code, _, _ = (reason or "").partition(":")
    return tr(FINDINGS[code]) if code in FINDINGS else (reason or "")


QUEUE_LABELS = {
    ("item", "received"): N_("Items received"),
    ("item", "review"): N_("Items in review"),
    ("item", "redeeming"): N_("Items at the issuer"),
    ("payout", "pending"): N_("Payouts to send"),
    ("payout", "sent"): N_("Payouts awaiting the bank"),
}

ERRORS = {
    "forbidden_role": N_("Your role does not open this page. Ask an administrator if you need it."),
    "item_not_found": N_("There is no such item."),
    "customer_not_found": N_("There is no such customer."),
    "issuer_not_found": N_("There is no such issuer."),
    "brand_not_found": N_("There is no such brand."),
    "payout_not_found": N_("There is no such payout."),
    "case_not_found": N_("There is no such case."),
    "case_changed": N_("Someone changed this case meanwhile. Read it again."),
    "already_blocked": N_("This is blocked already."),
    "not_blocked": N_("This is not blocked."),
    "stop_not_found": N_("There is no such payment stop."),
    "stop_not_active": N_("This payment stop is closed already. Read it again."),
    "stop_must_wait": N_(
        "A call this stop covers is still at the issuer or the bank. Settle it after the answer."
    ),
    "invalid_bank_account": N_("Check the bank and the account number (10 to 16 digits)."),
    "payout_not_retryable": N_("This payout cannot be sent again now: look at its state."),
    "illegal_transition": N_("This item was decided already. Look at where it is now."),
    "statement_invalid": N_("The statement could not be read: check its columns."),
    "invalid_credentials": N_("The username, password or code is wrong."),
    "too_many_attempts": N_("Too many failed sign-ins. Wait 15 minutes, then try again."),
}

FIELD_ERRORS = {
    "reason": N_("Write a reason (up to 500 characters): it goes into the audit log."),
    "note": N_("Write a note (up to 2,000 characters)."),
    "format": N_("Choose CSV or JSON."),
    "target": N_("Choose a target kind from the list."),
    "q": N_("Search by at least 4 digits of the phone number, or by name."),
    "buyback_rate_bps": N_("A rate is a percentage of face value from 0.01 to 100."),
    "resell_hold_s": N_("A resale payout hold is a whole number of hours from 0 to 720."),
    "exposure_cap": N_("A cap is a whole amount of won, 0 or more; leave it empty for none."),
    "requester_name": N_("Name the institution that asked (up to 200 characters)."),
    "requester_contact": N_("Give the number the customer should call (up to 200 characters)."),
    "reference": N_("Give the institution's reference number (up to 128 characters)."),
    "scope": N_("Choose what the stop names."),
    "requester": N_("Choose who asked."),
    "customer_id": N_("Give the customer's id."),
    "code": N_("Give the voucher code."),
    "confirm": N_("Tick the box to confirm: every item of this issuer will be declined."),
}


def error_text(tr: Tr, e: DomainError) -> str:
    field = e.context.get("field")
    if e.code == "invalid_input" and field in FIELD_ERRORS:
        return tr(FIELD_ERRORS[field])
    if e.code in ERRORS:
        return tr(ERRORS[e.code])
    return messages.error_text(tr, e)


def router() -> APIRouter:
    return APIRouter(prefix="/admin", route_class=ROUTE_CLASS, include_in_schema=False)


def current_operator(request: Request) -> Operator:
    """The operator behind the console's session cookie (once per request)."""
    op = getattr(request.state, "console_operator", None)
    if op is not None:
        return op
    token = session_token(request, OPERATOR)
    if not token:
        raise SignInRequired
    try:
        op = operators.authenticate(deps_of(request), token)
    except errors.Unauthorized:
        request.state.subject_operator = None
        raise SignInRequired from None
    request.state.console_operator = op
    request.state.subject_operator = op.id  # pages.signed_in's cache for this realm
    return op


def allow(request: Request, area: str) -> Operator:
    op = current_operator(request)
    action = f"{request.method} {request.url.path}"[:200]
    operators.check_role(deps_of(request), op, AREAS[area], action)
    return op


def nav_for(op: Operator) -> list[tuple[str, str, str]]:
    return [(area, path, label) for area, path, label in NAV if op.may(AREAS[area])]


def home_for(op: Operator) -> str:
    return nav_for(op)[0][1]


def duration(tr: Tr, seconds: float | None) -> str:
    """A latency to the second under an hour, to the minute above: 72 -> "1 min 12 s"."""
    if seconds is None:
        return "—"
    if seconds < 1:
        return tr("under 1 s")
    s = round(seconds)
    if s < 60:
        return tr("%(s)s s", s=s)
    if s < 3600:
        return tr("%(m)s min %(s)s s", m=s // 60, s=s % 60)
    return tr("%(h)s h %(m)s min", h=s // 3600, m=s % 3600 // 60)


def ago(tr: Tr, now: datetime, moment: datetime | None) -> str:
    if moment is None:
        return "—"
    delta = max(now - moment, timedelta(0))
    return format_timedelta(-delta, add_direction=True, threshold=1.1, locale=tr.fmt.locale)


def render_console(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> Response:
    op = getattr(request.state, "console_operator", None)
    tr = tr_of(request)
    now = deps_of(request).clock.now()
    ctx = {
        "now": now,
        "duration": lambda seconds: duration(tr, seconds),
        "ago": lambda moment: ago(tr, now, moment),
        "operator": op,
        "nav": nav_for(op) if op else [],
        "ROLES": ROLES,
        "ITEM_STATES": ITEM_STATES,
        "PAYOUT_STATES": PAYOUT_STATES,
        "STATE_TONE": STATE_TONE,
        "FLAGS": FLAGS,
        "reason_text": lambda reason: reason_text(tr, reason),
        **(context or {}),
    }
    return render(request, template, ctx, status=status, realm=OPERATOR)


def console_errors(fn: F) -> F:
    """Operating errors become a console page in the page's language; a missing session
    still goes on to the sign-in redirect."""

    @functools.wraps(fn)
    def page(*args: Any, **kwargs: Any) -> Response:
        try:
            return fn(*args, **kwargs)
        except DomainError as e:
            request: Request = kwargs["request"]
            message = error_text(tr_of(request), e)
            context = {"message": message, "code": e.code}
            return render_console(request, "console/error.html", context, status=status_of(e))

    return page  # type: ignore[return-value]
