"""The client address a request came from, as the guards and bounds count it.

Behind a load balancer every request arrives from the balancer, so counting by the peer
would put every customer under one address. ``X-Forwarded-For`` names the client, but
anyone can send that header: it is believed only when the direct peer is one of the
operator's trusted proxies (``GIFTCASH_TRUSTED_PROXIES``), and then read from the right,
skipping trusted proxies, to the first address no trusted proxy added (docs/deploy.md).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from starlette.requests import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def _networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def _trusted(address: str, nets: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in nets)


def client_address_of(
    peer: str | None, forwarded_for: list[str], trusted: tuple[str, ...]
) -> str | None:
    """``forwarded_for``: every X-Forwarded-For header value, in order."""
    nets = _networks(trusted)
    if peer is None or not nets or not _trusted(peer, nets):
        return peer
    hops = [h.strip() for value in forwarded_for for h in value.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, nets):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a hop that is no address: the header is not believed
    return peer


def client_address(request: Request) -> str | None:
    deps = getattr(request.app.state, "deps", None)
    trusted = tuple(getattr(deps, "trusted_proxies", ()) or ())
    peer = request.client.host if request.client else None
    return client_address_of(peer, request.headers.getlist("x-forwarded-for"), trusted)
