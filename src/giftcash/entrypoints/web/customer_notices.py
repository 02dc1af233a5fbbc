"""The customer's choice of notices by text message (paid, declined, held, returned),
a form on the account page; payouts/notices.py sends them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from giftcash.domain.errors import DomainError
from giftcash.entrypoints.web import form_tokens, messages
from giftcash.entrypoints.web.customer_accounts import account_page
from giftcash.entrypoints.web.pages import form, redirect, require, route_class, status_of, tr_of
from giftcash.entrypoints.web.security import CUSTOMER
from giftcash.payouts import notices
from giftcash.service.deps import Deps

router = APIRouter(route_class=route_class(CUSTOMER), include_in_schema=False)


@router.post("/accounts/notices")
def choose_notices(request: Request) -> Response:
    customer_id = require(request)
    wanted = [v for v in form(request).getlist("notice") if v in notices.EVENTS]

    def work(deps: Deps) -> dict[str, str]:
        notices.choose(deps, customer_id, wanted)
        return {"location": "/accounts?done=notices"}

    try:
        answer = form_tokens.run(request, CUSTOMER, customer_id, work)
    except DomainError as e:  # a form token past its time: the page says so
        error = messages.error_text(tr_of(request), e)
        return account_page(request, customer_id, status=status_of(e), notices_error=error)
    return redirect(request, answer["location"])
