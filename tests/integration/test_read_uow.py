"""Reads go through ``Deps.reader()``: a snapshot that does not wait for the write lock,
so a customer reading a submission is not queued behind a writer (on SQLite every
``uow()`` starts with BEGIN IMMEDIATE, which waits up to the busy timeout)."""

from __future__ import annotations

from apiworld import World, add_account, item, signup
from giftcash.identity import customers
from giftcash.intake import submissions


def test_reads_do_not_wait_for_a_writer(world: World):
    w = world
    auth = signup(w, "010-5400-0001")
    account = add_account(w, auth, "54000000000001")
    r = w.client.post(
        "/v1/submissions",
        headers=auth,
        json={"bank_account_id": account, "items": [item("4180540000000001", 10_000)]},
    )
    assert r.status_code == 201, r.text
    sub_id = r.json()["id"]
    token = auth["Authorization"].removeprefix("Bearer ")

    with w.deps.uow() as writer:  # holds SQLite's write lock until the block ends
        writer.ping()
        customer_id = customers.authenticate(w.deps, token)
        view = submissions.get_submission(w.deps, customer_id, sub_id)
    assert view.submission.id == sub_id
    assert [it.masked_code[-4:] for it in view.items] == ["0001"]
