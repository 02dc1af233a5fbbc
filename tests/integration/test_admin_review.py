"""The review queue: an item in review shows its evidence; approving it lets the worker
redeem and pay it; declining it pays nothing; a replayed approval is refused, audited,
and changes nothing. SQLite and PostgreSQL."""

from __future__ import annotations

import test_admin_world
from sqlalchemy import select
from test_admin_world import World, customer, item, submit

from giftcash.adapters.db import tables as t
from giftcash.entrypoints.worker import Worker
from giftcash.review import queue as review

world = test_admin_world.world  # the shared fixture

CODES = ["4180000000000101", "4180000000000102"]


def _two_items_in_review(w: World) -> tuple[dict, list[str]]:
    auth, account = customer(w, "010-6000-0001", "60000000000001", name="김영희")
    for c in CODES:  # small: a first sale this size is neither held nor reviewed by policy
        w.issuer.sell("cultureland", c, 10_000)
    sub = submit(w, auth, account, *(item(c, 10_000) for c in CODES))
    ids = [i["id"] for i in sub["items"]]
    # Until the policy engine does it, the test sends the items to review itself.
    review.send_to_review(
        w.deps,
        ids,
        reason="scam_victim_guard: first sale of vouchers bought minutes ago",
        flags=["first_sale", "recent_purchase"],
    )
    return auth, ids


def _status(w: World, item_id: str) -> tuple[str, str | None]:
    with w.engine.connect() as conn:
        r = conn.execute(
            select(t.items.c.status, t.items.c.decline_code).where(t.items.c.id == item_id)
        ).one()
    return r.status, r.decline_code


def test_the_queue_shows_the_evidence_oldest_first_with_masked_codes_only(world: World):
    w = world
    _, ids = _two_items_in_review(w)
    rev = w.operator("rev", "reviewer")
    r = w.client.get("/v1/admin/review", headers=rev)
    assert r.status_code == 200, r.text
    entries = r.json()["data"]
    assert [e["item"]["id"] for e in entries] == ids
    e = entries[0]
    assert e["item"]["masked_code"].endswith(CODES[0][-4:])
    assert not any(c in r.text for c in CODES)
    assert e["customer"]["name"] == "김영희"
    assert e["customer"]["age_band"] == "60s"  # born 1958, the clock says 2026
    assert e["customer"]["account_age_days"] == 0 and e["customer"]["prior_sales"] == 0
    assert e["account"]["holder_name"] == "김영희"
    assert e["reason"].startswith("scam_victim_guard")
    assert e["flags"] == ["first_sale", "recent_purchase"]
    # paging: one at a time, then the second, then nothing more
    first = w.client.get("/v1/admin/review?limit=1", headers=rev).json()
    assert [x["item"]["id"] for x in first["data"]] == ids[:1]
    second = w.client.get(f"/v1/admin/review?limit=1&cursor={first['next_cursor']}", headers=rev)
    assert [x["item"]["id"] for x in second.json()["data"]] == ids[1:]
    assert second.json()["next_cursor"] is None


def test_approve_pays_decline_pays_nothing(world: World):
    w = world
    _, (approve_id, decline_id) = _two_items_in_review(w)
    rev = w.operator("rev", "reviewer")
    Worker(w.deps).drain(20)  # items in review are left alone
    assert _status(w, approve_id) == ("review", None) and not w.issuer.redemptions

    r = w.client.post(
        f"/v1/admin/items/{approve_id}/approve",
        json={"reason": "called the customer; she sells her own gifts"},
        headers={**rev, "Idempotency-Key": "approve-1"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "received" and r.json()["id"] == approve_id
    r = w.client.post(
        f"/v1/admin/items/{decline_id}/decline",
        json={"reason": "a stranger told her to buy them"},
        headers=rev,
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "declined"
    assert r.json()["decline"]["code"] == "declined_by_review"

    Worker(w.deps).drain(20)
    assert _status(w, approve_id) == ("paid", None)
    assert _status(w, decline_id) == ("declined", "declined_by_review")
    redeemed = {code for code, _ in w.issuer.redemptions.values()}
    assert redeemed == {CODES[0]}  # the declined code was never redeemed
    assert w.bank.paid_to("004", "60000000000001") == 9_000
    with w.engine.connect() as conn:
        row = conn.execute(
            select(t.items.c.reviewed_by, t.items.c.review_note).where(t.items.c.id == decline_id)
        ).one()
    assert row.reviewed_by == "operator:rev" and row.review_note.startswith("a stranger")
    decisions = w.audit_rows("item.approve") + w.audit_rows("item.decline")
    assert [(d.subject, d.detail["outcome"]) for d in decisions] == [
        (f"item:{approve_id}", "done"),
        (f"item:{decline_id}", "done"),
    ]
    assert decisions[0].actor == "operator:rev"
    assert decisions[1].detail["reason"] == "a stranger told her to buy them"


def test_a_replayed_approval_is_refused_audited_and_changes_nothing(world: World):
    w = world
    _, (item_id, other_id) = _two_items_in_review(w)
    rev = w.operator("rev", "reviewer")
    url = f"/v1/admin/items/{item_id}/approve"
    keyed = {**rev, "Idempotency-Key": "approve-once"}
    first = w.client.post(url, json={"reason": "ok"}, headers=keyed)
    assert first.status_code == 200
    # the same key: the stored answer, no second decision
    again = w.client.post(url, json={"reason": "ok"}, headers=keyed)
    assert again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true"
    assert len(w.audit_rows("item.approve")) == 1

    events_before = w.count(t.item_events)
    replay = w.client.post(url, json={"reason": "ok"}, headers=rev)  # no key: a new request
    assert replay.status_code == 409 and replay.json()["code"] == "illegal_transition"
    decline = w.client.post(f"/v1/admin/items/{item_id}/decline", json={"reason": "x"}, headers=rev)
    assert decline.status_code == 409 and decline.json()["code"] == "illegal_transition"
    assert _status(w, item_id) == ("received", None)
    assert w.count(t.item_events) == events_before
    refused = [r for r in w.audit_rows() if r.detail and r.detail.get("outcome") == "refused"]
    assert [(r.action, r.detail["code"]) for r in refused] == [
        ("item.approve", "illegal_transition"),
        ("item.decline", "illegal_transition"),
    ]
    # unknown item, blank reason: refused and audited as well
    r = w.client.post("/v1/admin/items/nope/approve", json={"reason": "ok"}, headers=rev)
    assert r.status_code == 404 and r.json()["code"] == "item_not_found"
    r = w.client.post(f"/v1/admin/items/{other_id}/approve", json={"reason": "   "}, headers=rev)
    assert r.status_code == 422 and r.json()["code"] == "invalid_input"
    assert _status(w, other_id) == ("review", None)
    assert len(w.audit_rows("item.approve")) == 4
