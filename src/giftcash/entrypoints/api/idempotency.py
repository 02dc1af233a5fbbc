"""``Idempotency-Key`` on every POST that creates or moves something (Stripe's rules).

A replay returns the stored answer; the same key with another body is 409
``idempotency_key_reused``; a replay that arrives while the first request is still running
waits for its answer, so concurrent replays get identical answers and one effect.

Commands that only touch our database (a submission, a webhook endpoint, a review
decision, a case's status) run in ONE transaction with their key: the key is taken, the
service does its work (its units of work join as savepoints) and the answer is stored,
then everything commits at once. A crash at any moment leaves either nothing (the replay
does the work) or the work and its answer together (the replay gets the answer): never
the work without the answer, which a replay would do a second time.

Commands that call another party between their own transactions (signing up sends an
SMS; adding a bank account asks the bank and sends 1 won) cannot hold one transaction
across those calls. For them the key is stored before the work (a recovery point, locked
for ``LOCK_S``) and the answer after it; their services are safe to run again (the
account's deposit is recorded before it is sent), so a replay after a crash in between
repeats the work, not its money.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from giftcash.adapters.db.uow import JoinedUnitOfWork
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
    work: Callable[[Deps], tuple[int, Any]],
    *,
    joined: bool = True,
) -> JSONResponse:
    """Run ``work`` at most once per (scope, key); return the stored answer after.

    ``work`` gets the dependencies to use. ``joined``: the command touches only our
    database, so it runs in the key's own transaction (see the module's text)."""
    if key is None:
        status, body = _capture(work, deps)
        return _response(status, body, replayed=False)
    check_key(key)
    if joined:
        return _run_joined(deps, scope, key, req_hash, work)
    return _run_phased(deps, scope, key, req_hash, work)


def _run_joined(
    deps: Deps, scope: str, key: str, req_hash: str, work: Callable[[Deps], tuple[int, Any]]
) -> JSONResponse:
    deadline = time.monotonic() + WAIT_S
    while True:
        now = deps.clock.now()
        with deps.uow() as uow:
            rec = uow.idempotency.get(scope, key)
            if rec is not None:
                if (answered := _stored_answer(rec, req_hash)) is not None:
                    return answered
                taken = rec.locked_until <= now  # a phased attempt died: take it over
                if taken:
                    uow.idempotency.relock(scope, key, now + timedelta(seconds=LOCK_S))
            else:
                # on PostgreSQL this waits for a concurrent first request to finish, then
                # fails (its key is there): look again
                taken = uow.idempotency.lock(
                    scope, key, req_hash, now + timedelta(seconds=LOCK_S), now
                )
            if taken:
                status, body = _capture(work, _joined_deps(deps, uow))
                if status >= 500:
                    return _response(status, body, replayed=False)  # rolled back: retry
                uow.idempotency.complete(scope, key, status, json.dumps(body, default=str))
                uow.commit()
                return _response(status, body, replayed=False)
        if rec is None:
            continue
        if time.monotonic() > deadline:
            raise IdempotencyKeyInUse("a request with this Idempotency-Key is still running")
        time.sleep(0.02)


def _stored_answer(rec: Any, req_hash: str) -> JSONResponse | None:
    """The stored answer for a replay; None while the first request is still running."""
    if rec.request_hash != req_hash:
        raise IdempotencyKeyReused("this Idempotency-Key was used with a different request")
    if rec.status_code is None:
        return None
    return _response(rec.status_code, json.loads(rec.response_body), replayed=True)


def _joined_deps(deps: Deps, outer: Any) -> Deps:
    def joined() -> JoinedUnitOfWork:
        return JoinedUnitOfWork(outer)

    return dataclasses.replace(deps, uow=joined, read_uow=joined)


def _run_phased(
    deps: Deps, scope: str, key: str, req_hash: str, work: Callable[[Deps], tuple[int, Any]]
) -> JSONResponse:
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
            if (answered := _stored_answer(rec, req_hash)) is not None:
                return answered
            if rec.locked_until <= now:  # the first attempt died: take it over
                uow.idempotency.relock(scope, key, now + timedelta(seconds=LOCK_S))
                uow.commit()
                break
        if time.monotonic() > deadline:
            raise IdempotencyKeyInUse("a request with this Idempotency-Key is still running")
        time.sleep(0.02)
    try:
        status, body = _capture(work, deps)
    except BaseException:
        with deps.uow() as uow:
            uow.idempotency.forget(scope, key)
            uow.commit()
        raise
    with deps.uow() as uow:
        if status >= 500:
            uow.idempotency.forget(scope, key)  # nothing happened: let the client retry
        else:
            uow.idempotency.complete(scope, key, status, json.dumps(body, default=str))
        uow.commit()
    return _response(status, body, replayed=False)


def _capture(work: Callable[[Deps], tuple[int, Any]], deps: Deps) -> tuple[int, Any]:
    try:
        return work(deps)
    except DomainError as e:
        return domain_problem(e)


def _response(status: int, body: Any, *, replayed: bool) -> JSONResponse:
    media = PROBLEM if status >= 400 else "application/json"
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, media_type=media, headers=headers)
