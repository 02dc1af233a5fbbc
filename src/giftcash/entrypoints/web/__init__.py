"""The web site: server-rendered pages (Jinja2 + HTMX) over the same service layer as
the API. ``install(app)`` mounts the customer site at ``/``, the operator console at ``/admin``
(its own ``Realm``: cookie, sign-in page, error page) and the static files at
``/static``."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"


def customer_routers() -> list[APIRouter]:
    from giftcash.entrypoints.web import (
        customer_accounts,
        customer_auth,
        customer_buy,
        customer_consents,
        customer_history,
        customer_notices,
        customer_prices,
        customer_privacy,
        customer_scan,
        customer_sell,
        customer_tiers,
    )

    return [
        customer_prices.router,
        customer_auth.router,
        customer_consents.router,
        customer_tiers.router,  # /accounts/identity... before /accounts/{id}/verify
        customer_accounts.router,
        customer_notices.router,
        customer_privacy.router,
        customer_scan.router,  # before customer_sell: /sell/scan is its own page
        customer_sell.router,
        customer_history.router,
        customer_buy.router,
    ]


def console_routers() -> list[APIRouter]:
    from giftcash.entrypoints.web import (
        console_audit,
        console_auth,
        console_bank_hours,
        console_cases,
        console_catalogue,
        console_customers,
        console_dashboard,
        console_payouts,
        console_privacy,
        console_reconcile,
        console_resale,
        console_review,
        console_stops,
    )

    return [
        console_auth.auth,
        console_dashboard.dashboard,
        console_review.review,
        console_cases.cases,
        console_stops.stops,
        console_catalogue.brands,
        console_customers.customers,
        console_payouts.payouts,
        console_bank_hours.hours,
        console_resale.resale,
        console_reconcile.reconciliation,
        console_audit.audit,
        console_privacy.privacy,
    ]


def install(app: FastAPI) -> None:
    for router in customer_routers() + console_routers():
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
