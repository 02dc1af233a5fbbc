"""The customer's own-name bank accounts: add one, verify it with the 1-won deposit's code.
The same page holds the choice of notices (customer_notices.py) and, where identity
checks are in force, the customer's verification level (customer_tiers.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from giftcash.domain.banks import BANKS, banks_by_use
from giftcash.domain.errors import DomainError
from giftcash.entrypoints.web import form_tokens, messages
from giftcash.entrypoints.web.pages import (
    client_address,
    field,
    redirect,
    render,
    require,
    route_class,
    status_of,
    tr_of,
)
from giftcash.entrypoints.web.security import CUSTOMER, deps_of
from giftcash.identity import bank_accounts, customers, tiers
from giftcash.payouts import notices
from giftcash.service.deps import Deps

router = APIRouter(route_class=route_class(CUSTOMER), include_in_schema=False)

NOTICES = {
    "added": messages.N_(
        "We sent 1 won to the account. Open your bank app, find the deposit from giftcash "
        "and enter the code shown with it (GC and four digits)."
    ),
    "verified": messages.N_("Your account is verified. Payouts go there."),
    "notices": messages.N_("Your choice of text messages is saved."),
    # due diligence (customer_tiers.py)
    "identity_sent": messages.N_(
        "We sent a request to your phone. Confirm it there, then press the button below."
    ),
    "identity_verified": messages.N_("Your identity is verified."),
    "document": messages.N_("Your ID card is checked. Your level has no daily amount now."),
    "edd": messages.N_("Thank you. Your answers are saved."),
    "welcome": messages.N_(
        "Your phone number is confirmed and you are signed in. Add your own bank account "
        "to receive payouts."
    ),
}


def account_page(
    request: Request, customer_id: str, *, status: int = 200, **extra: object
) -> Response:
    deps = deps_of(request)
    accounts = bank_accounts.list_bank_accounts(deps, customer_id)
    customer = customers.get_customer(deps, customer_id)
    done = request.query_params.get("done")
    context = {
        "accounts": accounts,
        "banks": BANKS,
        "bank_order": banks_by_use(),
        "holder_name": customer.name,
        "values": {"bank_code": "", "account_number": ""},
        "notice": tr_of(request)(NOTICES[done]) if done in NOTICES else None,
        "verify_error": None,
        "verify_id": None,
        "notice_events": notices.EVENTS,
        "notices_chosen": notices.chosen(deps, customer_id),
        "notices_error": None,
        "tier": tiers.view(deps, customer_id) if deps.identity is not None else None,
        "tier_error": None,
        "withdraw_error": None,
        "keep_days": deps.retention.personal_keep_days,
        "keep_years": deps.retention.transaction_keep_years,
        **extra,
    }
    return render(request, "customer/accounts.html", context, status=status)


@router.get("/accounts")
def accounts_page(request: Request) -> Response:
    return account_page(request, require(request))


@router.get("/accounts/banks")
def bank_choice(request: Request, bank_q: str = "", bank_code: str = "") -> Response:
    """The bank list narrowed to what the customer typed in its search box (HTMX)."""
    most, rest = banks_by_use(bank_q[:40])
    context = {"banks": BANKS, "most": most, "rest": rest, "bank_code": bank_code[:8]}
    return render(request, "customer/_bank_select.html", context)


@router.post("/accounts")
def add_account(request: Request) -> Response:
    customer_id = require(request)
    values = {"bank_code": field(request, "bank_code", 8), "account_number": ""}
    values["account_number"] = field(request, "account_number", 40)

    def work(deps: Deps) -> dict[str, str]:
        bank_accounts.add_bank_account(
            deps,
            customer_id,
            bank_code=values["bank_code"],
            account_number=values["account_number"],
            holder_name=field(request, "holder_name", 50),
            device_key=client_address(request),
        )
        return {"location": "/accounts?done=added"}

    try:
        # asks the bank and sends 1 won: phased (see service/idempotency.py)
        answer = form_tokens.run(request, CUSTOMER, customer_id, work, calls_out=True)
    except DomainError as e:
        error = messages.error_text(tr_of(request), e)
        return account_page(request, customer_id, status=status_of(e), error=error, values=values)
    return redirect(request, answer["location"])


@router.post("/accounts/{account_id}/verify")
def verify_account(request: Request, account_id: str) -> Response:
    customer_id = require(request)

    def work(deps: Deps) -> dict[str, str]:
        code = field(request, "code", 24)
        bank_accounts.verify_bank_account(deps, customer_id, account_id[:64], code)
        return {"location": "/accounts?done=verified"}

    try:
        answer = form_tokens.run(request, CUSTOMER, customer_id, work)
    except DomainError as e:
        error = messages.error_text(tr_of(request), e)
        return account_page(
            request, customer_id, status=status_of(e), verify_error=error, verify_id=account_id
        )
    return redirect(request, answer["location"])
