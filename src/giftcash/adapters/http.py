"""Shared httpx plumbing: one client per base URL, and the rule that turns transport
failures into the service's ``Ambiguous`` / ``Unavailable``."""

from __future__ import annotations

import functools
import ssl
from collections.abc import Callable
from typing import Any

import httpx

from giftcash.service.ports import Ambiguous, Unavailable


@functools.cache
def tls_context(trust_env: bool = True) -> ssl.SSLContext:
    """One verifying TLS context per process (per ``trust_env``, as httpx reads
    ``SSL_CERT_FILE`` only when it trusts the environment): loading the CA bundle costs
    ~20 ms a client, and a context is safe to share between clients and threads."""
    return httpx.create_ssl_context(trust_env=trust_env)


def make_client(base_url: str, timeout_s: float, max_connections: int = 64) -> httpx.Client:
    return httpx.Client(
        base_url=base_url,
        verify=tls_context(),
        timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 2.0)),
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
    )


def call(send: Callable[[], httpx.Response], *, money: bool) -> httpx.Response:
    """Run one request. A money call (redeem, deposit) whose request may have reached the
    other side is ``Ambiguous`` on any transport error or 5xx; a failure to connect, or
    any failure of a read-only call, is ``Unavailable``."""
    try:
        response = send()
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as e:
        raise Unavailable(type(e).__name__) from None
    except httpx.TransportError as e:  # read timeout, reset, protocol error after sending
        if money:
            raise Ambiguous(type(e).__name__) from None
        raise Unavailable(type(e).__name__) from None
    if response.status_code >= 500:
        if money:
            raise Ambiguous(f"HTTP {response.status_code}")
        raise Unavailable(f"HTTP {response.status_code}")
    return response


def json_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
