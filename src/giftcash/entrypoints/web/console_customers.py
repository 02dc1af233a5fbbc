"""Customers (admin): a search by the last digits of the phone number or by name, and each
customer's record: limits used today, holds, flags, bank accounts, items and payouts."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from giftcash.domain.banks import BANKS
from giftcash.domain.brands import brand_index
from giftcash.entrypoints.web.console_pages import allow, console_errors, render_console, router
from giftcash.entrypoints.web.security import deps_of
from giftcash.identity import customer_lookup

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


@customers.get("/customers")
@console_errors
def customers_page(request: Request, q: str = "") -> Response:
    allow(request, "customers")
    q = q[:50]
    found = customer_lookup.find_customers(deps_of(request), q) if q.strip() else None
    context = {"q": q, "found": found, "masked_phone": masked_phone}
    return render_console(request, "console/customers.html", context)


@customers.get("/customers/{customer_id}")
@console_errors
def customer_page(request: Request, customer_id: str) -> Response:
    allow(request, "customers")
    deps = deps_of(request)
    record = customer_lookup.customer_record(deps, customer_id[:64])
    context = {
        "r": record,
        "phone": dashed_phone(record.customer.phone),
        "banks": BANKS,
        "brands": brand_index(deps.brand_catalogue),
    }
    return render_console(request, "console/customer.html", context)
