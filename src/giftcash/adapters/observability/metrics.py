"""Prometheus metrics.

Two kinds:

- *process* metrics, counted where things happen and kept in ``REGISTRY``: HTTP requests
  and their latency (``RequestMetrics``, an ASGI middleware), foreign calls and their
  latency and errors per issuer and bank (``instrument``, a proxy around a port),
  worker passes and payouts by outcome (``count_*``). Each process has its own; the API
  serves them on ``/metrics``, a worker on ``--metrics-port``.
- *state* metrics read from the database when scraped (``state_metrics``): items and
  payouts by state, the age of the oldest entry of each queue, worker heartbeats. They
  are the same from every API process (take ``max`` across instances).

Labels are bounded sets only: route templates (never raw paths), issuer ids from the
catalogue, KFTC bank codes, outcome names. Nothing a customer typed becomes a label.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from giftcash.service.ports import Ambiguous, Unavailable

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "giftcash_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ("method", "route", "status"),
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "giftcash_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ("method", "route"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
FOREIGN_CALLS = Counter(
    "giftcash_foreign_calls",
    "Calls to issuers, banks and the SMS service, by outcome "
    "(ok, ambiguous: the answer was lost, unavailable: it surely did nothing, error).",
    ("service", "target", "operation", "outcome"),
    registry=REGISTRY,
)
FOREIGN_LATENCY = Histogram(
    "giftcash_foreign_call_duration_seconds",
    "Latency of calls to issuers, banks and the SMS service.",
    ("service", "target", "operation"),
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0),
    registry=REGISTRY,
)
PAYOUTS = Counter(
    "giftcash_payout_outcomes",
    "Payout steps recorded by workers, by outcome "
    "(sent, rejected, unknown, retry, confirmed, returned).",
    ("outcome",),
    registry=REGISTRY,
)
PAYOUT_DURATION = Histogram(
    "giftcash_payout_duration_seconds",
    "Time from a payout's creation to the bank's confirmation, in two parts: "
    "part=outside_bank_window (what the within-minutes promise is measured by) and "
    "part=bank_window (the time its bank was closed for the night or maintenance).",
    ("part",),
    buckets=(10, 30, 60, 120, 180, 300, 600, 900, 1800, 3600, 7200, 14400),
    registry=REGISTRY,
)
REDEMPTIONS = Counter(
    "giftcash_redemption_outcomes",
    "Redemption attempts recorded by workers, by outcome (captured, invalid, retry).",
    ("outcome",),
    registry=REGISTRY,
)
WORKER_PASSES = Counter(
    "giftcash_worker_passes",
    "Worker passes over the pipeline, by result (ok, error).",
    ("result",),
    registry=REGISTRY,
)
WORKER_CLAIMED = Counter(
    "giftcash_worker_claimed",
    "Rows claimed by workers, by step.",
    ("step",),
    registry=REGISTRY,
)
BOUNDED_CALLS = Counter(
    "giftcash_bounded_calls",
    "Foreign calls that cost money or trust, recorded against their bounds, by kind "
    "(sms, real_name, deposit, issuer_invalid, webhook, ...).",
    ("kind",),
    registry=REGISTRY,
)
BOUND_REFUSALS = Counter(
    "giftcash_bound_refusals",
    "Calls refused or held by a bound, by kind and by what was counted "
    "(address, person, range_key, account, total, breaker).",
    ("kind", "scope"),
    registry=REGISTRY,
)
BREAKER_TRIPS = Counter(
    "giftcash_breaker_trips",
    "Circuit-breaker trips per provider (sms, bank, issuer): a burst far above normal. "
    "Page on any increase.",
    ("provider",),
    registry=REGISTRY,
)


class BoundMetrics:
    """abuse.bounds' events as counters (service/bound_limits.py ``BoundEvents``)."""

    def recorded(self, kind: str) -> None:
        BOUNDED_CALLS.labels(kind).inc()

    def refused(self, kind: str, scope: str) -> None:
        BOUND_REFUSALS.labels(kind, scope).inc()

    def tripped(self, provider: str) -> None:
        BREAKER_TRIPS.labels(provider).inc()


def render(extra: CollectorRegistry | None = None) -> tuple[bytes, str]:
    """The exposition text of this process's metrics, plus ``extra`` (state metrics)."""
    body = generate_latest(REGISTRY)
    if extra is not None:
        body += generate_latest(extra)
    return body, CONTENT_TYPE_LATEST


# -- HTTP --------------------------------------------------------------------------------------


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_LATENCY.labels(method, route).observe(seconds)


# -- foreign calls -----------------------------------------------------------------------------

# For each port method: how to name the target (issuer or bank code) from its arguments.
_TARGETS: Mapping[str, Mapping[str, Callable[[tuple[Any, ...], dict[str, Any]], str]]] = {
    "issuer": {
        "inquire_balance": lambda a, k: str(a[0] if a else k.get("issuer", "")),
        "redeem": lambda a, k: str(a[0] if a else k.get("issuer", "")),
        "redemption_by_key": lambda a, k: str(a[0] if a else k.get("issuer", "")),
    },
    "bank": {
        "real_name": lambda a, k: str(a[0] if a else k.get("bank_code", "")),
        "deposit": lambda a, k: str(a[1] if len(a) > 1 else k.get("bank_code", "")),
        "transfer_result": lambda a, k: "operating",
    },
    "sms": {"send": lambda a, k: "sms"},
    # never by account number: one label for the accounts, one for the returns
    "virtual_accounts": {
        "issue": lambda a, k: "vaccount",
        "close": lambda a, k: "vaccount",
        "deposits": lambda a, k: "vaccount",
        "return_deposit": lambda a, k: "vaccount_return",
        "return_by_key": lambda a, k: "vaccount_return",
        "deposits_between": lambda a, k: "vaccount",
    },
    "identity": {
        "start": lambda a, k: "verification",
        "result": lambda a, k: "verification",
        "check_id_document": lambda a, k: "id_document",
    },
}
_SAFE_LABEL = re.compile(r"^[a-z0-9_-]{1,32}\Z")


def _label(value: str) -> str:
    value = value.lower()
    return value if _SAFE_LABEL.match(value) else "other"


class Instrumented:
    """A port whose calls are counted and timed; everything else passes through."""

    def __init__(self, service: str, port: Any) -> None:
        self._service = service
        self._port = port
        self._targets = _TARGETS[service]

    @property
    def wrapped(self) -> Any:
        return self._port

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._port, name)
        target_of = self._targets.get(name)
        if target_of is None or not callable(attr):
            return attr
        service = self._service

        def call(*args: Any, **kwargs: Any) -> Any:
            target = _label(target_of(args, kwargs))
            started = time.perf_counter()
            outcome = "error"
            try:
                result = attr(*args, **kwargs)
                outcome = "ok"
                return result
            except Ambiguous:
                outcome = "ambiguous"
                raise
            except Unavailable:
                outcome = "unavailable"
                raise
            finally:
                FOREIGN_CALLS.labels(service, target, name, outcome).inc()
                FOREIGN_LATENCY.labels(service, target, name).observe(time.perf_counter() - started)

        return call


def instrument(service: str, port: Any) -> Any:
    """Wrap an issuer, bank, SMS or identity port (once)."""
    if isinstance(port, Instrumented):
        return port
    return Instrumented(service, port)


# -- the worker --------------------------------------------------------------------------------


def count_outcomes(counter: Counter, kinds: Iterable[str]) -> None:
    tally: dict[str, int] = {}
    for kind in kinds:
        tally[kind] = tally.get(kind, 0) + 1
    for kind, n in tally.items():
        counter.labels(kind).inc(n)


def count_payouts(kinds: Iterable[str]) -> None:
    count_outcomes(PAYOUTS, kinds)


def observe_payout_times(times: Iterable[tuple[float, float]]) -> None:
    """(seconds outside the bank's windows, seconds inside them) per confirmed payout."""
    for outside_s, window_s in times:
        PAYOUT_DURATION.labels("outside_bank_window").observe(outside_s)
        PAYOUT_DURATION.labels("bank_window").observe(window_s)


def count_redemptions(kinds: Iterable[str]) -> None:
    count_outcomes(REDEMPTIONS, kinds)


def count_pass(ok: bool) -> None:
    WORKER_PASSES.labels("ok" if ok else "error").inc()


def count_claimed(step: str, n: int) -> None:
    if n:
        WORKER_CLAIMED.labels(step).inc(n)


def serve_worker_metrics(port: int, host: str = "127.0.0.1") -> None:
    """Expose this process's metrics on ``http://host:port/metrics`` (a worker)."""
    from prometheus_client import start_http_server

    start_http_server(port, addr=host, registry=REGISTRY)


# -- state from the database -------------------------------------------------------------------

ITEM_QUEUES = ("received", "review", "redeeming", "redeemed", "stocked", "paying")
PAYOUT_QUEUES = ("pending", "sending", "unknown", "sent")


def state_metrics(
    figures: Mapping[str, Any], now: datetime, *, stale_after_s: float
) -> CollectorRegistry:
    """A registry with the database's state at ``now``. ``figures``: ``items`` and
    ``payouts`` (status -> count), ``item_oldest`` and ``payout_oldest`` (status -> the
    oldest waiting entry's time), ``heartbeats`` ([(worker id, seen at)])."""
    reg = CollectorRegistry(auto_describe=True)
    items = Gauge("giftcash_items", "Items by state.", ("status",), registry=reg)
    for status, n in sorted(figures["items"].items()):
        items.labels(status).set(n)
    payouts = Gauge("giftcash_payouts", "Payouts by state.", ("status",), registry=reg)
    for status, n in sorted(figures["payouts"].items()):
        payouts.labels(status).set(n)
    Gauge(
        "giftcash_payouts_unconfirmed",
        "Sent payouts with no final answer from the bank after many checks (an operator "
        "looks: payouts inquire).",
        registry=reg,
    ).set(figures.get("payouts_unconfirmed", 0))
    age = Gauge(
        "giftcash_queue_age_seconds",
        "How long the oldest entry of each queue has waited (0 when it is empty).",
        ("queue",),
        registry=reg,
    )
    for status in ITEM_QUEUES:
        at = figures["item_oldest"].get(status)
        age.labels(f"items_{status}").set(max((now - at).total_seconds(), 0.0) if at else 0.0)
    for status in PAYOUT_QUEUES:
        at = figures["payout_oldest"].get(status)
        age.labels(f"payouts_{status}").set(max((now - at).total_seconds(), 0.0) if at else 0.0)
    beats = figures["heartbeats"]
    live = sum((now - seen).total_seconds() <= stale_after_s for _, seen in beats)
    workers = Gauge(
        "giftcash_workers",
        "Workers by heartbeat: live (seen recently) or stale.",
        ("state",),
        registry=reg,
    )
    workers.labels("live").set(live)
    workers.labels("stale").set(len(beats) - live)
    newest = max((seen for _, seen in beats), default=None)
    heartbeat = Gauge(
        "giftcash_worker_heartbeat_age_seconds",
        "Seconds since the most recent worker heartbeat (-1: no worker has ever beaten).",
        registry=reg,
    )
    heartbeat.set(max((now - newest).total_seconds(), 0.0) if newest else -1.0)
    return reg
