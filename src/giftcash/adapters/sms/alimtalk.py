"""KakaoTalk 알림톡 behind the SMS port, falling back to SMS.

A 알림톡 must be an approved template with its variables filled in (Kakao refuses any
other text), so the adapter knows the approved templates (``#{name}`` marks a variable)
and, for each text the service sends, finds the template it is: sent as that template
with its variables; a text no template matches (the sign-up 인증번호, say), a number with
no KakaoTalk, a refused template or an unavailable Kakao go by SMS with the same text.
The SMS carries the same idempotency key with ``:sms`` after it, so a retry after a
fallback sends no second SMS. The service layer sees only ``SmsPort.send``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from giftcash.adapters.http import call, make_client
from giftcash.service.ports import SmsPort, Unavailable

_VARIABLE = re.compile(r"#\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class Template:
    code: str  # the code Kakao approved it under
    body: str  # its text, variables written #{name}

    def match(self, text: str) -> dict[str, str] | None:
        """The variables that make ``text`` this template, or None."""
        parts = _VARIABLE.split(self.body)  # literal, name, literal, name, ...
        pattern = "".join(
            re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts)
        )
        found = re.fullmatch(pattern, text, flags=re.S)
        return found.groupdict() if found else None


class AlimtalkSms:
    def __init__(
        self,
        base_url: str,
        templates: Mapping[str, Template],
        fallback: SmsPort,
        timeout_s: float = 5.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.http = client or make_client(base_url, timeout_s, max_connections=8)
        self.templates = dict(templates)
        self.fallback = fallback

    def close(self) -> None:
        self.http.close()

    def send(self, phone: str, text: str, key: str) -> None:
        for template in self.templates.values():
            variables = template.match(text)
            if variables is not None and self._alimtalk(phone, template, variables, text, key):
                return
        self.fallback.send(phone, text, f"{key}:sms")

    def _alimtalk(
        self, phone: str, template: Template, variables: dict[str, str], text: str, key: str
    ) -> bool:
        """True: Kakao took it. False: send it by SMS instead."""
        body = {
            "to": phone,
            "template_code": template.code,
            "variables": variables,
            "text": text,
            "idempotency_key": key,
        }
        try:
            r = call(lambda: self.http.post("/v1/alimtalk", json=body), money=False)
        except Unavailable:
            return False
        return r.status_code < 400
