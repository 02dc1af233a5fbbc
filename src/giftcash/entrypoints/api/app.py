"""The FastAPI application: the v1 API (and, later, the web pages) over one ``Deps``."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from giftcash import __version__
from giftcash.bootstrap import HttpAdapters, http_adapters
from giftcash.entrypoints.api import (
    admin,
    admin_cases,
    docs,
    openapi,
    operations,
    orders,
    payment_stops,
    problems,
    routes,
    scans,
)
from giftcash.entrypoints.api import schemas as s
from giftcash.entrypoints.api.guards import RefuseNul
from giftcash.entrypoints.api.head import HeadAsGet
from giftcash.entrypoints.api.options import AnswerOptions
from giftcash.entrypoints.web import install as install_web
from giftcash.service.deps import Deps

MAX_BODY_BYTES = 1 << 20  # 1,000 items fit in a fraction of this
SCAN_PATHS = ("/v1/scans", "/sell/scan")  # pictures: the scan limits' body instead


class BodyLimit:
    """Refuse bodies over the limit before they are read into memory."""

    def __init__(
        self, app: ASGIApp, limit: int = MAX_BODY_BYTES, by_path: dict[str, int] | None = None
    ) -> None:
        self.app, self.default_limit = app, limit
        self.by_path = (
            by_path
            if by_path is not None
            else dict.fromkeys(SCAN_PATHS, scans.LIMITS.max_body_bytes)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.by_path.get(scope.get("path", ""), self.default_limit)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if (
            declared is not None
            and declared.isascii()
            and declared.isdigit()
            and int(declared) > limit
        ):
            await _too_large(send)
            return
        seen = 0

        async def limited() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(send)


class _TooLarge(HTTPException):
    """An HTTPException, so FastAPI's body parsing lets it through as a 413 (it turns any
    other exception while reading the body into a 400)."""

    def __init__(self) -> None:
        super().__init__(413, "the request body is too large")


async def _too_large(send: Send) -> None:
    response = problems.problem(413, "request_too_large", "the request body is too large")
    await send({"type": "http.response.start", "status": 413, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


OPENAPI_URL = "/v1/openapi.json"


def create_app(
    deps: Deps, *, readiness: object | None = None, adapters: HttpAdapters | None = None
) -> FastAPI:
    """``adapters``: the composition root's (``bootstrap.http_adapters``) unless given."""
    adapters = adapters or http_adapters()
    app = FastAPI(
        title="giftcash",
        version=__version__,
        summary="Vouchers in, cash to your own bank account out.",
        openapi_url=OPENAPI_URL,
        docs_url=None,  # docs.install: Swagger UI from the package, not a CDN
        redoc_url=None,
    )
    app.state.deps = deps
    app.state.adapters = adapters
    problems.install(app)
    app.include_router(routes.router)
    app.include_router(scans.router)  # codes read from pictures and pastes
    app.include_router(orders.router)  # buying: offers, orders, the bank's notifications
    install_web(app)  # the customer site at /, its static files at /static
    app.include_router(admin.router)
    app.include_router(admin_cases.router)  # suspicious-activity cases
    app.include_router(payment_stops.router)  # 지급정지: partner banks, investigators

    @app.get("/healthz", response_model=s.Health, tags=["operations"])
    def healthz() -> s.Health:
        return s.Health(status="ok")

    app.include_router(operations.router)  # /readyz and /metrics

    openapi.install(app)  # every error documented as the problem+json it is
    docs.install(app, openapi_url=OPENAPI_URL)
    app.add_middleware(BodyLimit)  # type: ignore[arg-type]
    app.add_middleware(HeadAsGet)  # type: ignore[arg-type]
    app.add_middleware(AnswerOptions)  # type: ignore[arg-type]
    app.add_middleware(RefuseNul)  # type: ignore[arg-type]
    # outermost: a request refused by BodyLimit is counted and logged too
    app.add_middleware(
        adapters.observe_requests, skip_log=frozenset({"/healthz", "/readyz", "/metrics"})
    )
    return app
