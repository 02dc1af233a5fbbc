"""The dashboard (finance and admin): today's volume and margin, items by state, the
queues and their oldest waiting item, payout latency and issuer exposure, with charts."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from giftcash.entrypoints.web import console_charts as charts
from giftcash.entrypoints.web.console_pages import (
    AREAS,
    ITEM_STATES,
    PAYOUT_STATES,
    QUEUE_LABELS,
    allow,
    console_errors,
    current_operator,
    home_for,
    render_console,
    router,
)
from giftcash.entrypoints.web.pages import redirect, tr_of
from giftcash.entrypoints.web.security import deps_of
from giftcash.reports import dashboard as figures

dashboard = router()


@dashboard.get("")
@console_errors
def dashboard_page(request: Request) -> Response:
    op = current_operator(request)
    if not op.may(AREAS["dashboard"]):  # a reviewer's console starts at the review queue
        return redirect(request, home_for(op))
    allow(request, "dashboard")
    tr = tr_of(request)
    d = figures.dashboard(deps_of(request))
    context = {
        "d": d,
        "QUEUE_LABELS": QUEUE_LABELS,
        "charts": {
            "volume": charts.volume_chart(tr, d.days, d.currency),
            "states": charts.states_chart(tr, d.items_by_status, ITEM_STATES),
            "payout_states": charts.states_chart(
                tr, d.payouts_by_status, PAYOUT_STATES, payouts=True
            ),
            "latency": charts.latency_chart(tr, d.latency),
            "exposure": charts.exposure_chart(tr, d.exposure, d.currency),
        },
    }
    return render_console(request, "console/dashboard.html", context)
