"""Sign-up (an SMS code, or a request confirmed on the phone where identity verification
is configured), sign-in, sign-out, and the language switch."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from starlette.responses import Response

from giftcash.domain.errors import DomainError
from giftcash.entrypoints.web import form_tokens, messages
from giftcash.entrypoints.web.i18n import LANGS
from giftcash.entrypoints.web.pages import (
    client_address,
    field,
    redirect,
    render,
    route_class,
    signed_in,
    status_of,
    tr_of,
)
from giftcash.entrypoints.web.security import (
    CUSTOMER,
    LANG_COOKIE,
    LANG_COOKIE_MAX_AGE_S,
    clear_cookie,
    deps_of,
    safe_next,
    set_cookie,
)
from giftcash.identity import consents, customers, sessions
from giftcash.service.deps import Deps

router = APIRouter(route_class=route_class(CUSTOMER), include_in_schema=False)

PUBLIC = "public"  # the idempotency scope before there is a customer (as the API's)


def consent_answers(request: Request) -> dict[str, bool]:
    """The consent boxes of a form (``consent_<document>``), each ticked or not."""
    return {d.id: field(request, f"consent_{d.id}", 8) == "on" for d in consents.DOCUMENTS}


def _signup_form(request: Request, status: int = 200, error: str | None = None) -> Response:
    values = {k: field(request, k) for k in ("name", "phone", "birth_date")}
    context = {
        "values": values,
        "error": error,
        "documents": consents.DOCUMENTS,
        "ticked": consent_answers(request) if request.method == "POST" else {},
        "identity": deps_of(request).identity is not None,
    }
    return render(request, "customer/signup.html", context, status=status)


@router.get("/signup")
def signup_page(request: Request) -> Response:
    return _signup_form(request)


@router.post("/signup")
def signup(request: Request) -> Response:
    tr = tr_of(request)
    try:
        birth = date.fromisoformat(field(request, "birth_date", 10))
    except ValueError:
        return _signup_form(
            request, 422, tr(messages.FIELD_ERRORS[("invalid_input", "birth_date")])
        )

    def work(deps: Deps) -> dict[str, str]:
        phone = field(request, "phone", 40)
        customers.signup(
            deps,
            phone=phone,
            name=field(request, "name", 50),
            birth_date=birth,
            password=field(request, "password", 200),
            device_key=client_address(request),
            consent_answers=consent_answers(request),
        )
        return {"phone": phone}

    try:
        # sends an SMS: phased; sent twice it asks for the one code sent, not "phone taken"
        answer = form_tokens.run(request, CUSTOMER, PUBLIC, work, calls_out=True)
    except DomainError as e:
        return _signup_form(request, status_of(e), messages.error_text(tr, e))
    return render(request, _confirm_page(request), {"phone": answer["phone"]})


def _confirm_page(request: Request) -> str:
    """Where the sign-up waits: the SMS code, or the request on the phone (본인인증)."""
    if deps_of(request).identity is not None:
        return "customer/verify_identity.html"
    return "customer/verify_phone.html"


def _confirm_error(request: Request, phone: str, e: DomainError) -> dict[str, object]:
    context: dict[str, object] = {"phone": phone, "error": messages.error_text(tr_of(request), e)}
    if e.code == "identity_already_registered":  # one person, one account: point to it
        context["registered"] = str(e.context.get("masked_phone", ""))
    return context


@router.post("/signup/resend")
def resend_code(request: Request) -> Response:
    """A new code on the same page: what was typed at sign-up stays as it was."""
    phone = field(request, "phone", 40)

    def work(deps: Deps) -> dict[str, str]:
        customers.resend_code(deps, phone=phone, device_key=client_address(request))
        return {"phone": phone}

    context: dict[str, object] = {"phone": phone}
    try:
        form_tokens.run(request, CUSTOMER, PUBLIC, work, calls_out=True)
        tr = tr_of(request)
        if deps_of(request).identity is not None:
            context["notice"] = tr("We sent a new request to your phone.")
        else:
            context["notice"] = tr("We sent a new verification code.")
        status = 200
    except DomainError as e:
        context = _confirm_error(request, phone, e)
        status = status_of(e)
    return render(request, _confirm_page(request), context, status=status)


@router.post("/signup/verify")
def verify_phone(request: Request) -> Response:
    phone = field(request, "phone", 40)
    # the session token stays out of the form token's stored answer (no secret stored
    # beside it); a form sent twice answers the second time with the sign-in page
    signed: list[str] = []

    def work(deps: Deps) -> dict[str, str]:
        code = field(request, "code", 12)
        token = customers.verify_phone(
            deps, phone=phone, code=code, device_key=client_address(request), sign_in=True
        )
        signed.extend([token] if token else [])
        return {"phone": phone}

    try:
        # sent twice: the second answer is the first one's, not "wrong code"
        form_tokens.run(request, CUSTOMER, PUBLIC, work)
    except DomainError as e:
        if signed_in(request) is not None:  # sent again after it signed this browser in
            return redirect(request, "/accounts")
        return render(
            request, _confirm_page(request), _confirm_error(request, phone, e), status=status_of(e)
        )
    if signed:
        response = redirect(request, "/accounts?done=welcome")
        ttl_s = deps_of(request).limits.token_ttl_s
        set_cookie(request, response, CUSTOMER.session_cookie, signed[0], ttl_s)
        return response
    tr = tr_of(request)
    notice = tr("Your phone number is confirmed. Sign in to continue.")
    return render(
        request, "customer/signin.html", {"phone": phone, "next": "/sell", "notice": notice}
    )


@router.get("/signin")
def signin_page(request: Request, next: str | None = None) -> Response:
    return render(request, "customer/signin.html", {"phone": "", "next": safe_next(next, "/sell")})


@router.post("/signin")
def signin(request: Request) -> Response:
    phone, target = field(request, "phone", 40), safe_next(field(request, "next", 300), "/sell")
    deps = deps_of(request)
    try:
        token = customers.issue_token(
            deps,
            phone=phone,
            password=field(request, "password", 200),
            device_key=client_address(request),
        )
    except DomainError as e:  # wrong password, phone not confirmed, too many attempts
        return render(
            request,
            "customer/signin.html",
            {"phone": phone, "next": target, "error": _signin_error(request, e)},
            status=status_of(e),
        )
    response = redirect(request, target)
    set_cookie(request, response, CUSTOMER.session_cookie, token, deps.limits.token_ttl_s)
    return response


def _signin_error(request: Request, e: DomainError) -> str:
    tr = tr_of(request)
    if e.code == "too_many_attempts":
        minutes = max(1, deps_of(request).limits.failure_window_s // 60)
        return tr("Too many wrong attempts. Wait %(n)s minutes, then try again.", n=minutes)
    return messages.error_text(tr, e)


@router.post("/signout")
def signout(request: Request) -> Response:
    # the token stops working now (not only in this browser), and the browser forgets it
    sessions.revoke_token(deps_of(request), request.cookies.get(CUSTOMER.session_cookie, ""))
    response = redirect(request, "/")
    clear_cookie(request, response, CUSTOMER.session_cookie)
    return response


@router.post("/lang")
def switch_language(request: Request) -> Response:
    lang = field(request, "lang", 8)
    response = redirect(request, safe_next(field(request, "next", 300), "/"))
    if lang in LANGS:
        set_cookie(request, response, LANG_COOKIE, lang, LANG_COOKIE_MAX_AGE_S)
    return response
