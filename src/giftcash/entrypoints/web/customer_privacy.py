"""The customer's own data (a JSON download) and withdrawal (탈퇴) from the account page:
the password again, a one-use form, refused with the reason while sales or payouts are
open; after it the session ends and a page says when the phone can sign up again."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime

from fastapi import APIRouter, Request
from starlette.responses import Response

from giftcash.domain.errors import DomainError
from giftcash.entrypoints.web import form_tokens, messages
from giftcash.entrypoints.web.customer_accounts import account_page
from giftcash.entrypoints.web.pages import (
    form,
    render,
    require,
    route_class,
    status_of,
    tr_of,
)
from giftcash.entrypoints.web.security import CUSTOMER, clear_cookie, deps_of
from giftcash.privacy import own_data, withdrawal
from giftcash.service.deps import Deps

router = APIRouter(route_class=route_class(CUSTOMER), include_in_schema=False)


def _iso(value: object) -> str:
    """Times and days in the download: ISO 8601 (UTC for times)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


@router.get("/accounts/data")
def download_own_data(request: Request) -> Response:
    customer_id = require(request)
    document = asdict(own_data.own_data(deps_of(request), customer_id))
    body = json.dumps(document, ensure_ascii=False, indent=2, default=_iso)
    return Response(
        body,
        media_type="application/json; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="giftcash-my-data.json"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/accounts/withdraw")
def withdraw(request: Request) -> Response:
    customer_id = require(request)
    password = form(request).get("password")
    typed = password if isinstance(password, str) else ""

    def work(deps: Deps) -> dict[str, str]:
        rejoin = withdrawal.withdraw(deps, customer_id, typed[:200])
        return {"rejoin_on": rejoin.isoformat()}

    try:
        answer = form_tokens.run(request, CUSTOMER, customer_id, work)
    except DomainError as e:
        error = messages.error_text(tr_of(request), e)
        return account_page(request, customer_id, status=status_of(e), withdraw_error=error)
    setattr(request.state, f"subject_{CUSTOMER.name}", None)  # signed out from here on
    rejoin_on = date.fromisoformat(answer["rejoin_on"])
    response = render(request, "customer/withdrawn.html", {"rejoin_on": rejoin_on})
    clear_cookie(request, response, CUSTOMER.session_cookie)
    return response
