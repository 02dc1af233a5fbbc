"""The API's request middleware: a request id for every request (the caller's
``X-Request-ID`` when it is a sane one, else a new one), set for the log lines written
while serving it and sent back in the answer; one JSON access line and the request
metrics per request, by route template (a raw path never becomes a label, and query
strings are never logged)."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from giftcash.adapters.observability.logs import request_id_var
from giftcash.adapters.observability.metrics import observe_request

HEADER = b"x-request-id"
_SANE = re.compile(rb"^[A-Za-z0-9._:-]{8,64}\Z")
access_log = logging.getLogger("giftcash.access")


def _route(scope: Scope) -> str:
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else "unmatched"


class ObserveRequests:
    def __init__(self, app: ASGIApp, *, skip_log: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.skip_log = skip_log  # routes too chatty to log (health probes, scrapes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(HEADER, b"")
        request_id = given.decode() if _SANE.match(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        status = 500
        started = time.perf_counter()

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [h for h in message.get("headers", []) if h[0].lower() != HEADER]
                message = {**message, "headers": [*headers, (HEADER, request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - started
            route, method = _route(scope), str(scope.get("method", ""))
            observe_request(method, route, status, seconds)
            if route not in self.skip_log:
                access_log.info(
                    "%s %s %s",
                    method,
                    route,
                    status,
                    extra={
                        "method": method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 2),
                    },
                )
            request_id_var.reset(token)
