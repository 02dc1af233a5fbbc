"""Client for the SMS gateway shape served by the SMS simulator."""

from __future__ import annotations

import httpx

from giftcash.adapters.http import call, make_client
from giftcash.service.ports import Unavailable


class HttpSms:
    def __init__(self, base_url: str, timeout_s: float = 5.0, client: httpx.Client | None = None):
        self.http = client or make_client(base_url, timeout_s, max_connections=8)

    def close(self) -> None:
        self.http.close()

    def send(self, phone: str, text: str, key: str) -> None:
        r = call(
            lambda: self.http.post(
                "/v1/messages", json={"to": phone, "text": text, "idempotency_key": key}
            ),
            money=False,
        )
        if r.status_code >= 400:
            raise Unavailable(f"SMS gateway answered {r.status_code}")
