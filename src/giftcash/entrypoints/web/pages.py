"""How a page is answered: Jinja2 templates per language, the route class every page route
uses (CSRF on every unsafe method, operating errors as pages, sign-in redirects), and the
signed-in subject.

Page functions are plain ``def``s (FastAPI runs them in its thread pool, so the
synchronous service calls never block the event loop): parse, call one service function,
``render``. The route class reads a POST's form once, checks its CSRF token and leaves
the form in ``request.state.form`` for the page function.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from giftcash import __version__
from giftcash.domain.errors import DomainError
from giftcash.entrypoints.api.problems import STATUS_BY_KIND
from giftcash.entrypoints.web import form_tokens, messages
from giftcash.entrypoints.web.i18n import Tr, pick_lang, translations
from giftcash.entrypoints.web.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    CUSTOMER,
    LANG_COOKIE,
    Realm,
    csrf_token,
    csrf_valid,
    deps_of,
    finish,
    same_origin,
    session_token,
    submitted_csrf,
)
from giftcash.identity import consents
from giftcash.service import errors

TEMPLATES = Path(__file__).parent / "templates"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ConsentsToAsk(Exception):
    """A required document changed (or was never agreed to, e.g. an API sign-up): the
    customer answers it before any signed-in page (customer_consents.py)."""


class SignInRequired(Exception):
    """Raised by a page that needs a signed-in subject; answered with a redirect."""


@cache
def environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html",)),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        version=__version__,
        csrf_field=CSRF_FIELD,
        csrf_header=CSRF_HEADER,
        form_token_field=form_tokens.FIELD,
        ITEM_STATUS=messages.ITEM_STATUS,
        ITEM_STEPS=messages.ITEM_STEPS,
        ITEM_STEP_OF=messages.ITEM_STEP_OF,
        SUBMISSION_STATUS=messages.SUBMISSION_STATUS,
        PAYOUT_STATUS=messages.PAYOUT_STATUS,
        ORDER_STATUS=messages.ORDER_STATUS,
        DEPOSIT_STATUS=messages.DEPOSIT_STATUS,
        CLAIM_STATUS=messages.CLAIM_STATUS,
        RETURN_REASONS=messages.RETURN_REASONS,
        ACCOUNT_STATUS=messages.ACCOUNT_STATUS,
        FUNDING_SOURCES=messages.FUNDING_SOURCES,
        ROUTES=messages.ROUTES,
        ROUTE_HELP=messages.ROUTE_HELP,
        SCAM_WARNING=messages.SCAM_WARNING,
    )
    return env


def lang_of(request: Request) -> str:
    return pick_lang(request.cookies.get(LANG_COOKIE))


def tr_of(request: Request) -> Tr:
    return Tr(lang_of(request))


def form(request: Request) -> FormData:
    """The POST's form, read (and CSRF-checked) by the route class."""
    return getattr(request.state, "form", None) or FormData()


def field(request: Request, name: str, limit: int = 200) -> str:
    value = form(request).get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def client_address(request: Request) -> str | None:
    """Where a request came from, as the brute-force guard counts failures (the API does
    the same): the peer, or X-Forwarded-For from a trusted proxy (client_address.py)."""
    from giftcash.entrypoints.client_address import client_address as of_request

    return of_request(request)


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def signed_in(request: Request, realm: Realm = CUSTOMER) -> str | None:
    """The subject id behind the session cookie, or None (cached for the request)."""
    key = f"subject_{realm.name}"
    if hasattr(request.state, key):
        return getattr(request.state, key)
    subject: str | None = None
    token = session_token(request, realm)
    if token:
        try:
            subject = realm.authenticate(deps_of(request), token)
        except errors.Unauthorized:
            subject = None
    setattr(request.state, key, subject)
    return subject


def require(request: Request, realm: Realm = CUSTOMER) -> str:
    subject = signed_in(request, realm)
    if subject is None:
        raise SignInRequired
    if realm is CUSTOMER and any(d.required for d in consents.to_ask(deps_of(request), subject)):
        raise ConsentsToAsk
    return subject


def page_context(tr: Tr) -> dict[str, Any]:
    """What every template may use besides its own values (no request needed)."""
    return {
        "lang": tr.lang,
        "tr": tr,
        "fmt": tr.fmt,
        "error": None,
        "notice": None,
        "format_hint": lambda brand: messages.format_hint(tr, brand),
        "pin_label_of": lambda brand: messages.pin_label(tr, brand),
        "decline_text": lambda code, message=None: messages.decline_text(tr, code, message),
        "decline_routes": messages.decline_routes,
        "item_routes": messages.item_routes,
        "route_views": messages.route_views,
        "note_text": lambda note: messages.note_text(tr, note),
        "review_text": lambda item: messages.review_text(tr, item),
        "evidence_text": lambda answer: messages.evidence_text(tr, answer),
    }


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    realm: Realm = CUSTOMER,
) -> HTMLResponse:
    tr = tr_of(request)
    ctx = page_context(tr)
    ctx.update(
        request_path=request.url.path,
        csrf_token=csrf_token(deps_of(request), request, realm),
        form_token=lambda: form_tokens.issue(request, realm),  # a fresh one per form
        signed_in=signed_in(request, realm) is not None,
        business=deps_of(request).business,
    )
    ctx.update(context or {})
    html = environment(tr.lang).get_template(template).render(ctx)
    response = HTMLResponse(html, status_code=status)
    response.headers["Content-Language"] = tr.lang
    return finish(request, response)  # type: ignore[return-value]


def redirect(request: Request, url: str) -> Response:
    """See other: an HTMX request follows ``HX-Redirect``, a browser the 303."""
    if is_htmx(request):
        response: Response = Response(status_code=200, headers={"HX-Redirect": url})
    else:
        response = RedirectResponse(url, status_code=303)
    return finish(request, response)


def status_of(e: DomainError) -> int:
    return STATUS_BY_KIND.get(e.kind, 422)


def render_error(request: Request, status: int, message: str, realm: Realm = CUSTOMER) -> Response:
    context = {"message": message}
    return render(request, realm.error_template, context, status=status, realm=realm)


FormReader = Callable[[Request], Coroutine[Any, Any, FormData]]


def route_class(realm: Realm, read_form: FormReader | None = None) -> type[APIRoute]:
    """An ``APIRoute`` whose pages check CSRF on every unsafe method and turn operating
    errors and missing sessions into pages, for one realm. ``read_form`` replaces
    Starlette's form parsing (which spools a file over 1 MiB to disk) for a form of files
    that must stay in memory."""

    class PageRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def page(request: Request) -> Response:
                if request.method not in SAFE_METHODS:
                    unread: DomainError | None = None
                    try:
                        submitted = await _read_form(request, read_form)
                    except DomainError as e:  # a body the reader refuses: CSRF first
                        submitted, unread = request.headers.get(CSRF_HEADER), e
                    deps = deps_of(request)
                    if not (same_origin(request) and csrf_valid(deps, request, realm, submitted)):
                        msg = tr_of(request)(messages.ERRORS["csrf"])
                        return await run_in_threadpool(render_error, request, 403, msg, realm)
                    if unread is not None:
                        msg = messages.error_text(tr_of(request), unread)
                        status = status_of(unread)
                        return await run_in_threadpool(render_error, request, status, msg, realm)
                try:
                    return await handler(request)
                except SignInRequired:
                    target = request.url.path if request.method == "GET" else "/"
                    return redirect(request, f"{realm.signin_path}?next={quote(target)}")
                except ConsentsToAsk:
                    target = request.url.path if request.method == "GET" else "/sell"
                    return redirect(request, f"/consents?next={quote(target)}")
                except DomainError as e:
                    msg = messages.error_text(tr_of(request), e)
                    return await run_in_threadpool(render_error, request, status_of(e), msg, realm)

            return page

    return PageRoute


async def _read_form(request: Request, read_form: FormReader | None) -> str | None:
    """Leave the POST's form in ``request.state.form``; answer the CSRF token sent."""
    multipart = request.headers.get("content-type", "").startswith("multipart/form-data")
    if read_form is not None and multipart:
        request.state.form = await read_form(request)
        header = request.headers.get(CSRF_HEADER)
        value = header or request.state.form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    submitted = await submitted_csrf(request)
    if _is_form(request):
        request.state.form = await request.form()
    return submitted


def _is_form(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    return content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))
