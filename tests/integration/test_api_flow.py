"""The v1 API end to end over in-memory issuer, bank and SMS fakes, on SQLite and
PostgreSQL (the ``engine`` fixture). The simulators' own tests and the e2e tests cover
the HTTP adapters; here the service layer, the repositories and the API meet."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from apiworld import LaterClock, World, add_account, item, signup
from giftcash.adapters.db import tables as t
from giftcash.adapters.db.ledger_check import check
from giftcash.entrypoints.worker import Worker


def test_signup_to_paid(world: World):
    w = world
    auth = signup(w, "010-1111-2222")
    account = add_account(w, auth, "11112222333344")
    codes = ["4180000000000001", "4180000000000002", "4160000000000003"]
    for c in codes:
        w.issuer.sell("cultureland", c, 15_000)
    r = w.client.post(
        "/v1/submissions",
        json={"bank_account_id": account, "items": [item(c, 15_000) for c in codes]},
        headers={**auth, "Idempotency-Key": "sub-1"},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert [i["status"] for i in body["items"]] == ["received"] * 3
    assert all(
        i["masked_code"].endswith(c[-4:]) and c not in r.text for i, c in zip(body["items"], codes)
    )
    assert body["totals"]["payout"] == 3 * 13_500  # a first sale of 45,000: no hold

    Worker(w.deps).drain(20)

    r = w.client.get(f"/v1/submissions/{body['id']}", headers=auth)
    assert [i["status"] for i in r.json()["items"]] == ["paid"] * 3
    assert r.json()["status"] == "completed"
    listed = w.client.get("/v1/submissions", headers=auth).json()["data"]
    assert [(s["id"], s["status"]) for s in listed] == [(body["id"], "completed")]
    payouts = w.client.get("/v1/payouts", headers=auth).json()["data"]
    assert len(payouts) == 1 and payouts[0]["status"] == "confirmed"
    assert payouts[0]["amount"] == 40_500
    detail = w.client.get(f"/v1/payouts/{payouts[0]['id']}", headers=auth).json()
    assert len(detail["item_ids"]) == 3 and payouts[0]["item_ids"] == detail["item_ids"]
    assert w.bank.paid_to("004", "11112222333344") == 40_500
    assert w.issuer.codes_redeemed_twice() == 0 and len(w.issuer.redemptions) == 3
    with w.engine.connect() as conn:
        assert check(conn) == []


def test_bad_input_is_refused_and_nothing_is_written(world: World):
    w = world
    auth = signup(w, "010-3333-4444")
    account = add_account(w, auth, "55556666777788")
    post = lambda body, **kw: w.client.post("/v1/submissions", headers=auth, **kw, json=body)  # noqa: E731

    r = w.client.post(
        "/v1/submissions",
        headers={**auth, "content-type": "application/json"},
        content=b"{not json",
    )
    assert r.status_code == 422 and r.json()["code"] == "malformed_json"
    assert r.headers["content-type"] == "application/problem+json"
    r = post({"bank_account_id": account, "items": [item("4180000000000001")], "extra": 1})
    assert r.status_code == 422 and r.json()["code"] == "unknown_field"
    r = post({"bank_account_id": account, "items": [item(f"41800000{i:08d}") for i in range(1001)]})
    assert r.status_code == 422 and r.json()["code"] == "too_many_items"
    r = post(
        {
            "bank_account_id": account,
            "items": [item("4180000000000009"), item("4180-0000-0000-0009")],
        }
    )
    assert r.status_code == 422 and r.json()["code"] == "duplicate_in_request"
    assert "4180000000000009" not in r.text
    r = post(
        {"bank_account_id": account, "items": [{**item("4180000000000001"), "face_value": "50000"}]}
    )
    assert r.status_code == 422  # money is an integer, never a string
    assert w.count(t.submissions) == 0 and w.count(t.items) == 0 and w.count(t.code_registry) == 0

    unverified = add_account(w, auth, "99990000111122", verify=False)
    r = post({"bank_account_id": unverified, "items": [item("4180000000000001")]})
    assert r.status_code == 409 and r.json()["code"] == "bank_account_not_verified"

    other = signup(w, "010-5555-6666", name="김철수")
    r = w.client.post(
        "/v1/submissions",
        headers=other,
        json={"bank_account_id": account, "items": [item("4180000000000001")]},
    )
    assert r.status_code == 404 and r.json()["code"] == "bank_account_not_found"
    assert w.count(t.items) == 0

    w.deps.clock = LaterClock(hours=2)  # past the token's lifetime
    r = w.client.get("/v1/submissions", headers=auth)
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    w.deps.clock = LaterClock(hours=0)
    r = w.client.get("/v1/submissions", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    r = w.client.get("/v1/submissions")
    assert r.status_code == 401


def test_a_code_sold_before_is_declined_for_anyone(world: World):
    w = world
    a = signup(w, "010-1000-0001")
    acct_a = add_account(w, a, "10000000000001")
    b = signup(w, "010-1000-0002", name="김철수")
    acct_b = add_account(w, b, "10000000000002", name="김철수")
    w.issuer.sell("cultureland", "4180777700001111", 10_000)
    r = w.client.post(
        "/v1/submissions",
        headers=a,
        json={"bank_account_id": acct_a, "items": [item("4180777700001111", 10_000)]},
    )
    assert r.json()["items"][0]["status"] == "received"
    r = w.client.post(
        "/v1/submissions",
        headers=b,
        json={"bank_account_id": acct_b, "items": [item("4180 7777 0000 1111", 10_000)]},
    )
    assert r.status_code == 201
    declined = r.json()["items"][0]
    assert declined["status"] == "declined" and declined["decline"]["code"] == "duplicate_code"
    # b cannot see a's submission
    sub_a = w.client.get("/v1/submissions", headers=a).json()["data"][0]["id"]
    assert w.client.get(f"/v1/submissions/{sub_a}", headers=b).status_code == 404


def test_idempotency_key_replay_and_reuse(world: World):
    w = world
    auth = signup(w, "010-2000-0001")
    account = add_account(w, auth, "20000000000001")
    body = {"bank_account_id": account, "items": [item("4180000000000111", 10_000)]}
    h = {**auth, "Idempotency-Key": "k-1"}
    first = w.client.post("/v1/submissions", headers=h, json=body)
    again = w.client.post("/v1/submissions", headers=h, json=body)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert w.count(t.submissions) == 1
    changed = w.client.post(
        "/v1/submissions", headers=h, json={**body, "items": [item("4180000000000112", 10_000)]}
    )
    assert changed.status_code == 409 and changed.json()["code"] == "idempotency_key_reused"
    assert w.count(t.submissions) == 1


def test_lost_answers_never_redeem_or_pay_twice(world: World):
    w = world
    auth = signup(w, "010-3000-0001")
    account = add_account(w, auth, "30000000000001")
    codes = [f"41800000000{i:05d}" for i in range(6)]
    for c in codes:
        w.issuer.sell("cultureland", c, 5_000)
    w.issuer.lose_next = 3
    w.issuer.fail_next = 2
    w.bank.lose_next = 1
    r = w.client.post(
        "/v1/submissions",
        headers=auth,
        json={"bank_account_id": account, "items": [item(c, 5_000) for c in codes]},
    )
    sub = r.json()["id"]
    worker = Worker(w.deps)

    # Retries wait out a backoff: step the service clock forward instead of sleeping.
    class Later:
        def __init__(self):
            self.at = datetime.now(UTC)

        def now(self):
            return self.at

    clock = Later()
    w.deps.clock = clock
    for _ in range(40):
        worker.run_once()
        clock.at += timedelta(seconds=120)
        items = w.client.get(f"/v1/submissions/{sub}", headers=auth).json()["items"]
        if all(i["status"] == "paid" for i in items):
            break
    assert [i["status"] for i in items] == ["paid"] * 6
    assert w.issuer.codes_redeemed_twice() == 0
    assert any(c.startswith("inquire:") for c in w.issuer.calls)
    payouts = w.client.get("/v1/payouts", headers=auth).json()["data"]
    assert all(p["status"] == "confirmed" for p in payouts)
    # one transfer per payout (the answer lost once did not cause a second), plus 1 won
    assert len(w.bank.transfers) == len(payouts) + 1
    assert {p["bank_tran_id"] for p in payouts} | {a for a in w.bank.transfers} == set(
        w.bank.transfers
    )
    assert w.bank.paid_to("004", "30000000000001") == 6 * 4_500
    with w.engine.connect() as conn:
        assert check(conn) == []


def test_webhooks_are_signed_per_standard_webhooks(world: World):
    from standardwebhooks.webhooks import Webhook

    w = world
    auth = signup(w, "010-4000-0001")
    account = add_account(w, auth, "40000000000001")
    r = w.client.post(
        "/v1/webhook-endpoints",
        headers=auth,
        json={"url": "http://127.0.0.1:9/hook", "event_types": ["item.updated"]},
    )
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    assert secret.startswith("whsec_")
    assert (
        "secret"
        not in json.dumps(w.client.get("/v1/webhook-endpoints", headers=auth).json()["data"][0])
        or w.client.get("/v1/webhook-endpoints", headers=auth).json()["data"][0]["secret"] is None
    )

    received = []

    class Capture:
        def send(self, url, headers, body):
            received.append((headers, body))
            return 204

    w.issuer.sell("cultureland", "4180000000055555", 10_000)
    w.client.post(
        "/v1/submissions",
        headers=auth,
        json={"bank_account_id": account, "items": [item("4180000000055555", 10_000)]},
    )
    worker = Worker(w.deps, webhook_sender=Capture())
    worker.drain(20)
    statuses = [json.loads(b)["data"]["status"] for _, b in received]
    assert statuses[:1] == ["received"] and "paid" in statuses
    verifier = Webhook(secret)
    for headers, body in received:
        payload = verifier.verify(body, headers)
        assert payload["type"] == "item.updated"
    tampered_headers, tampered_body = received[0]
    with pytest.raises(Exception):
        verifier.verify(tampered_body.replace("received", "paid"), tampered_headers)
