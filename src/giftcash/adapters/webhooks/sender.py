"""Delivers one signed webhook over HTTP; answers the status code or raises Unavailable."""

from __future__ import annotations

import httpx

from giftcash.service.ports import Unavailable


class HttpWebhookSender:
    def __init__(self, timeout_s: float = 5.0) -> None:
        self.http = httpx.Client(timeout=timeout_s, follow_redirects=False)

    def close(self) -> None:
        self.http.close()

    def send(self, url: str, headers: dict[str, str], body: str) -> int:
        try:
            return self.http.post(url, content=body.encode(), headers=headers).status_code
        except httpx.HTTPError as e:
            raise Unavailable(type(e).__name__) from None
