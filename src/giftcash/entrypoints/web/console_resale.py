"""Resale in the console (finance and admin): inventory by brand with its ageing, orders by
state, and the deposits returned to their payers with why (resale/overview.py)."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from giftcash.catalogue import live as catalogue
from giftcash.entrypoints.web.console_pages import allow, console_errors, render_console, router
from giftcash.entrypoints.web.i18n import N_
from giftcash.entrypoints.web.security import deps_of
from giftcash.resale import overview

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
}


@resale.get("/resale")
@console_errors
def resale_page(request: Request) -> Response:
    allow(request, "resale")
    deps = deps_of(request)
    brands = catalogue.current_brands(deps)
    context = {
        "view": overview.overview(deps),
        "brands": brands,
        "unit_states": UNIT_STATES,
        "order_states": ORDER_STATES,
        "deposit_states": DEPOSIT_STATES,
        "return_reasons": RETURN_REASONS,
    }
    return render_console(request, "console/resale.html", context)
