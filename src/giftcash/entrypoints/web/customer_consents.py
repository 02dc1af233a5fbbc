"""The consents asked again when a document's version changed: every signed-in page
sends the customer here first (``pages.require``), and back where they were going."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from giftcash.domain.errors import DomainError
from giftcash.entrypoints.web import messages
from giftcash.entrypoints.web.customer_auth import consent_answers
from giftcash.entrypoints.web.pages import (
    field,
    redirect,
    render,
    route_class,
    signed_in,
    status_of,
    tr_of,
)
from giftcash.entrypoints.web.security import CUSTOMER, deps_of, safe_next
from giftcash.identity import consents

router = APIRouter(route_class=route_class(CUSTOMER), include_in_schema=False)


def _page(request: Request, customer_id: str, target: str, **extra: object) -> Response:
    documents = consents.to_ask(deps_of(request), customer_id)
    status = int(str(extra.pop("status", 200)))
    context = {"documents": documents, "next": target, "ticked": {}, **extra}
    return render(request, "customer/consents.html", context, status=status)


@router.get("/consents")
def consents_page(request: Request, next: str | None = None) -> Response:
    customer_id = signed_in(request)
    if customer_id is None:
        return redirect(request, "/signin?next=/consents")
    return _page(request, customer_id, safe_next(next, "/sell"))


@router.post("/consents")
def give_consents(request: Request) -> Response:
    customer_id = signed_in(request)
    if customer_id is None:
        return redirect(request, "/signin?next=/consents")
    target = safe_next(field(request, "next", 300), "/sell")
    answers = consent_answers(request)
    try:
        consents.answer(deps_of(request), customer_id, answers)  # a second send adds nothing
    except DomainError as e:
        error = messages.error_text(tr_of(request), e)
        return _page(request, customer_id, target, error=error, ticked=answers, status=status_of(e))
    return redirect(request, target)
