"""Client for the issuer API shape served by the issuer simulator (one base URL, the
issuer in the path). A real issuer with another shape gets its own module behind the
same ``IssuerPort``."""

from __future__ import annotations

from datetime import datetime

import httpx

from giftcash.adapters.http import call, json_body, make_client
from giftcash.service.ports import Redemption, VoucherInfo


def _dt(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _text(value: object, limit: int = 64) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


class HttpIssuer:
    def __init__(
        self,
        base_url: str,
        timeout_s: float = 5.0,
        client: httpx.Client | None = None,
        max_connections: int = 64,
    ):
        self.http = client or make_client(base_url, timeout_s, max_connections)

    def close(self) -> None:
        self.http.close()

    def inquire_balance(self, issuer: str, code: str, pin: str | None) -> VoucherInfo | None:
        r = call(
            lambda: self.http.post(
                f"/v1/issuers/{issuer}/balance-inquiry", json={"code": code, "pin": pin}
            ),
            money=False,
        )
        body = json_body(r)
        if r.status_code == 404 and body.get("error") == "inquiry_not_supported":
            return None
        if r.status_code != 200:
            return VoucherInfo("not_found", None, None, None, None, None, None)
        return VoucherInfo(
            status=str(body.get("status", "not_found")),
            face_value=body.get("face_value"),
            balance=body.get("balance"),
            currency=body.get("currency"),
            purchase_channel=body.get("purchase_channel"),
            purchased_at=_dt(body.get("purchased_at")),
            expires_at=_dt(body.get("expires_at")),
            used_at=_dt(body.get("used_at")),
            used_where=_text(body.get("used_where")),
            reference=_text(body.get("inquiry_ref")),
        )

    def redeem(self, issuer: str, key: str, code: str, pin: str | None) -> Redemption:
        r = call(
            lambda: self.http.post(
                f"/v1/issuers/{issuer}/redemptions",
                json={"code": code, "pin": pin},
                headers={"Idempotency-Key": key},
            ),
            money=True,
        )
        return _redemption(r)

    def redemption_by_key(self, issuer: str, key: str) -> Redemption | None:
        r = call(lambda: self.http.get(f"/v1/issuers/{issuer}/redemptions/{key}"), money=False)
        if r.status_code == 404:
            return None
        return _redemption(r)


def _redemption(r: httpx.Response) -> Redemption:
    body = json_body(r)
    if r.status_code in (200, 201):
        return Redemption(
            outcome="captured",
            redemption_id=body.get("redemption_id"),
            amount=body.get("amount"),
            currency=body.get("currency"),
            purchase_channel=body.get("purchase_channel"),
            purchased_at=_dt(body.get("purchased_at")),
            used_at=_dt(body.get("redeemed_at")),
        )
    if r.status_code == 409:
        return Redemption(
            outcome="already_redeemed",
            used_at=_dt(body.get("used_at")),
            used_where=_text(body.get("used_where")),
        )
    if r.status_code == 410:
        return Redemption(outcome="expired")
    if r.status_code == 404:
        return Redemption(outcome="not_found")
    # 4xx we do not understand (e.g. a reused key) is a bug on our side: never guess.
    raise AssertionError(f"issuer answered {r.status_code} {body.get('error')!r}")
