"""``/readyz`` and ``/metrics``: what a load balancer and Prometheus ask. Thin: the
service answers, these render. ``/metrics`` is for the private network only: block it at
the public proxy (docs/deploy.md)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from giftcash.entrypoints.api import schemas as s
from giftcash.entrypoints.api.deps import DepsDep
from giftcash.ops import health

router = APIRouter(tags=["operations"])
log = logging.getLogger("giftcash.api")


@router.get(
    "/readyz",
    response_model=s.Health,
    responses={503: {"model": s.Health, "description": "the database cannot be used"}},
)
def readyz(
    deps: DepsDep,
    require_worker: Annotated[
        bool, Query(description="Answer 503 also when no worker has beaten recently.")
    ] = False,
) -> JSONResponse:
    """200 when this process can serve: the database answers. A missing or stale worker
    is reported in ``checks.worker`` with status ``degraded`` (still 200, unless
    ``require_worker=true``)."""
    r = health.readiness(deps, require_worker=require_worker)
    body = s.Health(status=r.status, checks=r.checks).model_dump()
    return JSONResponse(body, status_code=200 if r.ready else 503)


@router.get("/metrics", include_in_schema=False)
def metrics(deps: DepsDep, request: Request) -> Response:
    adapters = request.app.state.adapters
    extra = None
    try:
        extra = adapters.state_metrics(
            health.state_figures(deps), deps.clock.now(), stale_after_s=health.stale_after_s(deps)
        )
    except Exception:  # the process's own metrics are still worth a scrape
        log.exception("state metrics unavailable")
    body, content_type = adapters.render_metrics(extra)
    return Response(body, media_type=content_type)
