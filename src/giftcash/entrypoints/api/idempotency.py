"""``Idempotency-Key`` on every POST that creates or moves something: the header read,
the request hashed, the answer rendered. Running a command once per key is the service's
(``service.idempotency``: one transaction for a command that touches only our database,
phased for one that calls out); a replay answers with ``Idempotent-Replayed: true``."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from giftcash.entrypoints.api.problems import PROBLEM, domain_problem, problem_headers
from giftcash.service import idempotency
from giftcash.service.deps import Deps


def request_hash(request: Request, body: bytes) -> str:
    h = hashlib.sha256()
    h.update(request.method.encode())
    h.update(b" ")
    h.update(request.url.path.encode())
    h.update(b"\n")
    h.update(body)
    return h.hexdigest()


def run(
    deps: Deps,
    scope: str,
    key: str | None,
    req_hash: str,
    work: idempotency.Work,
    *,
    joined: bool = True,
) -> JSONResponse:
    """Run ``work`` at most once per (scope, key); answer with the stored answer after.

    ``joined``: the command touches only our database (its work and answer commit in one
    transaction); otherwise it calls out and runs phased."""
    command = (
        None if key is None else idempotency.Command(scope, key, req_hash, calls_out=not joined)
    )
    answer = idempotency.run_once(deps, command, work, domain_problem)
    return _response(answer)


def _response(answer: idempotency.Answer) -> JSONResponse:
    media = PROBLEM if answer.status >= 400 else "application/json"
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else {}
    body: Any = answer.body
    if isinstance(body, dict):
        headers.update(problem_headers(answer.status, body))
    return JSONResponse(body, status_code=answer.status, media_type=media, headers=headers)
