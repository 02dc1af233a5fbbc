"""Where the exchange may send a request that a customer told it to send (webhooks).

A webhook URL is an instruction from outside to make our worker open a connection; aimed
at the operator's own network it would reach services that trust their neighbours (the
SSRF of OWASP's cheat sheet). So a URL is judged by the addresses it leads to, not by how
it is spelt: a name, a decimal or hexadecimal integer, a short dotted form, an IPv6 or an
IPv4-mapped IPv6 literal all resolve to an address, and every address a name resolves to
must be a public one (a name with one public and one private address is refused whole, or
the private one could be chosen when the connection is made). The check runs at
registration and again at every delivery, on the address the connection is then made to
(adapters/webhooks/sender.py pins it), so a name that is re-pointed after registration is
caught too. Redirects are never followed.

Pure: the addresses come in from a resolver port; nothing here opens a socket.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from giftcash.service import errors

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
DEFAULT_PORTS = {"http": 80, "https": 443}
# NAT64's well-known prefix carries an IPv4 address in its last 32 bits.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class Resolver(Protocol):
    def resolve(self, host: str, port: int) -> list[str]:
        """Every address ``host`` resolves to (what a connection could use). Raises
        ``LookupError`` when the name does not resolve."""
        ...


class OutboundRefused(errors.InvalidInput):
    """A URL that leads somewhere the exchange does not send requests."""

    code = "url_not_allowed"


@dataclass(frozen=True, slots=True)
class OutboundPolicy:
    """``allow_loopback`` is for a demo or a test on one machine (its receiver listens
    on 127.0.0.1), never for private networks; ``denied`` adds the operator's own public
    addresses (the API's, the load balancer's) to what is refused."""

    allow_loopback: bool = False
    denied: tuple[Network, ...] = ()

    @classmethod
    def of(cls, *, allow_loopback: bool = False, denied: Iterable[str] = ()) -> OutboundPolicy:
        nets = tuple(ipaddress.ip_network(d.strip(), strict=False) for d in denied if d.strip())
        return cls(allow_loopback, nets)


@dataclass(frozen=True, slots=True)
class Target:
    """A URL split for a pinned connection: ``address`` is the checked one to connect to."""

    scheme: str
    host: str
    port: int
    address: str


def refusal(ip: IPAddress, policy: OutboundPolicy) -> str | None:
    """Why a connection to ``ip`` is refused, or None for a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or (ip.sixtofour if ip.sixtofour else None)
        if ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if ip.teredo:
            return "a Teredo tunnel address"
        if embedded is not None:
            reason = refusal(embedded, policy)
            return f"an IPv6 form of {reason}" if reason else None
    if any(ip in net for net in policy.denied):
        return "one of the operator's own addresses"
    if ip.is_loopback:
        return None if policy.allow_loopback else "a loopback address"
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "a reserved address"
    return None


def split_url(url: str, policy: OutboundPolicy) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL we may call, or ``InvalidInput`` saying why not."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise errors.InvalidInput("the webhook URL must be an http(s) URL", field="url")
    if parts.scheme == "http" and not policy.allow_loopback:
        raise errors.InvalidInput("webhook URLs must use https", field="url")
    if parts.username is not None or parts.password is not None:
        raise errors.InvalidInput("webhook URLs may not carry a user name or password", field="url")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise errors.InvalidInput("the webhook URL's port is not a number", field="url") from None
    return parts.scheme, parts.hostname, port


def check_addresses(addresses: Sequence[str], policy: OutboundPolicy) -> str:
    """The address to connect to, when every one of ``addresses`` may be called."""
    if not addresses:
        raise OutboundRefused("the webhook URL's host has no address", field="url")
    for text in addresses:
        ip = ipaddress.ip_address(text.split("%", 1)[0])  # no IPv6 zone index
        reason = refusal(ip, policy)
        if reason:
            raise OutboundRefused(f"the webhook URL leads to {reason}", field="url")
    return addresses[0]


def target(url: str, resolver: Resolver, policy: OutboundPolicy) -> Target:
    """Resolve and judge ``url``: the checked address to connect to, or a refusal."""
    scheme, host, port = split_url(url, policy)
    try:
        addresses = resolver.resolve(host, port)
    except LookupError:
        raise OutboundRefused("the webhook URL's host does not resolve", field="url") from None
    return Target(scheme, host, port, check_addresses(addresses, policy))
