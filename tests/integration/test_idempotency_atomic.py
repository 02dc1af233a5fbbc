"""A command that only touches our database commits its work and its Idempotency-Key
answer in one transaction: a crash at any moment leaves both or neither, so a replay
either gets the answer or does the work once, never the work a second time."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from apiworld import World, add_account, item, signup
from giftcash.adapters.db import tables as t
from giftcash.adapters.db.repositories_customers import IdempotencyKeys


class Crash(Exception):
    """The process dies here (the test client re-raises what the app raised)."""


def _crash(*_args, **_kwargs):
    raise Crash("killed between the work and its answer")


def test_a_crash_before_the_answer_is_stored_leaves_no_work_behind(world: World, monkeypatch):
    w = world
    auth = signup(w, "010-5700-0001")
    account = add_account(w, auth, "57000000000001")
    body = {"bank_account_id": account, "items": [item("4180570000000001", 10_000)]}
    h = {**auth, "Idempotency-Key": "crash-1"}

    with monkeypatch.context() as m:
        m.setattr(IdempotencyKeys, "complete", _crash)
        with pytest.raises(Crash):
            w.client.post("/v1/submissions", headers=h, json=body)
    # neither the submission, its items, its codes nor the key: all or nothing
    assert w.count(t.submissions) == w.count(t.items) == 0
    assert w.count(t.code_registry) == 0
    with w.engine.connect() as conn:
        keys = conn.execute(
            select(t.idempotency_keys.c.key).where(t.idempotency_keys.c.key == "crash-1")
        ).all()
    assert keys == []

    # the client retries with the same key: the work happens now, once
    first = w.client.post("/v1/submissions", headers=h, json=body)
    assert first.status_code == 201, first.text
    assert [i["status"] for i in first.json()["items"]] == ["received"]
    again = w.client.post("/v1/submissions", headers=h, json=body)
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert w.count(t.submissions) == 1


def test_a_refused_command_stores_its_answer_and_none_of_its_writes(world: World):
    w = world
    auth = signup(w, "010-5700-0002")
    add_account(w, auth, "57000000000002")
    h = {**auth, "Idempotency-Key": "refused-1"}
    body = {"bank_account_id": "no-such-account", "items": [item("4180570000000002", 10_000)]}
    first = w.client.post("/v1/submissions", headers=h, json=body)
    assert 400 <= first.status_code < 500, first.text
    again = w.client.post("/v1/submissions", headers=h, json=body)
    assert again.status_code == first.status_code and again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert w.count(t.submissions) == w.count(t.items) == w.count(t.code_registry) == 0


def test_an_api_sale_replayed_is_one_sale_and_flags_no_one(world: World):
    w = world
    auth = signup(w, "010-5700-0003")
    account = add_account(w, auth, "57000000000003")
    body = {"bank_account_id": account, "items": [item("4180570000000003", 10_000)]}
    h = {**auth, "Idempotency-Key": "replayed-1"}
    first = w.client.post("/v1/submissions", headers=h, json=body)
    again = w.client.post("/v1/submissions", headers=h, json=body)
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    changed = {**body, "items": [item("4180570000000004", 10_000)]}
    refused = w.client.post("/v1/submissions", headers=h, json=changed)
    assert refused.status_code == 409 and refused.json()["code"] == "idempotency_key_reused"
    assert w.count(t.submissions) == w.count(t.items) == 1
    with w.engine.connect() as conn:
        declined = conn.execute(
            select(t.items.c.id).where(t.items.c.decline_code == "duplicate_code")
        ).all()
    assert declined == []
    assert w.count(t.aml_cases) == 0
