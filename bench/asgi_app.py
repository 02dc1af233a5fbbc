"""The API benchmark's server: giftcash's own ASGI app with one bare ASGI endpoint beside
it (``/bare``), in the same uvicorn processes, so the baseline pays for the same server,
event loop, HTTP parser and sockets, and nothing else.

    uvicorn bench.asgi_app:create --factory --workers 2
"""

from __future__ import annotations

from typing import Any

from giftcash.entrypoints.asgi import create as create_giftcash

BARE_BODY = b'{"ok":true}'
BARE_HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"11")]


async def bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the whole body (as the real endpoint must) and answers a fixed JSON."""
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": BARE_HEADERS})
    await send({"type": "http.response.body", "body": BARE_BODY})


def create() -> Any:
    app = create_giftcash()

    async def router(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/bare":
            await bare(scope, receive, send)
        else:
            await app(scope, receive, send)

    return router
