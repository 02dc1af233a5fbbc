"""The customer flow through the HTTP API alone, as a new user would drive it, plus the
simulators' side of the story (what was redeemed, what was paid)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import date

import httpx

from giftcash.simulators.identity import add_person, confirm_on_phone

PASSWORD = "a long enough password"


@dataclass
class Urls:
    api: str
    issuer: str
    bank: str
    sms: str
    identity: str | None = None  # the identity simulator, where the demo has one


def wait_ready(url: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer in {timeout_s}s")


def sign_up(u: Urls, phone: str, name: str, account: str) -> tuple[dict, str]:
    """Sign up, verify the phone, add and verify a bank account. Answers (auth, account id)."""
    digits = phone.replace("-", "")
    if u.identity:  # the person the identity simulator vouches for
        assert add_person(u.identity, phone, name, date(1985, 3, 4))
    r = httpx.post(
        f"{u.api}/v1/signup",
        json={
            "phone": phone,
            "name": name,
            "birth_date": "1985-03-04",
            "password": PASSWORD,
        },
        headers={"Idempotency-Key": f"signup-{digits}"},
    )
    assert r.status_code == 201, r.text
    if r.json()["verification"] == "identity":
        assert u.identity and confirm_on_phone(u.identity, phone) == 1
        r = httpx.post(f"{u.api}/v1/signup/identity", json={"phone": phone})
        assert r.status_code == 200, r.text
    else:
        text = httpx.get(f"{u.sms}/sim/outbox", params={"to": digits}).json()["messages"][-1]
        code = re.search(r"\b(\d{6})\b", text["text"]).group(1)
        r = httpx.post(f"{u.api}/v1/signup/verify", json={"phone": phone, "code": code})
        assert r.status_code == 200, r.text
    r = httpx.post(f"{u.api}/v1/tokens", json={"phone": phone, "password": PASSWORD})
    assert r.status_code == 200, r.text
    auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
    httpx.post(
        f"{u.bank}/sim/accounts",
        json={
            "bank_code": "088",
            "account_number": account,
            "holder_name": name,
        },
    ).raise_for_status()
    r = httpx.post(
        f"{u.api}/v1/bank-accounts",
        headers={**auth, "Idempotency-Key": f"acct-{account}"},
        json={"bank_code": "088", "account_number": account, "holder_name": name},
    )
    assert r.status_code == 201, r.text
    account_id = r.json()["id"]
    txs = httpx.get(f"{u.bank}/sim/accounts/088/{account}/transactions").json()["transactions"]
    memo = [t["memo"] for t in txs if t["memo"].startswith("GC")][-1]
    r = httpx.post(
        f"{u.api}/v1/bank-accounts/{account_id}/verify", headers=auth, json={"code": memo}
    )
    assert r.status_code == 200 and r.json()["status"] == "verified", r.text
    return auth, account_id


def buy(u: Urls, brand: str, face: int, channel: str = "cash") -> dict:
    r = httpx.post(
        f"{u.issuer}/sim/vouchers",
        json={"brand_id": brand, "face_value": face, "purchase_channel": channel},
    )
    assert r.status_code == 201, r.text
    return r.json()


def submit(u: Urls, auth: dict, account_id: str, vouchers: list[dict], key: str) -> dict:
    items = [
        {
            "brand_id": v["brand_id"],
            "code": v["code"],
            "pin": v.get("pin"),
            "face_value": v["face_value"],
            "funding_source": "cash",
        }
        for v in vouchers
    ]
    r = httpx.post(
        f"{u.api}/v1/submissions",
        headers={**auth, "Idempotency-Key": key},
        json={"bank_account_id": account_id, "items": items},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    return r.json()


def wait_paid(u: Urls, auth: dict, submission_id: str, timeout_s: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        s = httpx.get(f"{u.api}/v1/submissions/{submission_id}", headers=auth).json()
        if all(i["status"] == "paid" for i in s["items"]):
            return s
        time.sleep(0.2)
    raise AssertionError(f"not paid in {timeout_s}s: {[i['status'] for i in s['items']]}")


def other_side(u: Urls) -> tuple[dict, dict]:
    return httpx.get(f"{u.issuer}/sim/redemptions").json(), httpx.get(
        f"{u.bank}/sim/transfers"
    ).json()
