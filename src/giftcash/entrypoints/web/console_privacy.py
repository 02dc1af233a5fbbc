"""The log of console views of personal data (admin): who looked at whose data, on which
page, which fields, when; filtered by customer or operator, newest first. And
``log_view``, which every console page showing personal data calls before it answers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlencode

from fastapi import Request
from starlette.responses import Response

from giftcash.entrypoints.web.console_pages import allow, console_errors, render_console, router
from giftcash.entrypoints.web.i18n import N_
from giftcash.entrypoints.web.security import deps_of
from giftcash.identity.operators import Operator
from giftcash.privacy import access_log
from giftcash.privacy.access_log import View

privacy = router()

PAGE_SIZE = 50

# The pages that log a view, as an operator reads their names in the log.
PAGES = {
    "customer": N_("Customer record"),
    "customers": N_("Customer list or search"),
    "case": N_("Case"),
    "case_export": N_("Case export"),
    "payouts": N_("Payout list"),
    "review": N_("Review queue"),
    "review_recent": N_("Recent review decisions"),
    "resale_claims": N_("Resale claims in review"),
}

# The fields a view showed, as the log page names them (the rows keep the codes).
FIELDS = {
    "name": N_("name"),
    "phone": N_("phone number"),
    "phone_masked": N_("phone number (masked)"),
    "age_band": N_("age band"),
    "bank_accounts": N_("bank accounts"),
    "bank_account_masked": N_("bank account (masked)"),
    "holder_name": N_("account holder"),
    "devices": N_("devices"),
    "notes": N_("notes"),
    "sales": N_("sales"),
    "masked_evidence": N_("evidence (masked)"),
    "masked_name": N_("name (masked)"),
    "tier": N_("due-diligence level"),
    "edd_answers": N_("enhanced due-diligence answers"),
    "edd_reason": N_("reason enhanced due diligence was asked for"),
    "claim_reason": N_("buyer's words on a claim"),
}


def log_view(request: Request, op: Operator, view: View, customer_ids: Iterable[str]) -> None:
    access_log.record(deps_of(request), op, view, customer_ids)


def _before(value: str) -> tuple[datetime, str] | None:
    at, _, id_ = value.partition("|")
    try:
        return (datetime.fromisoformat(at), id_[:64]) if at and id_ else None
    except ValueError:
        return None


@privacy.get("/privacy")
@console_errors
def access_page(
    request: Request, customer: str = "", operator: str = "", before: str = ""
) -> Response:
    allow(request, "privacy")
    customer, operator = customer.strip()[:64], operator.strip()[:64]
    rows = access_log.entries(
        deps_of(request),
        customer_id=customer or None,
        operator_id=operator or None,
        before=_before(before[:120]),
        limit=PAGE_SIZE + 1,
    )
    shown = rows[:PAGE_SIZE]
    older = None
    if len(rows) > PAGE_SIZE:
        last = shown[-1]
        query = {
            "customer": customer,
            "operator": operator,
            "before": f"{last.at.isoformat()}|{last.id}",
        }
        older = "/admin/privacy?" + urlencode({k: v for k, v in query.items() if v})
    context = {
        "rows": shown,
        "older": older,
        "customer": customer,
        "operator_filter": operator,
        "PAGES": PAGES,
        "FIELDS": FIELDS,
        "filtered": bool(customer or operator),
    }
    return render_console(request, "console/privacy.html", context)
