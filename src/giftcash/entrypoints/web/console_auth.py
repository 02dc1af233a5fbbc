"""Console sign-in (username, password and the authenticator's six-digit code), sign-out
and the language switch, under ``/admin``."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from giftcash.domain.errors import DomainError
from giftcash.entrypoints.web.console_pages import (
    HOME,
    OPERATOR,
    current_operator,
    error_text,
    home_for,
    render_console,
    router,
)
from giftcash.entrypoints.web.i18n import LANGS
from giftcash.entrypoints.web.pages import SignInRequired, field, redirect, status_of, tr_of
from giftcash.entrypoints.web.security import (
    LANG_COOKIE,
    LANG_COOKIE_MAX_AGE_S,
    clear_cookie,
    deps_of,
    safe_next,
    set_cookie,
)
from giftcash.identity import operators, sessions

auth = router()


def _target(value: str | None, role: str) -> str:
    """Where to go after signing in: a console page asked for, else the role's home."""
    home = "/admin/review" if role == "reviewer" else HOME
    target = safe_next(value, home)
    return target if target == HOME or target.startswith(HOME + "/") else home


def _form(request: Request, username: str, next_: str, status: int = 200, error: str | None = None):
    context = {"username": username, "next": next_, "error": error}
    return render_console(request, "console/signin.html", context, status=status)


@auth.get("/signin")
def signin_page(request: Request, next: str | None = None) -> Response:
    try:
        op = current_operator(request)
    except SignInRequired:
        return _form(request, "", safe_next(next, HOME))
    return redirect(request, home_for(op))


@auth.post("/signin")
def signin(request: Request) -> Response:
    username = field(request, "username", 64).lower()
    next_ = field(request, "next", 300)
    deps = deps_of(request)
    try:
        token = operators.issue_token(
            deps,
            username=username,
            password=field(request, "password", 200),
            totp=field(request, "totp", 12).replace(" ", ""),
        )
    except DomainError as e:  # wrong password or code, a used code, too many attempts
        return _form(request, username, next_, status_of(e), error_text(tr_of(request), e))
    response = redirect(request, _target(next_, token.role))
    set_cookie(request, response, OPERATOR.session_cookie, token.access_token, token.expires_in)
    return response


@auth.post("/signout")
def signout(request: Request) -> Response:
    # the token stops working now (not only in this browser), and the browser forgets it
    sessions.revoke_token(deps_of(request), request.cookies.get(OPERATOR.session_cookie, ""))
    response = redirect(request, "/admin/signin")
    clear_cookie(request, response, OPERATOR.session_cookie)
    return response


@auth.post("/lang")
def switch_language(request: Request) -> Response:
    lang = field(request, "lang", 8)
    response = redirect(request, safe_next(field(request, "next", 300), HOME))
    if lang in LANGS:
        set_cookie(request, response, LANG_COOKIE, lang, LANG_COOKIE_MAX_AGE_S)
    return response
