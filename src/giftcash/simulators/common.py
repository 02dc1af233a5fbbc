"""What the three simulators share: the app skeleton with its ``/sim/faults`` and
``/sim/health`` routes, the clock, JSON and CSV answers, and the uvicorn runner."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from giftcash.simulators.faults import FaultConfig, FaultInjector, Faults
from giftcash.simulators.store import Store

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def answer(status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(status_code=status, content=body)


def problem(status: int, error: str, message: str = "", **extra: Any) -> JSONResponse:
    return answer(status, {"error": error, "message": message, **extra})


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8")


def base_app(
    title: str,
    store: Store,
    api_prefixes: tuple[str, ...],
    invalid_body: dict[str, Any] | None = None,
    background: Callable[[], Callable[[], None]] | None = None,
) -> FastAPI:
    """A FastAPI app with fault injection on ``api_prefixes`` and the ``/sim`` basics.

    ``invalid_body``: extra fields of the 400/422 answer to a malformed request (the bank
    adds its ``rsp_code``). That answer names fields and rules, never the values sent,
    because a value might be a voucher code.

    ``background``: started when the app starts (a server, or a ``with TestClient``);
    it answers the function that stops it when the app shuts down."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stop = background() if background is not None else None
        try:
            yield
        finally:
            if stop is not None:
                stop()
        store.close()

    faults = Faults()
    app = FastAPI(
        title=title,
        lifespan=lifespan,
        docs_url="/sim/docs",
        openapi_url="/sim/openapi.json",
        redoc_url=None,
    )
    app.state.store = store
    app.state.faults = faults
    app.add_middleware(FaultInjector, faults=faults, api_prefixes=api_prefixes)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        body = {"error": "invalid_request", "message": "the request is malformed"}
        return answer(422, {**body, **(invalid_body or {}), "fields": fields})

    @app.get("/sim/health")
    def health() -> dict[str, Any]:
        return {"ok": True, "service": title}

    @app.get("/sim/faults")
    def get_faults() -> dict[str, Any]:
        return faults.describe()

    @app.post("/sim/faults")
    def set_faults(config: FaultConfig) -> dict[str, Any]:
        faults.configure(config)
        return faults.describe()

    @app.delete("/sim/faults")
    def reset_faults() -> dict[str, Any]:
        faults.configure(FaultConfig())
        return faults.describe()

    return app


def serve(app: FastAPI, host: str, port: int) -> None:
    """Run one simulator in the foreground. Sync endpoints run on uvicorn's thread pool,
    so requests overlap while the store's lock keeps each transaction serial."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
