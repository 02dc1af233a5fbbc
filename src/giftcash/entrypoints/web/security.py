"""Sessions, CSRF and response headers for the web pages (customer site and console).

- The session cookie holds the opaque bearer token that ``identity.customers.issue_token``
  made (stored hashed); HttpOnly, SameSite=Lax, Secure when the request came over https.
  A ``Realm`` names the cookie, the subject type and the sign-in page, so the operator
  console reuses all of this with its own cookie.
- CSRF tokens are session-bound and stateless: ``HMAC(server key, realm + binding)``, where
  the binding is the session cookie when there is one and otherwise a random pre-session
  cookie. Every POST must carry the token in the ``csrf_token`` field or the
  ``X-CSRF-Token`` header (HTMX); a cross-site ``Origin`` is refused as well.
- Pages get a Content-Security-Policy without inline script or style.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from giftcash.identity import customers
from giftcash.service.deps import Deps

PRE_COOKIE = "gc_pre"
LANG_COOKIE = "gc_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
PRE_COOKIE_MAX_AGE_S = 7 * 24 * 3600
LANG_COOKIE_MAX_AGE_S = 365 * 24 * 3600

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)

PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    # Pages show balances, codes (masked) and accounts: no shared or back-button caches.
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class Realm:
    """Who signs in where: the customer site and the operator console differ only here."""

    name: str
    session_cookie: str
    signin_path: str
    authenticate: Callable[[Deps, str], str]  # token -> subject id, or raises Unauthorized
    error_template: str = "error.html"  # the page a refused form or an error answers with


def _customer(deps: Deps, token: str) -> str:
    return customers.authenticate(deps, token, "customer")


CUSTOMER = Realm("customer", "gc_session", "/signin", _customer)


def deps_of(request: Request) -> Deps:
    return request.app.state.deps


def is_secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
    )


def clear_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=is_secure(request))


def session_token(request: Request, realm: Realm) -> str | None:
    return request.cookies.get(realm.session_cookie) or None


def _binding(request: Request, realm: Realm, *, create: bool) -> str | None:
    token = session_token(request, realm)
    if token:
        return f"s:{token}"
    pre = getattr(request.state, "new_pre_cookie", None) or request.cookies.get(PRE_COOKIE)
    if not pre and create:
        pre = secrets.token_urlsafe(24)
        request.state.new_pre_cookie = pre  # render() sets it on the response
    return f"p:{pre}" if pre else None


def binding(request: Request, realm: Realm, *, create: bool) -> str | None:
    """What a page's tokens are bound to: the session, else the pre-session cookie."""
    return _binding(request, realm, create=create)


def csrf_token(deps: Deps, request: Request, realm: Realm) -> str:
    binding = _binding(request, realm, create=True)
    assert binding is not None
    return deps.vault.hmac(f"csrf:{realm.name}:{binding}")


def csrf_valid(deps: Deps, request: Request, realm: Realm, submitted: str | None) -> bool:
    binding = _binding(request, realm, create=False)
    if not binding or not submitted:
        return False
    expected = deps.vault.hmac(f"csrf:{realm.name}:{binding}")
    return hmac.compare_digest(expected.encode(), submitted.encode())


def same_origin(request: Request) -> bool:
    """A browser names the site a POST came from; it must be this host. No header: a
    non-browser client or an old browser, judged by the CSRF token alone. The scheme is
    not compared: behind a TLS-terminating proxy the app may see http for an https page."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return origin != "null" and urlsplit(origin).netloc == request.headers.get("host", "")


async def submitted_csrf(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def finish(request: Request, response: Response) -> Response:
    """Headers every page answer carries, and the pre-session cookie when one was made."""
    for k, v in PAGE_HEADERS.items():
        response.headers.setdefault(k, v)
    pre = getattr(request.state, "new_pre_cookie", None)
    if pre:
        set_cookie(request, response, PRE_COOKIE, pre, PRE_COOKIE_MAX_AGE_S)
    return response


def safe_next(value: str | None, default: str) -> str:
    """Only a path on this site: never ``//host`` or ``https://host`` (open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if any(ord(c) < 32 for c in value):
        return default
    return value
