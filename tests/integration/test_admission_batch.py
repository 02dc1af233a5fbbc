"""One admission batch reads the customer's facts once (``screening.BatchFacts``), and
what happens earlier in the batch still reaches the items after it: failures counted and
items declined change the facts, so they are read again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apiworld import World, add_account, item, signup
from giftcash.entrypoints.worker import Worker
from giftcash.intake.screening import BatchFacts


def test_batch_facts_are_read_once_until_forgotten():
    reads = []
    batch = BatchFacts()
    for _ in range(3):
        assert batch.get(("counts", "c1"), lambda: reads.append(1) or len(reads)) == 1
    assert batch.get(("counts", "c2"), lambda: reads.append(1) or len(reads)) == 2
    batch.forget()
    assert batch.get(("counts", "c1"), lambda: reads.append(1) or len(reads)) == 3


def test_a_decline_earlier_in_a_batch_reaches_the_items_after_it(world: World):
    """The scam guard weighs the whole submission less its declined items. Here the first
    item fills the batch's facts (120,000 won in the submission), the second is declined
    by the issuer (60,000 gone), and the third, bought minutes ago, must be judged on the
    60,000 that are left: not a large first sale, so redeemed, not sent to review."""
    w = world
    auth = signup(w, "010-5300-0001")
    account = add_account(w, auth, "53000000000001")
    now = datetime.now(UTC)
    old, unknown, fresh = "4180530000000001", "4180530000000002", "4180530000000003"
    w.issuer.sell("cultureland", old, 10_000, purchased_at=now - timedelta(days=3))
    w.issuer.sell("cultureland", fresh, 50_000, purchased_at=now - timedelta(minutes=5))
    items = [item(old, 10_000), item(unknown, 60_000), item(fresh, 50_000)]
    r = w.client.post(
        "/v1/submissions", headers=auth, json={"bank_account_id": account, "items": items}
    )
    assert r.status_code == 201, r.text
    assert [i["status"] for i in r.json()["items"]] == ["received"] * 3

    Worker(w.deps, batch=64).drain(20)  # the three are admitted in one transaction

    got = w.client.get(f"/v1/submissions/{r.json()['id']}", headers=auth).json()["items"]
    by_last4 = {i["masked_code"][-4:]: i for i in got}
    assert by_last4[unknown[-4:]]["decline"]["code"] == "voucher_not_found"
    assert by_last4[old[-4:]]["status"] not in ("declined", "review", "failed")
    assert by_last4[fresh[-4:]]["status"] not in ("declined", "review", "failed")


def test_the_issuer_steps_claim_the_batch_given_or_their_own_limit(world: World):
    """A worker told its batch (the crash harness's small batches) claims that many per
    issuer step too; one told nothing claims four rounds of its calls in flight, and a
    worker with few calls in flight no fewer than its batch."""
    small, default, narrow = (
        Worker(world.deps, batch=4),
        Worker(world.deps),
        Worker(world.deps, concurrency=4),
    )
    try:
        assert (small.batch, small.issuer_batch) == (4, 4)
        assert world.deps.limits.worker_issuer_batch is None
        assert (default.batch, default.issuer_batch) == (world.deps.limits.worker_batch, 256)
        assert narrow.issuer_batch == world.deps.limits.worker_batch == 64
    finally:
        for w in (small, default, narrow):
            w.close()
