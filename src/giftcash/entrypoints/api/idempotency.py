"""``Idempotency-Key`` on every POST that creates or moves something (Stripe's rules).

The key is stored, with a hash of the request, before the work starts (a recovery point).
A replay returns the stored answer; the same key with another body is 409
``idempotency_key_reused``; a replay that arrives while the first request is still running
waits for its answer, so concurrent replays get identical answers and one effect.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from giftcash.domain.errors import DomainError
from giftcash.entrypoints.api.problems import PROBLEM, domain_problem
from giftcash.service.deps import Deps
from giftcash.service.errors import IdempotencyKeyInUse, IdempotencyKeyReused, InvalidInput

LOCK_S = 60
WAIT_S = 15.0


def request_hash(request: Request, body: bytes) -> str:
    h = hashlib.sha256()
    h.update(request.method.encode())
    h.update(b" ")
    h.update(request.url.path.encode())
    h.update(b"\n")
    h.update(body)
    return h.hexdigest()


def check_key(key: str) -> str:
    if not (1 <= len(key) <= 255) or not key.isprintable():
        raise InvalidInput("Idempotency-Key must be 1 to 255 printable characters")
    return key


def run(
    deps: Deps,
    scope: str,
    key: str | None,
    req_hash: str,
    work: Callable[[], tuple[int, Any]],
) -> JSONResponse:
    """Run ``work`` at most once per (scope, key); return the stored answer after."""
    if key is None:
        status, body = _capture(work)
        return _response(status, body, replayed=False)
    check_key(key)
    deadline = time.monotonic() + WAIT_S
    while True:
        now = deps.clock.now()
        with deps.uow() as uow:
            rec = uow.idempotency.get(scope, key)
            if rec is None:
                if uow.idempotency.lock(scope, key, req_hash, now + timedelta(seconds=LOCK_S), now):
                    uow.commit()
                    break
                # someone else inserted it between our read and insert: look again
                continue
            if rec.request_hash != req_hash:
                raise IdempotencyKeyReused("this Idempotency-Key was used with a different request")
            if rec.status_code is not None:
                return _response(rec.status_code, json.loads(rec.response_body), replayed=True)
            if rec.locked_until <= now:  # the first attempt died: take it over
                uow.idempotency.relock(scope, key, now + timedelta(seconds=LOCK_S))
                uow.commit()
                break
        if time.monotonic() > deadline:
            raise IdempotencyKeyInUse("a request with this Idempotency-Key is still running")
        time.sleep(0.02)
    try:
        status, body = _capture(work)
    except BaseException:
        with deps.uow() as uow:
            uow.idempotency.forget(scope, key)
            uow.commit()
        raise
    with deps.uow() as uow:
        if status >= 500 or status == 503:
            uow.idempotency.forget(scope, key)  # nothing happened: let the client retry
        else:
            uow.idempotency.complete(scope, key, status, json.dumps(body, default=str))
        uow.commit()
    return _response(status, body, replayed=False)


def _capture(work: Callable[[], tuple[int, Any]]) -> tuple[int, Any]:
    try:
        return work()
    except DomainError as e:
        return domain_problem(e)


def _response(status: int, body: Any, *, replayed: bool) -> JSONResponse:
    media = PROBLEM if status >= 400 else "application/json"
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, media_type=media, headers=headers)
