"""The worker's happy path moves a batch of items with ``Items.transition_leased_many``:
the same checks as one item at a time (the lease must still be ours), in a few
statements per batch. An item whose lease went to another worker is left alone, and
nothing is posted for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from apiworld import World, add_account, item, signup
from giftcash.adapters.db import tables as t
from giftcash.redemption import steps as redemption


def _items(w: World, sub_id: str) -> list:
    with w.engine.connect() as conn:
        return conn.execute(
            select(t.items).where(t.items.c.submission_id == sub_id).order_by(t.items.c.id)
        ).all()


def test_a_batch_moves_only_the_items_still_leased_to_it(world: World):
    w, d = world, world.deps
    auth = signup(w, "010-5500-0001")
    account = add_account(w, auth, "55000000000001")
    codes = [f"41805500000000{i:02d}" for i in range(3)]
    for c in codes:
        w.issuer.sell("cultureland", c, 10_000, purchased_at=datetime.now(UTC) - timedelta(days=3))
    r = w.client.post(
        "/v1/submissions",
        headers=auth,
        json={"bank_account_id": account, "items": [item(c, 10_000) for c in codes]},
    )
    assert r.status_code == 201, r.text
    sub_id = r.json()["id"]

    looks = [redemption.inquire(d, c) for c in redemption.claim_admissions(d, "w1", 10)]
    redemption.record_admissions(d, "w1", looks)
    rows = _items(w, sub_id)
    assert [x.status for x in rows] == ["redeeming"] * 3
    assert all(x.redeem_key == "rdm_" + x.id and x.attempts == 0 for x in rows)
    assert all(x.lease_owner is None and x.decision is not None for x in rows)
    assert all(x.purchase_channel == "cash" for x in rows)

    claims = redemption.claim_redemptions(d, "w1", 10)
    outcomes = [redemption.redeem(d, c) for c in claims]
    assert [o.kind for o in outcomes] == ["captured"] * 3
    stolen = claims[1].item_id  # its lease ran out and another worker took it over
    with w.engine.begin() as conn:
        conn.execute(update(t.items).where(t.items.c.id == stolen).values(lease_owner="w2"))
    redemption.record_redemptions(d, "w1", outcomes)

    rows = {x.id: x for x in _items(w, sub_id)}
    assert rows[stolen].status == "redeeming" and rows[stolen].lease_owner == "w2"
    moved = [i for i in rows if i != stolen]
    assert all(rows[i].status == "redeemed" and rows[i].redeemed_at for i in moved)
    with w.engine.connect() as conn:
        posted = set(
            conn.scalars(
                select(t.ledger_transfers.c.ref).where(t.ledger_transfers.c.kind == "redemption")
            )
        )
        events = conn.execute(
            select(func.count())
            .select_from(t.item_events)
            .where(t.item_events.c.to_status == "redeemed")
        ).scalar_one()
    assert posted == set(moved)
    assert events == 2
