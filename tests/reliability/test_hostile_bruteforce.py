"""Brute force on customer login (``POST /v1/tokens``) and on SMS codes
(``POST /v1/signup/verify``) is rate-limited: after N failures per phone, or per client IP,
in a window the answer is ``429 too_many_attempts`` whatever the password or code, until
the window passes. The failures are kept in ``failed_attempts``, where the policy's
brute-force guard counts them too. On SQLite and PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from apiworld import PASSWORD, LaterClock, World, add_account, item, signup
from giftcash.adapters.db import tables as t


def client_from(w: World, ip: str) -> TestClient:
    return TestClient(w.client.app, client=(ip, 40000))


def login(c: TestClient, phone: str, password: str):
    return c.post("/v1/tokens", json={"phone": phone, "password": password})


def failures(w: World, kind: str) -> list:
    c = t.failed_attempts.c
    with w.engine.connect() as conn:
        return conn.execute(select(t.failed_attempts).where(c.kind == kind)).all()


def test_wrong_passwords_lock_the_phone_then_the_window_passes(world: World):
    w = world
    signup(w, "010-7000-0001")
    limit = w.deps.limits.login_max_failures
    for n in range(limit):
        r = login(client_from(w, f"10.0.0.{n + 1}"), "010-7000-0001", f"wrong password {n}")
        assert r.status_code == 401 and r.json()["code"] == "invalid_credentials", r.text
    # from yet another address, and with the right password: still locked
    r = login(client_from(w, "10.0.1.1"), "010-7000-0001", PASSWORD)
    assert r.status_code == 429 and r.json()["code"] == "too_many_attempts", r.text
    r = login(w.client, "010-7000-0001", "wrong again")
    assert r.status_code == 429
    rows = failures(w, "bad_login")
    assert len(rows) == limit and len({r.customer_id for r in rows}) == 1
    assert rows[0].customer_id is not None
    # another phone is not affected
    signup(w, "010-7000-0002")

    w.deps.clock = LaterClock(hours=w.deps.limits.failure_window_s / 3600 + 0.01)
    r = login(w.client, "010-7000-0001", PASSWORD)
    assert r.status_code == 200, r.text


def test_one_address_trying_many_phones_is_locked(world: World):
    w = world
    signup(w, "010-7100-0001")
    attacker = client_from(w, "203.0.113.9")
    limit = w.deps.limits.ip_max_failures
    for n in range(limit):
        # a known phone (twice), unknown phones and malformed ones all count for the address
        phone = "010-7100-0001" if n < 2 else [f"010-71{n:02d}-9999", "not a phone"][n % 2]
        r = login(attacker, phone, f"guess {n}")
        assert r.status_code == 401 and r.json()["code"] == "invalid_credentials", r.text
    r = login(attacker, "010-7100-0001", PASSWORD)
    assert r.status_code == 429 and r.json()["code"] == "too_many_attempts"
    # the customer, from their own address, is not locked out by the attacker's count
    assert login(client_from(w, "198.51.100.7"), "010-7100-0001", PASSWORD).status_code == 200
    assert {r.device_key for r in failures(w, "bad_login")} == {"203.0.113.9"}


def _signup_only(c: TestClient, phone: str) -> None:
    r = c.post(
        "/v1/signup",
        json={"phone": phone, "name": "홍길동", "birth_date": "1990-01-02", "password": PASSWORD},
    )
    assert r.status_code == 201, r.text


def _wrong_code(w: World, phone: str) -> str:
    right = w.sms.last_code(phone.replace("-", ""))
    return f"{(int(right) + 1) % 1_000_000:06d}"


def test_wrong_sms_codes_lock_the_phone_across_new_codes(world: World):
    w = world
    phone = "010-7200-0001"
    limit = w.deps.limits.sms_max_failures
    tried = 0
    while tried < limit:  # a fresh code after every two misses: the count is per phone
        _signup_only(w.client, phone)
        for _ in range(min(2, limit - tried)):
            r = w.client.post(
                "/v1/signup/verify", json={"phone": phone, "code": _wrong_code(w, phone)}
            )
            assert r.status_code == 422 and r.json()["code"] == "invalid_code", r.text
            tried += 1
    _signup_only(w.client, phone)  # a new code does not lift the lock
    right = w.sms.last_code(phone.replace("-", ""))
    r = client_from(w, "10.9.9.9").post("/v1/signup/verify", json={"phone": phone, "code": right})
    assert r.status_code == 429 and r.json()["code"] == "too_many_attempts", r.text
    assert len(failures(w, "bad_sms_code")) == limit

    w.deps.clock = LaterClock(hours=w.deps.limits.failure_window_s / 3600 + 0.01)
    _signup_only(w.client, phone)
    right = w.sms.last_code(phone.replace("-", ""))
    assert (
        w.client.post("/v1/signup/verify", json={"phone": phone, "code": right}).status_code == 200
    )


def test_one_address_guessing_codes_for_many_phones_is_locked(world: World):
    w = world
    attacker = client_from(w, "203.0.113.10")
    limit = w.deps.limits.ip_max_failures
    phones = [f"010-73{n:02d}-0001" for n in range(limit + 1)]
    for phone in phones[:limit]:
        _signup_only(attacker, phone)
        r = attacker.post("/v1/signup/verify", json={"phone": phone, "code": _wrong_code(w, phone)})
        assert r.status_code == 422, r.text
    _signup_only(attacker, phones[-1])
    right = w.sms.last_code(phones[-1].replace("-", ""))
    r = attacker.post("/v1/signup/verify", json={"phone": phones[-1], "code": right})
    assert r.status_code == 429 and r.json()["code"] == "too_many_attempts", r.text


def test_bad_logins_count_for_the_policy_guard(world: World):
    """Someone guessing a customer's password pauses that customer's sales too."""
    w = world
    auth = signup(w, "010-7400-0001")
    account = add_account(w, auth, "74000000000001")
    for n in range(w.deps.limits.login_max_failures):
        assert login(w.client, "010-7400-0001", f"nope {n}").status_code == 401
    w.issuer.sell("cultureland", "4180740000000001", 10_000)
    r = w.client.post(
        "/v1/submissions",
        headers=auth,
        json={"bank_account_id": account, "items": [item("4180740000000001", 10_000)]},
    )
    assert r.status_code == 201, r.text
    declined = r.json()["items"][0]
    assert declined["status"] == "declined", declined
    assert declined["decline"]["code"] == "too_many_attempts"
