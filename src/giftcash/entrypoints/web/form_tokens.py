"""One-use form tokens: the idempotency key of a web form that creates or moves something.

A page renders each such form with a fresh token (a hidden field): a random nonce, its
expiry and an HMAC binding both to the session (or, before sign-in, the pre-session
cookie). The form's POST runs its command through ``service.idempotency`` with the nonce
as key, scoped to the principal, and a hash of the form's fields as the request: sent
twice (a double tap, a browser retry) it has one effect and the second answer is the
first one (the same receipt). A token past its time, from another session or not ours is
refused (``FormExpired``) and nothing is done. A refusal frees the token, so a form that
stays on the page (HTMX swaps only its message area) can be corrected and sent again.

A POST without the field (a hand-made request, never one of our pages) runs unkeyed, as
the API does without ``Idempotency-Key``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from giftcash.entrypoints.web.security import Realm, binding, deps_of
from giftcash.service import idempotency
from giftcash.service.deps import Deps
from giftcash.service.errors import FormExpired

FIELD = "form_token"
TTL_S = 12 * 3600  # a sell form left open over a working day still sends
MAX_TOKEN_CHARS = 200
# Not in the stored request hash: the tokens themselves, and a password (an unsalted
# hash of it in the idempotency table could be checked against guesses).
SKIPPED_FIELDS = frozenset({FIELD, "csrf_token", "password"})

FormWork = Callable[[Deps], dict[str, str]]


def issue(request: Request, realm: Realm) -> str:
    deps = deps_of(request)
    bound = binding(request, realm, create=True)
    assert bound is not None
    nonce = secrets.token_urlsafe(16)
    expires = int(deps.clock.now().timestamp()) + TTL_S
    return f"{nonce}.{expires}.{_mac(deps, realm, bound, nonce, expires)}"


def _mac(deps: Deps, realm: Realm, bound: str, nonce: str, expires: int) -> str:
    return deps.vault.hmac(f"form:{realm.name}:{bound}:{nonce}:{expires}")


def _key(request: Request, realm: Realm, form: Any) -> str | None:
    """The form's idempotency key; None when it carries no token; FormExpired when the
    token is malformed, foreign or past its time."""
    value = form.get(FIELD)
    if value is None:
        return None
    deps = deps_of(request)
    parts = value.split(".") if isinstance(value, str) and len(value) <= MAX_TOKEN_CHARS else []
    bound = binding(request, realm, create=False)
    if len(parts) != 3 or not parts[1].isdigit() or bound is None:
        raise FormExpired("the form's token is not valid here")
    nonce, expires, mac = parts[0], int(parts[1]), parts[2]
    expected = _mac(deps, realm, bound, nonce, expires)
    if not hmac.compare_digest(expected.encode(), mac.encode()):
        raise FormExpired("the form's token is not valid here")
    if expires <= deps.clock.now().timestamp():
        raise FormExpired("the form's token has expired")
    return f"form:{nonce}"


def _request_hash(request: Request, form: Any) -> str:
    """What was asked: the method, the path and the form's fields (files by content)."""
    h = hashlib.sha256(f"{request.method} {request.url.path}\n".encode())
    for name, value in form.multi_items():
        if name in SKIPPED_FIELDS:
            continue
        h.update(name.encode() + b"=")
        if isinstance(value, UploadFile):
            value.file.seek(0)  # from its start, whoever read it before
            data = value.file.read()
            value.file.seek(0)
            h.update(hashlib.sha256(data).digest())
        else:
            h.update(hashlib.sha256(str(value).encode()).digest())
    return h.hexdigest()


def run(
    request: Request, realm: Realm, scope: str, work: FormWork, *, calls_out: bool = False
) -> dict[str, str]:
    """Run the form's command once per its token; return its answer (the first one's on a
    resubmission). ``work`` must use the ``Deps`` it is given (they join the key's
    transaction); a ``DomainError`` it raises is raised here, and the token stays usable."""
    form = getattr(request.state, "form", None)
    key = _key(request, realm, form) if form is not None else None
    command = (
        None
        if key is None
        else idempotency.Command(scope, key, _request_hash(request, form), calls_out=calls_out)
    )
    answer = idempotency.run_once(deps_of(request), command, lambda deps: (200, work(deps)))
    body: dict[str, str] = answer.body
    return body
