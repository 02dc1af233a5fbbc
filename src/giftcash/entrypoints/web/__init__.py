"""The web site: server-rendered pages (Jinja2 + HTMX) over the same service layer as
the API. ``install(app)`` mounts the customer site at ``/`` and the static files at
``/static``; the operator console will add its own routers with its own ``Realm``."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"


def customer_routers() -> list[APIRouter]:
    from giftcash.entrypoints.web import (
        customer_accounts,
        customer_auth,
        customer_history,
        customer_prices,
        customer_sell,
    )

    return [
        customer_prices.router,
        customer_auth.router,
        customer_accounts.router,
        customer_sell.router,
        customer_history.router,
    ]


def install(app: FastAPI) -> None:
    for router in customer_routers():
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
