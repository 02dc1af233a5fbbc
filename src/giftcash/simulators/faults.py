"""Fault injection for the simulators' real API endpoints (never for ``/sim/*``).

``POST /sim/faults`` replaces the whole configuration (fields left out take their
defaults), reseeds the random generator and zeroes the counters; ``DELETE /sim/faults``
goes back to no faults; ``GET /sim/faults`` shows the configuration and what was injected.
The configuration lives in memory: a restarted simulator starts without faults.

Per request, exactly two numbers are drawn from a ``random.Random(seed)``: one picks the
outcome, one the jitter. So the same seed and the same sequence of requests replay the
same faults. The outcomes, drawn from one uniform number against the cumulative rates:

- ``error_rate``: answer 503 without doing anything;
- ``timeout_rate``: wait ``timeout_ms`` (longer than a client's timeout), answer 504,
  without doing anything;
- ``timeout_after_work_rate``: do the work and commit it, then wait ``timeout_ms`` and
  answer 504;
- ``lost_answer_rate``: do the work and commit it, then lose the answer: a 503 (mode
  ``status``) or a connection dropped in the middle of the response (mode ``drop``).

A 503 after work looks exactly like a 503 before work, as it would in the field: only
an inquiry can tell them apart. Latency (``latency_ms`` plus up to ``latency_jitter_ms``)
comes before the work.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Action = Literal["pass", "error", "timeout", "timeout_after_work", "lost_answer"]
RATE = Field(default=0.0, ge=0.0, le=1.0)
MS = Field(default=0, ge=0, le=600_000)


class FaultConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    latency_ms: int = MS
    latency_jitter_ms: int = MS
    error_rate: float = RATE
    timeout_rate: float = RATE
    timeout_after_work_rate: float = RATE
    lost_answer_rate: float = RATE
    lost_answer_mode: Literal["status", "drop"] = "status"
    timeout_ms: int = Field(default=10_000, ge=0, le=600_000)
    seed: int | None = None

    @model_validator(mode="after")
    def _rates_fit(self) -> FaultConfig:
        total = (
            self.error_rate
            + self.timeout_rate
            + self.timeout_after_work_rate
            + self.lost_answer_rate
        )
        if total > 1.0:
            raise ValueError("the four rates add up to more than 1")
        return self


@dataclass(frozen=True, slots=True)
class Plan:
    delay_s: float
    action: Action


class Faults:
    """The current configuration, its seeded generator and the counters; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.configure(FaultConfig())

    def configure(self, config: FaultConfig) -> None:
        with self._lock:
            self.config = config
            self._rng = random.Random(config.seed)
            self.counts = dict.fromkeys(
                ("requests", "error", "timeout", "timeout_after_work", "lost_answer"), 0
            )

    def draw(self) -> Plan:
        with self._lock:
            c = self.config
            u = self._rng.random()
            jitter = self._rng.random()
            self.counts["requests"] += 1
            action: Action = "pass"
            edge = 0.0
            for name, rate in (
                ("error", c.error_rate),
                ("timeout", c.timeout_rate),
                ("timeout_after_work", c.timeout_after_work_rate),
                ("lost_answer", c.lost_answer_rate),
            ):
                edge += rate
                if u < edge:
                    action = name  # type: ignore[assignment]
                    self.counts[name] += 1
                    break
            delay_ms = c.latency_ms + jitter * c.latency_jitter_ms
            return Plan(delay_s=delay_ms / 1000, action=action)

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {**self.config.model_dump(), "counts": dict(self.counts)}


class DroppedConnection(Exception):
    """Raised after the status line went out, so the server closes the connection and
    the client sees a response that broke off (an ambiguous outcome)."""


class _QuietDrops(logging.Filter):
    """Keeps uvicorn from logging a traceback for every injected drop."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedConnection)


def quiet_injected_drops() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietDrops) for f in logger.filters):
        logger.addFilter(_QuietDrops())


class FaultInjector:
    """Pure ASGI middleware (cheaper than ``BaseHTTPMiddleware`` on the hot path). Its
    waits are ``asyncio.sleep``: a hanging request holds no worker thread."""

    def __init__(self, app: ASGIApp, faults: Faults, api_prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.faults = faults
        self.api_prefixes = api_prefixes
        quiet_injected_drops()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.api_prefixes):
            await self.app(scope, receive, send)
            return
        plan = self.faults.draw()
        if plan.action == "pass" and plan.delay_s == 0:
            await self.app(scope, receive, send)
            return
        if plan.delay_s:
            await asyncio.sleep(plan.delay_s)
        timeout_s = self.faults.config.timeout_ms / 1000
        if plan.action == "pass":
            await self.app(scope, receive, send)
        elif plan.action == "error":
            await _answer(send, 503, {"error": "service_unavailable"})
        elif plan.action == "timeout":
            await asyncio.sleep(timeout_s)
            await _answer(send, 504, {"error": "gateway_timeout"})
        else:
            await self.app(scope, receive, _discard)
            if plan.action == "timeout_after_work":
                await asyncio.sleep(timeout_s)
                await _answer(send, 504, {"error": "gateway_timeout"})
            elif self.faults.config.lost_answer_mode == "drop":
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", b"64"),
                        ],
                    }
                )
                raise DroppedConnection("injected: the answer was lost on the way")
            else:
                await _answer(send, 503, {"error": "service_unavailable"})


async def _discard(message: Message) -> None:
    """The real answer of a request whose answer is to be lost."""


async def _answer(send: Send, status: int, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(raw)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": raw})
