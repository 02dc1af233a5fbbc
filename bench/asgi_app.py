"""The API benchmark's server: giftcash's own ASGI app with two baselines beside it, in
the same uvicorn processes:

- ``/bare``: a bare ASGI endpoint, so the baseline pays for the same server, event loop,
  HTTP parser and sockets, and nothing else;
- ``/floor``: the same-stack floor, a minimal FastAPI endpoint doing what any endpoint of
  this API must at least do: the API's own bearer-token check (``current_customer``: a
  read-only unit of work looking the token up), then on ``POST`` one ``INSERT`` in one
  transaction on the same database (through the same engine, so on SQLite the same
  writer gate and ``BEGIN IMMEDIATE``), on ``GET`` one row read by its key.

    uvicorn bench.asgi_app:create --factory --workers 2
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine, text

from giftcash.adapters.db.engine import SQLITE_BEGIN_OPTION
from giftcash.entrypoints.api import problems
from giftcash.entrypoints.api.deps import CustomerDep
from giftcash.entrypoints.asgi import create as create_giftcash

BARE_BODY = b'{"ok":true}'
BARE_HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"11")]

FLOOR_TABLE = "bench_floor"
FLOOR_DDL = (
    f"CREATE TABLE IF NOT EXISTS {FLOOR_TABLE} (id VARCHAR(36) PRIMARY KEY, "
    "customer_id VARCHAR(64) NOT NULL, idempotency_key VARCHAR(255), "
    "body_bytes INTEGER NOT NULL, created_at VARCHAR(40) NOT NULL)"
)
FLOOR_READ_ID = "00000000-0000-0000-0000-000000000000"  # the row the GET reads (seeded)


async def bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the whole body (as the real endpoint must) and answers a fixed JSON."""
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": BARE_HEADERS})
    await send({"type": "http.response.body", "body": BARE_BODY})


def floor_app(engine: Engine, deps: Any) -> FastAPI:
    """The same-stack floor over giftcash's ``Deps`` (for the token check) and engine."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.deps = deps  # what giftcash's dependencies read (``get_deps``)
    problems.install(app)  # a refused token is a 401 problem document, as in the API
    insert = text(
        f"INSERT INTO {FLOOR_TABLE} (id, customer_id, idempotency_key, body_bytes, created_at)"
        " VALUES (:id, :c, :k, :n, :t)"
    )
    select = text(f"SELECT id, customer_id, body_bytes FROM {FLOOR_TABLE} WHERE id = :id")

    def write(customer: str, key: str | None, n: int) -> str:
        row_id = str(uuid.uuid4())
        now = datetime.now(UTC).isoformat()
        with engine.begin() as conn:
            conn.execute(insert, {"id": row_id, "c": customer, "k": key, "n": n, "t": now})
        return row_id

    def read() -> dict[str, Any]:
        with engine.connect() as conn:
            conn.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})  # a read: no gate
            row = conn.execute(select, {"id": FLOOR_READ_ID}).one()
        return {"id": row.id, "customer_id": row.customer_id, "body_bytes": row.body_bytes}

    @app.post("/floor", status_code=201)
    async def floor_post(request: Request, customer: CustomerDep) -> dict[str, Any]:
        body = await request.body()
        key = request.headers.get("idempotency-key")
        return {"id": await run_in_threadpool(write, customer, key, len(body))}

    @app.get("/floor")
    async def floor_get(customer: CustomerDep) -> dict[str, Any]:
        return await run_in_threadpool(read)

    return app


def seed_floor(engine: Engine, customer_id: str) -> None:
    """The floor's table and the one row its GET reads (the benchmark's set-up)."""
    with engine.begin() as conn:
        conn.execute(text(FLOOR_DDL))
        conn.execute(
            text(f"INSERT INTO {FLOOR_TABLE} VALUES (:id, :c, NULL, 0, :t)"),
            {"id": FLOOR_READ_ID, "c": customer_id, "t": datetime.now(UTC).isoformat()},
        )


def route(app: Any) -> Any:
    """``/bare`` and ``/floor`` to the baselines, everything else to giftcash's ``app``."""
    deps = app.state.deps
    floor = floor_app(deps.uow().engine, deps)

    async def router(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/bare":
            await bare(scope, receive, send)
        elif scope["type"] == "http" and scope["path"] == "/floor":
            await floor(scope, receive, send)
        else:
            await app(scope, receive, send)

    return router


def create() -> Any:
    return route(create_giftcash())
