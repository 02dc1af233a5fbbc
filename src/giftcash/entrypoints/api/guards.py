"""Input no request may carry: the NUL character. PostgreSQL text cannot hold it (psycopg
raises, which was a 500) and SQLite would store it; no field of this API has a use for
it. Refused with ``422 invalid_input`` wherever it comes: the path, the query string, a
JSON string (``\\u0000``), a form field (``%00``) or raw in a body."""

from __future__ import annotations

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from giftcash.entrypoints.api import problems

DETAIL = "the request carries a NUL character, which no field accepts"
_JSON_NUL = b"\\u0000"
_FORM_NUL = b"%00"
_TAIL = max(len(_JSON_NUL), len(_FORM_NUL)) - 1  # a marker split across two chunks


class NulFound(HTTPException):
    """An HTTPException, so FastAPI's body parsing lets it through (as ``BodyLimit``'s)."""

    def __init__(self) -> None:
        super().__init__(422, DETAIL)


def _in_target(scope: Scope) -> bool:
    query = bytes(scope.get("query_string") or b"")
    raw = bytes(scope.get("raw_path") or b"")
    return "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query + raw


def _markers(scope: Scope) -> tuple[bytes, ...]:
    headers = dict(scope.get("headers") or [])
    content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    if content_type.startswith(b"multipart/"):
        return ()  # files: checked by whatever parses them
    if content_type == b"application/x-www-form-urlencoded":
        return (b"\x00", _FORM_NUL)
    return (b"\x00", _JSON_NUL)


class RefuseNul:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _in_target(scope):
            await _refuse(send)
            return
        markers = _markers(scope)
        if not markers:
            await self.app(scope, receive, send)
            return
        tail = b""

        async def checked() -> Message:
            nonlocal tail
            message = await receive()
            if message["type"] == "http.request":
                seen = tail + message.get("body", b"")
                if any(m in seen for m in markers):
                    raise NulFound
                tail = seen[-_TAIL:]
            return message

        try:
            await self.app(scope, checked, send)
        except NulFound:
            await _refuse(send)


async def _refuse(send: Send) -> None:
    response = problems.problem(422, "invalid_input", DETAIL)
    await send({"type": "http.response.start", "status": 422, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})
