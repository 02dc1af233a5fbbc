"""OPTIONS on any route the app has (RFC 9110 §9.3.7): ``204 No Content`` with ``Allow``
naming the methods the path answers (HEAD wherever GET is, see ``head.py``; OPTIONS
itself). A path no route has goes on to the app's 404. No CORS: the API is not offered
to other origins, so a preflight gets the same answer and no ``Access-Control-*``."""

from __future__ import annotations

from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

# What a route can answer; each is asked of the route table (an included router of FastAPI
# answers ``matches`` for its routes but lists no methods of its own).
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _answers(route: BaseRoute, scope: Scope, method: str) -> bool:
    if isinstance(route, Mount) and method != "GET":
        return False  # static files: a mount takes every method and answers GET alone
    return route.matches({**scope, "method": method})[0] == Match.FULL


def allowed_methods(scope: Scope) -> set[str]:
    """The methods some route answers on this path: empty for a path no route has."""
    routes = scope["app"].router.routes
    methods = {m for m in METHODS if any(_answers(r, scope, m) for r in routes)}
    if "GET" in methods:
        methods.add("HEAD")
    return methods | {"OPTIONS"} if methods else set()


class AnswerOptions:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS":
            await self.app(scope, receive, send)
            return
        methods = allowed_methods(scope)
        if not methods:
            await self.app(scope, receive, send)
            return
        allow = ", ".join(sorted(methods)).encode()
        await send({"type": "http.response.start", "status": 204, "headers": [(b"allow", allow)]})
        await send({"type": "http.response.body", "body": b""})
