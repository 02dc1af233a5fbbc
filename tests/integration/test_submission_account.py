"""A returned payout leaves its account ``failed`` and the submission's items waiting;
the customer points the submission at another verified account of theirs and is paid
there, once. While the submission's account works, nothing can be redirected."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from apiworld import World, add_account, bounce_the_payout, item, signup
from giftcash.adapters.db import tables as t
from giftcash.adapters.db.ledger_check import check
from giftcash.entrypoints.worker import Worker


def _statuses(w: World, sub_id: str) -> list[str]:
    with w.engine.connect() as conn:
        return list(conn.scalars(select(t.items.c.status).where(t.items.c.submission_id == sub_id)))


def _submit(w: World, auth: dict, account: str, code: str, face: int = 10_000) -> str:
    w.issuer.sell("cultureland", code, face, purchased_at=datetime.now(UTC) - timedelta(days=3))
    r = w.client.post(
        "/v1/submissions",
        headers=auth,
        json={"bank_account_id": account, "items": [item(code, face)]},
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _move(w: World, auth: dict, sub_id: str, account: str, key: str | None = None):
    headers = {**auth, **({"Idempotency-Key": key} if key else {})}
    return w.client.post(
        f"/v1/submissions/{sub_id}/bank-account",
        headers=headers,
        json={"bank_account_id": account},
    )


def test_a_returned_payout_is_paid_to_another_verified_account_once(world: World):
    w, d = world, world.deps
    d.limits = replace(d.limits, backoff_base_s=0.0, backoff_cap_s=0.0)
    auth = signup(w, "010-5800-0001")
    first = add_account(w, auth, "58000000000001")
    sub_id = _submit(w, auth, first, "4180580000000001")

    bounce_the_payout(d, w.bank, w.engine)
    assert _statuses(w, sub_id) == ["redeemed"]
    accounts = {
        a["id"]: a["status"] for a in w.client.get("/v1/bank-accounts", headers=auth).json()["data"]
    }
    assert accounts[first] == "failed"

    worker = Worker(d)
    worker.drain(10)  # nothing can be paid: the only account failed
    assert _statuses(w, sub_id) == ["redeemed"]

    second = add_account(w, auth, "58000000000002")
    r = _move(w, auth, sub_id, second, key="move-1")
    assert r.status_code == 200, r.text
    assert r.json()["bank_account_id"] == second
    again = _move(w, auth, sub_id, second, key="move-1")
    assert again.json() == r.json() and again.headers.get("Idempotent-Replayed") == "true"

    worker.drain(10)
    assert _statuses(w, sub_id) == ["paid"]
    assert w.bank.paid_to("004", "58000000000002") == 9_000  # once, to the new account
    assert w.bank.paid_to("004", "58000000000001") == 0  # the returned one stays returned
    with w.engine.connect() as conn:
        assert check(conn) == []
        audit = conn.execute(
            select(t.audit_log.c.actor, t.audit_log.c.action).where(
                t.audit_log.c.action == "submission.bank_account"
            )
        ).all()
    assert audit == [(f"customer:{_customer_of(w, sub_id)}", "submission.bank_account")]


def _customer_of(w: World, sub_id: str) -> str:
    with w.engine.connect() as conn:
        return conn.scalar(select(t.submissions.c.customer_id).where(t.submissions.c.id == sub_id))


def test_a_working_account_keeps_its_payouts_and_bad_targets_are_refused(world: World):
    w = world
    auth = signup(w, "010-5800-0002")
    first = add_account(w, auth, "58000000000003")
    second = add_account(w, auth, "58000000000004")
    unverified = add_account(w, auth, "58000000000005", verify=False)
    sub_id = _submit(w, auth, first, "4180580000000002")

    r = _move(w, auth, sub_id, second)
    assert r.status_code == 409 and r.json()["code"] == "bank_account_still_pays"
    r = _move(w, auth, sub_id, unverified)
    assert r.status_code == 409 and r.json()["code"] == "bank_account_not_verified"
    other = signup(w, "010-5800-0003", name="김철수")
    theirs = add_account(w, other, "58000000000006", name="김철수")
    r = _move(w, auth, sub_id, theirs)
    assert r.status_code == 404 and r.json()["code"] == "bank_account_not_found"
    r = _move(w, other, sub_id, theirs)  # someone else's submission
    assert r.status_code == 404 and r.json()["code"] == "submission_not_found"
    r = _move(w, auth, sub_id, first)  # where it already is: nothing to do
    assert r.status_code == 200 and r.json()["bank_account_id"] == first
    with w.engine.connect() as conn:
        assert (
            conn.scalar(select(t.submissions.c.bank_account_id).where(t.submissions.c.id == sub_id))
            == first
        )
        assert (
            conn.execute(
                select(t.audit_log.c.id).where(t.audit_log.c.action == "submission.bank_account")
            ).all()
            == []
        )
