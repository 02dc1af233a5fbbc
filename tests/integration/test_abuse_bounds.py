"""Abuse resistance (issue 18), tried as an attacker would through the API, on SQLite and
PostgreSQL: SMS pumping, account aggregation, enumeration of registered phones, unknown
codes sent to make the issuer answer, webhook floods and forwarded addresses. Every bound
that is hit answers 429 with Retry-After (or makes the work wait), and never touches
another customer's sign-up or money."""

from __future__ import annotations

import dataclasses
import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from apiworld import PASSWORD, LaterClock, World, add_account, item, signup
from giftcash.abuse.bounds import Bounds
from giftcash.adapters.db import tables as t
from giftcash.entrypoints.client_address import client_address_of
from giftcash.entrypoints.worker import Worker


def client_from(w: World, ip: str) -> TestClient:
    return TestClient(w.client.app, client=(ip, 40000))


def bound(w: World, **limits: int) -> None:
    w.deps.bounds = dataclasses.replace(Bounds(), **limits)


def try_signup(c: TestClient, phone: str, password: str = PASSWORD):
    return c.post(
        "/v1/signup",
        json={"phone": phone, "name": "홍길동", "birth_date": "1990-01-02", "password": password},
    )


def texts_to(w: World, phone: str) -> list[str]:
    return [text for p, text in w.sms.outbox if p == phone.replace("-", "")]


def assert_limited(r) -> None:
    assert r.status_code == 429, r.text
    assert r.json()["code"] == "rate_limited", r.text
    assert int(r.headers["Retry-After"]) >= 1
    assert r.json()["retry_after_s"] == int(r.headers["Retry-After"])


# -- SMS pumping -----------------------------------------------------------------------------


def test_a_burst_of_signups_from_one_address_sends_at_most_the_bound(world: World):
    w = world
    bound(w, sms_per_address=3)
    attacker = client_from(w, "203.0.113.5")
    answers = [try_signup(attacker, f"010-{5000 + n}-0001").status_code for n in range(3)]
    honest = try_signup(client_from(w, "198.51.100.20"), "010-2468-1357")  # in the middle
    answers += [try_signup(attacker, f"010-{5100 + n}-0001").status_code for n in range(5)]
    assert answers == [201] * 3 + [429] * 5
    assert_limited(try_signup(attacker, "010-5200-0001"))
    assert len(w.sms.outbox) == 3 + 1
    assert honest.status_code == 201
    code = w.sms.last_code("01024681357")
    r = w.client.post("/v1/signup/verify", json={"phone": "010-2468-1357", "code": code})
    assert r.status_code == 200, r.text


def test_a_burst_from_many_addresses_into_one_number_range_is_bounded(world: World):
    w = world
    bound(w, sms_per_range=4)
    answers = [
        try_signup(client_from(w, f"203.0.113.{n + 1}"), f"010-9999-{n:04d}").status_code
        for n in range(10)
    ]
    assert answers == [201] * 4 + [429] * 6
    assert sum(1 for p, _ in w.sms.outbox if p.startswith("0109999")) == 4
    # someone else, from one of the same addresses, in another range: served
    assert try_signup(client_from(w, "203.0.113.7"), "010-3141-5926").status_code == 201


def test_one_phone_gets_at_most_the_bound_of_texts(world: World):
    w = world
    bound(w, sms_per_phone=2)
    answers = [try_signup(client_from(w, f"10.1.0.{n}"), "010-7777-0001") for n in range(4)]
    assert [r.status_code for r in answers] == [201, 201, 429, 429]
    assert len(texts_to(w, "010-7777-0001")) == 2


def test_the_sms_breaker_trips_once_pages_and_cools_down(world: World):
    w = world
    bound(w, sms_breaker_burst=5, breaker_cooldown_s=600)
    answers = [try_signup(client_from(w, f"192.0.2.{n}"), f"010-{6000 + n}-0001") for n in range(8)]
    assert [r.status_code for r in answers] == [201] * 5 + [429] * 3
    assert "paused" in answers[5].json()["detail"]
    assert 1 <= int(answers[5].headers["Retry-After"]) <= 600
    with w.engine.connect() as conn:
        trips = conn.execute(select(t.breaker_trips)).all()
        pages = conn.execute(
            select(t.audit_log).where(t.audit_log.c.action == "breaker.tripped")
        ).all()
    assert [r.provider for r in trips] == ["sms"] and len(pages) == 1
    assert len(w.sms.outbox) == 5
    w.deps.clock = LaterClock(hours=0.2)  # past the cool-down and the burst window
    assert try_signup(client_from(w, "192.0.2.99"), "010-6099-0001").status_code == 201


def test_signup_texts_only_korean_mobile_numbers(world: World):
    w = world
    for phone in ("02-123-4567", "+1-202-555-0100", "060-700-1234", "0505-123-4567"):
        r = try_signup(w.client, phone)
        assert r.status_code == 422 and r.json()["code"] == "invalid_phone", r.text
    assert w.sms.outbox == []


# -- enumeration -----------------------------------------------------------------------------


def test_signup_answers_alike_for_a_registered_phone_and_texts_its_owner(world: World):
    w = world
    signup(w, "010-8100-0001")
    before = len(texts_to(w, "010-8100-0001"))
    known = try_signup(w.client, "010-8100-0001", "another password 1")
    new = try_signup(w.client, "010-8100-0002", "another password 1")
    assert known.status_code == new.status_code == 201
    assert known.json().keys() == new.json().keys()
    assert len(known.json()["customer_id"]) == len(new.json()["customer_id"])
    notice = texts_to(w, "010-8100-0001")[before:]
    assert len(notice) == 1 and "가입" in notice[0] and not re.search(r"\d{6}", notice[0])
    # twice: a new id each time for both, so repeating cannot tell them apart either
    assert try_signup(w.client, "010-8100-0001").json() != known.json()
    assert try_signup(w.client, "010-8100-0002").json() != new.json()
    # the owner can still sign in with their own password
    r = w.client.post("/v1/tokens", json={"phone": "010-8100-0001", "password": PASSWORD})
    assert r.status_code == 200, r.text


def _shape(r) -> tuple:
    body = r.json()
    return r.status_code, tuple(sorted(body)), body.get("code"), body.get("detail")


def test_code_verification_answers_alike_for_registered_and_unknown_phones(world: World):
    w = world
    signup(w, "010-8200-0001")
    try_signup(w.client, "010-8200-0001")  # someone tries the registered number
    try_signup(w.client, "010-8200-0002")  # and a new one
    answers = [
        w.client.post("/v1/signup/verify", json={"phone": p, "code": "000000"})
        for p in ("010-8200-0001", "010-8200-0002", "010-8200-0003")
    ]
    assert len({_shape(r) for r in answers}) == 1, [r.text for r in answers]
    assert answers[0].status_code == 422 and answers[0].json()["code"] == "invalid_code"
    # after as many misses as the lock allows, all three are locked alike
    for _ in range(w.deps.limits.sms_max_failures):
        answers = [
            client_from(w, f"10.3.0.{n}").post(
                "/v1/signup/verify", json={"phone": p, "code": "000000"}
            )
            for n, p in enumerate(("010-8200-0001", "010-8200-0002", "010-8200-0003"))
        ]
    assert len({_shape(r) for r in answers}) == 1, [r.text for r in answers]


class CountingHasher:
    def __init__(self, inner) -> None:
        self.inner, self.verified = inner, 0

    def hash(self, password: str) -> str:
        return self.inner.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified += 1
        return self.inner.verify(password_hash, password)


def test_signin_spends_one_hash_verification_whether_or_not_the_phone_is_known(world: World):
    w = world
    signup(w, "010-8300-0001")
    counter = CountingHasher(w.deps.passwords)
    w.deps.passwords = counter
    shapes, costs = [], []
    for n, phone in enumerate(["010-8300-0001", "010-8300-0009", "010-8300-0001", "not a phone"]):
        before = counter.verified
        r = client_from(w, f"10.4.0.{n}").post(
            "/v1/tokens", json={"phone": phone, "password": "wrong password"}
        )
        shapes.append(_shape(r))
        costs.append(counter.verified - before)
    assert costs == [1, 1, 1, 1]
    assert len(set(shapes)) == 1 and shapes[0][0] == 401, shapes
    # the per-phone lock comes alike for a registered and an unknown phone
    for _ in range(w.deps.limits.login_max_failures):
        locked = [
            client_from(w, f"10.5.0.{n}").post(
                "/v1/tokens", json={"phone": p, "password": "wrong password"}
            )
            for n, p in enumerate(("010-8300-0001", "010-8300-0009"))
        ]
    assert len({_shape(r) for r in locked}) == 1 and locked[0].status_code == 429


# -- account aggregation ------------------------------------------------------------------------


def _add(w: World, auth: dict, number: str, ip: str = "testclient"):
    w.bank.open("004", number, "홍길동")
    return client_from(w, ip).post(
        "/v1/bank-accounts",
        json={"bank_code": "004", "account_number": number, "holder_name": "홍길동"},
        headers=auth,
    )


def test_a_customer_adding_many_accounts_gets_deposits_within_the_bound(world: World):
    w = world
    auth = signup(w, "010-8400-0001")
    answers = [_add(w, auth, f"8400000000{n:04d}") for n in range(12)]
    cap = w.deps.bounds.bank_accounts_per_customer
    assert [r.status_code for r in answers] == [201] * cap + [409] * (12 - cap)
    assert answers[-1].json()["code"] == "too_many_bank_accounts"
    one_won = [x for x in w.bank.transfers.values() if x["amount"] == 1]
    assert len(one_won) == cap


def test_deposits_per_customer_and_per_day_are_bounded_across_failures(world: World):
    w = world
    bound(w, deposits_per_customer=2, bank_accounts_per_customer=10)
    auth = signup(w, "010-8500-0001")
    answers = [_add(w, auth, f"8500000000{n:04d}") for n in range(4)]
    assert [r.status_code for r in answers] == [201, 201, 429, 429]
    assert_limited(answers[2])
    assert len([x for x in w.bank.transfers.values() if x["amount"] == 1]) == 2


def test_one_account_number_gets_a_bounded_number_of_deposits_whoever_adds_it(world: World):
    w = world
    bound(w, deposits_per_account=1)
    first, second = signup(w, "010-8600-0001"), signup(w, "010-8600-0002")
    assert _add(w, first, "86000000000001").status_code == 201
    assert_limited(_add(w, second, "86000000000001"))
    assert len([x for x in w.bank.transfers.values() if x["amount"] == 1]) == 1


def test_an_account_whose_verification_failed_waits_before_it_is_added_again(world: World):
    w = world
    bound(w, account_retry_cooldown_s=600)
    auth = signup(w, "010-8700-0001")
    r = _add(w, auth, "87000000000001")
    account_id = r.json()["id"]
    for _ in range(w.deps.limits.account_verify_attempts):
        w.client.post(
            f"/v1/bank-accounts/{account_id}/verify", json={"code": "GC0000"}, headers=auth
        )
    assert_limited(_add(w, auth, "87000000000001"))
    assert _add(w, auth, "87000000000002").status_code == 201  # another number is fine
    w.deps.clock = LaterClock(hours=0.2)
    assert _add(w, auth, "87000000000001").status_code == 201


# -- unknown codes (carding) ----------------------------------------------------------------------


def test_unknown_codes_hold_the_sender_and_never_another_customers_voucher(world: World):
    w = world
    bound(w, invalid_codes_per_customer=3)
    prober = signup(w, "010-8800-0001")
    prober_account = add_account(w, prober, "88000000000001")
    probes = [item(f"41808800{n:08d}", 10_000) for n in range(3)]
    r = w.client.post(
        "/v1/submissions", headers=prober, json={"bank_account_id": prober_account, "items": probes}
    )
    assert r.status_code == 201, r.text
    Worker(w.deps).drain(10)
    asked: list[str] = []
    real_inquiry = w.issuer.inquire_balance
    w.issuer.inquire_balance = lambda i, c, p: (asked.append(c), real_inquiry(i, c, p))[1]
    more = [item(f"41808801{n:08d}", 10_000) for n in range(3)]
    sub = w.client.post(
        "/v1/submissions", headers=prober, json={"bank_account_id": prober_account, "items": more}
    ).json()
    # the honest customer, through the same address, sells a real voucher at the same time
    honest = signup(w, "010-8800-0002", name="김영희")
    honest_account = add_account(w, honest, "88000000000002", name="김영희")
    w.issuer.sell("cultureland", "4180880200000001", 10_000)
    mine = w.client.post(
        "/v1/submissions",
        headers=honest,
        json={"bank_account_id": honest_account, "items": [item("4180880200000001", 10_000)]},
    ).json()
    Worker(w.deps).drain(10)
    held = w.client.get(f"/v1/submissions/{sub['id']}", headers=prober).json()["items"]
    assert {i["status"] for i in held} == {"received"}, held  # waiting, not declined
    paid = w.client.get(f"/v1/submissions/{mine['id']}", headers=honest).json()["items"]
    assert [i["status"] for i in paid] == ["paid"], paid
    assert asked == ["4180880200000001"]  # the issuer was not asked about the held ones
    with w.engine.connect() as conn:
        counted = conn.execute(
            select(t.bounded_calls).where(t.bounded_calls.c.kind == "issuer_invalid")
        ).all()
    assert len(counted) == 3


# -- webhooks and forwarded addresses -------------------------------------------------------------


def test_webhook_deliveries_past_the_endpoint_bound_wait_in_the_outbox(world: World):
    w = world
    bound(w, webhooks_per_endpoint=2)
    auth = signup(w, "010-8900-0001")
    account = add_account(w, auth, "89000000000001")
    r = w.client.post(
        "/v1/webhook-endpoints", headers=auth, json={"url": "http://127.0.0.1:9/hook"}
    )
    assert r.status_code == 201, r.text
    sent = []

    class Capture:
        def send(self, url, headers, body):
            sent.append(body)
            return 204

    w.issuer.sell("cultureland", "4180890000000001", 10_000)
    w.client.post(
        "/v1/submissions",
        headers=auth,
        json={"bank_account_id": account, "items": [item("4180890000000001", 10_000)]},
    )
    Worker(w.deps, webhook_sender=Capture()).drain(10)
    with w.engine.connect() as conn:
        o = t.webhook_outbox.c
        waiting = conn.execute(select(t.webhook_outbox).where(o.delivered_at.is_(None))).all()
    assert len(sent) == 2 and waiting, (len(sent), len(waiting))
    assert all(r.next_attempt_at is not None and r.last_error is None for r in waiting)


def test_forwarded_for_is_believed_only_from_a_trusted_proxy():
    trusted = ("10.0.0.0/8",)
    assert client_address_of("203.0.113.1", ["198.51.100.1"], trusted) == "203.0.113.1"
    assert client_address_of("10.0.0.2", ["198.51.100.1"], trusted) == "198.51.100.1"
    # a client forging the header in front of the proxy: the proxy's own addition counts
    assert client_address_of("10.0.0.2", ["6.6.6.6, 198.51.100.1"], trusted) == "198.51.100.1"
    assert client_address_of("10.0.0.2", ["198.51.100.1, 10.0.0.9"], trusted) == "198.51.100.1"
    assert client_address_of("10.0.0.2", ["not-an-ip"], trusted) == "10.0.0.2"
    assert client_address_of("10.0.0.2", [], trusted) == "10.0.0.2"
    assert client_address_of("10.0.0.2", ["198.51.100.1"], ()) == "10.0.0.2"


def test_signups_behind_a_trusted_proxy_count_by_the_forwarded_address(world: World):
    w = world
    bound(w, sms_per_address=2)
    w.deps.trusted_proxies = ("10.0.0.0/8",)
    balancer = client_from(w, "10.0.0.2")

    def via(ip: str, phone: str):
        return balancer.post(
            "/v1/signup",
            headers={"X-Forwarded-For": ip},
            json={
                "phone": phone,
                "name": "홍길동",
                "birth_date": "1990-01-02",
                "password": PASSWORD,
            },
        )

    assert [via("198.51.100.1", f"010-{4100 + n}-0001").status_code for n in range(3)] == [
        201,
        201,
        429,
    ]
    # another customer behind the same balancer is not slowed by the first one's count
    assert via("198.51.100.2", "010-4200-0001").status_code == 201


def test_the_operators_own_addresses_are_refused_at_registration_and_by_the_worker(
    world: World, monkeypatch, tmp_path
):
    from giftcash.bootstrap import build_deps
    from giftcash.config import Settings

    w = world
    w.deps.outbound_denied = ("203.0.113.0/24",)
    auth = signup(w, "010-9100-0001")
    r = w.client.post(
        "/v1/webhook-endpoints", headers=auth, json={"url": "https://203.0.113.5/hook"}
    )
    assert r.status_code == 422 and r.json()["code"] == "url_not_allowed", r.text
    worker = Worker(w.deps)
    assert [str(n) for n in worker.webhook_sender.policy.denied] == ["203.0.113.0/24"]
    worker.close()
    monkeypatch.setenv("GIFTCASH_OUTBOUND_DENIED", "198.51.100.0/24, 2001:db8::/32")
    monkeypatch.setenv("GIFTCASH_TRUSTED_PROXIES", "10.0.0.0/8")
    monkeypatch.setenv("GIFTCASH_BOUNDS", '{"sms_per_address": 7}')
    deps = build_deps(Settings(data_dir=tmp_path / "other"), engine=w.engine)
    assert deps.outbound_denied == ("198.51.100.0/24", "2001:db8::/32")
    assert deps.trusted_proxies == ("10.0.0.0/8",) and deps.bounds.sms_per_address == 7
