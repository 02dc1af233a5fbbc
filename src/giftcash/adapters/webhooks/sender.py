"""Delivers one signed webhook over HTTP; answers the status code or raises Unavailable.

The connection is pinned to the address the outbound check approved (service/outbound.py):
the name is resolved once, every address judged, and the request is sent to the approved
address with the original name as ``Host`` and as the TLS server name (so the certificate
is still checked against the name). Resolving again inside the HTTP client would let a
name that changes between the two look-ups (DNS rebinding) reach an address nobody
checked. Redirects are not followed, the answer's body is never read (only its status),
and the whole call has a timeout."""

from __future__ import annotations

import httpx

from giftcash.adapters.http import tls_context
from giftcash.adapters.net import SystemResolver
from giftcash.service import outbound
from giftcash.service.errors import InvalidInput
from giftcash.service.outbound import OutboundPolicy, Resolver
from giftcash.service.ports import Unavailable


class HttpWebhookSender:
    def __init__(
        self,
        timeout_s: float = 5.0,
        *,
        policy: OutboundPolicy | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.policy = policy or OutboundPolicy()
        self.resolver = resolver or SystemResolver()
        self.http = httpx.Client(
            timeout=timeout_s,
            follow_redirects=False,
            trust_env=False,
            verify=tls_context(trust_env=False),
        )

    def close(self) -> None:
        self.http.close()

    def send(self, url: str, headers: dict[str, str], body: str) -> int:
        try:
            to = outbound.target(url, self.resolver, self.policy)
        except InvalidInput as e:  # refused, or a URL of the wrong shape
            raise Unavailable(f"refused: {e.message}") from None
        # httpx brackets an IPv6 host itself
        pinned = httpx.URL(url).copy_with(host=to.address.split("%", 1)[0], port=to.port)
        default_port = outbound.DEFAULT_PORTS[to.scheme]
        host_header = to.host if to.port == default_port else f"{to.host}:{to.port}"
        try:
            with self.http.stream(
                "POST",
                pinned,
                content=body.encode(),
                headers={**headers, "host": host_header},
                extensions={"sni_hostname": to.host},
            ) as response:
                return response.status_code  # the body is not read
        except httpx.HTTPError as e:
            raise Unavailable(type(e).__name__) from None
