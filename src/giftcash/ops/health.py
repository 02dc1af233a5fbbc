"""Readiness and the pipeline's state, read from the database for ``/readyz`` and the
state metrics; the workers' heartbeats they read (``heartbeat``).

Readiness answers whether *this API process* should get traffic: it needs its database.
A worker that is missing or stale is reported (``worker: missing`` / ``worker: stale``,
status ``degraded``) but does not make the API unready by default: the API still takes
submissions, which wait in the database until a worker runs, and a load balancer that
dropped every API node because the workers stopped would turn a delay into an outage.
Set ``require_worker`` to make a missing worker fail readiness (for a deployment that
wants that)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from giftcash.service.deps import Deps

ITEM_QUEUES = ("received", "review", "redeeming", "redeemed", "stocked", "paying")
PAYOUT_QUEUES = ("pending", "sending", "unknown", "sent")


def stale_after_s(deps: Deps) -> float:
    """A worker beats once a pass; a pass waits at most a lease on its calls."""
    return float(max(2 * deps.limits.lease_s, 30))


@dataclass(frozen=True)
class Readiness:
    ready: bool
    status: str  # ok | degraded | unavailable
    checks: dict[str, str] = field(default_factory=dict)


def readiness(deps: Deps, *, require_worker: bool = False) -> Readiness:
    checks: dict[str, str] = {}
    try:
        with deps.reader() as uow:
            uow.ping()
            newest = uow.figures.latest_heartbeat()
        checks["database"] = "ok"
    except Exception as e:  # readiness reports, it does not crash
        checks["database"] = f"error: {type(e).__name__}"
        return Readiness(False, "unavailable", checks)
    if newest is None:
        checks["worker"] = "missing: no worker has sent a heartbeat yet"
    else:
        age_s = (deps.clock.now() - newest).total_seconds()
        if age_s > stale_after_s(deps):
            checks["worker"] = f"stale: the last heartbeat was {age_s:.0f}s ago"
        else:
            checks["worker"] = "ok"
    if checks["worker"] == "ok":
        return Readiness(True, "ok", checks)
    return Readiness(not require_worker, "degraded", checks)


def state_figures(deps: Deps) -> dict[str, Any]:
    with deps.reader() as uow:
        f = uow.figures
        return {
            "items": f.items_by_status(),
            "payouts": f.payouts_by_status(),
            "payouts_unconfirmed": f.payouts_unconfirmed(),
            "item_oldest": f.oldest_waiting(ITEM_QUEUES),
            "payout_oldest": f.oldest_payout_waiting(PAYOUT_QUEUES),
            "heartbeats": f.heartbeats(),
        }


def heartbeat(deps: Deps, worker_id: str) -> None:
    with deps.uow() as uow:
        uow.workers.beat(worker_id, deps.clock.now())
        uow.commit()
