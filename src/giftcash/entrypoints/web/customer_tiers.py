"""The customer's verification level on their account page: verify their identity on the
phone (tier 1), check their ID card (tier 2), answer the enhanced-due-diligence
questions. Each form carries a one-use token."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from starlette.responses import Response

from giftcash.domain.errors import DomainError
from giftcash.entrypoints.web import form_tokens, messages
from giftcash.entrypoints.web.customer_accounts import account_page
from giftcash.entrypoints.web.pages import (
    client_address,
    field,
    redirect,
    require,
    route_class,
    status_of,
    tr_of,
)
from giftcash.entrypoints.web.security import CUSTOMER
from giftcash.identity import tiers, verification
from giftcash.service import errors
from giftcash.service.deps import Deps

router = APIRouter(route_class=route_class(CUSTOMER), include_in_schema=False)


def _run(request: Request, customer_id: str, work: form_tokens.FormWork, **kw: bool) -> Response:
    try:
        answer = form_tokens.run(request, CUSTOMER, customer_id, work, **kw)
    except DomainError as e:
        error = messages.error_text(tr_of(request), e)
        return account_page(request, customer_id, status=status_of(e), tier_error=error)
    return redirect(request, answer["location"])


@router.post("/accounts/identity")
def start_identity(request: Request) -> Response:
    customer_id = require(request)

    def work(deps: Deps) -> dict[str, str]:
        verification.start_link(deps, customer_id, device_key=client_address(request))
        return {"location": "/accounts?done=identity_sent"}

    return _run(request, customer_id, work, calls_out=True)


@router.post("/accounts/identity/confirm")
def confirm_identity(request: Request) -> Response:
    customer_id = require(request)

    def work(deps: Deps) -> dict[str, str]:
        verification.complete_link(deps, customer_id)
        return {"location": "/accounts?done=identity_verified"}

    return _run(request, customer_id, work, calls_out=True)


@router.post("/accounts/id-document")
def check_id_document(request: Request) -> Response:
    customer_id = require(request)

    def work(deps: Deps) -> dict[str, str]:
        try:
            issued = date.fromisoformat(field(request, "issue_date", 10))
        except ValueError:
            raise errors.InvalidInput("enter the issue date", field="issue_date") from None
        tiers.check_id_document(
            deps,
            customer_id,
            id_number=field(request, "id_number", 20),
            issue_date=issued,
            device_key=client_address(request),
        )
        return {"location": "/accounts?done=document"}

    return _run(request, customer_id, work, calls_out=True)


@router.post("/accounts/due-diligence")
def answer_due_diligence(request: Request) -> Response:
    customer_id = require(request)

    def work(deps: Deps) -> dict[str, str]:
        tiers.answer_edd(
            deps,
            customer_id,
            occupation=field(request, "occupation", 100),
            source_of_funds=field(request, "source_of_funds", 100),
            purpose=field(request, "purpose", 100),
        )
        return {"location": "/accounts?done=edd"}

    return _run(request, customer_id, work)
