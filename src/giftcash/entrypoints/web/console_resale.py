"""Resale in the console (finance and admin): inventory by brand with its ageing, orders by
state, the deposits returned to their payers with why (resale/overview.py), the buyers'
claims with those in review refunded or refused here (resale/claim_review.py), and what
sellers owe us."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from starlette.responses import Response

from giftcash.catalogue import live as catalogue
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
from giftcash.privacy.access_log import View
from giftcash.resale import claim_review, overview
from giftcash.service.deps import Deps

resale = router()

UNIT_STATES = {"stocked": N_("In stock"), "reserved": N_("Reserved by an order")}
ORDER_STATES = {
    "awaiting_payment": N_("Awaiting payment"),
    "paid": N_("Paid"),
    "delivered": N_("Delivered"),
    "expired": N_("Expired unpaid"),
    "refunded": N_("Refunded"),
}
DEPOSIT_STATES = {"returning": N_("Being returned"), "returned": N_("Returned")}
RETURN_REASONS = {
    "other_name": N_("Payer's name is not the buyer's"),
    "wrong_amount": N_("Not the exact amount"),
    "late": N_("After the deadline"),
    "second_deposit": N_("A second deposit"),
    "not_delivered": N_("Nothing could be delivered (refunded)"),
    "claim_refunded": N_("Refunded on the buyer's claim"),
}

CLAIM_STATES = {
    "review": N_("Waiting for an operator"),
    "refunded": N_("Refunded"),
    "refused": N_("Refused"),
}
ISSUER_SAYS = {
    "active": N_("Unspent"),
    "used": N_("Spent"),
    "expired": N_("Expired"),
    "not_found": N_("Not found at the issuer"),
    "no_inquiry": N_("The issuer has no balance inquiry"),
}
DONE = {
    "refund": N_("Refunded: the buyer's money goes back; the seller owes its cost and is held."),
    "refuse": N_("Refused: the unit is upheld, no money moves."),
}


@resale.get("/resale")
@console_errors
def resale_page(request: Request) -> Response:
    op = allow(request, "resale")
    deps = deps_of(request)
    brands = catalogue.current_brands(deps)
    view = overview.overview(deps)
    # a buyer's own words on a claim in review are personal data: their view is logged
    worded = [r.claim.customer_id for r in view.in_review if r.claim.reason]
    if worded:
        log_view(request, op, View("resale_claims", ("claim_reason",)), worded)
    context = {
        "view": view,
        "brands": brands,
        "unit_states": UNIT_STATES,
        "order_states": ORDER_STATES,
        "deposit_states": DEPOSIT_STATES,
        "return_reasons": RETURN_REASONS,
        "claim_states": CLAIM_STATES,
        "issuer_says": ISSUER_SAYS,
        "notice_done": DONE.get(request.query_params.get("done", "")),
    }
    return render_console(request, "console/resale.html", context)


@resale.post("/resale/claims/{claim_id}/resolve")
@console_errors
def resolve_claim(request: Request, claim_id: str) -> Response:
    """A claim in review refunded or refused with a note (audited); clicked twice, one
    decision, and the second click sees the first one's answer."""
    op = allow(request, "resale")
    decision = field(request, "decision", 8)
    note = field(request, "note", claim_review.MAX_NOTE)

    def work(deps: Deps) -> dict[str, str]:
        done = claim_review.resolve_claim(deps, op, claim_id[:64], decision, note)
        outcome = "refund" if done.claim.status == "refunded" else "refuse"
        return {"location": "/admin/resale?" + urlencode({"done": outcome}) + "#claims-title"}

    answer = form_tokens.run(request, OPERATOR, f"operator:{op.id}", work)
    return redirect(request, answer["location"])
