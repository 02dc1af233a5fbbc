"""The unit of work runs on the service's clock and id source: with a fixed fake clock, a
redeemed item's ledger transfer and its code-registry entry carry the fake clock's time,
as the item's own history does, and the ledger's posting ids come from ``deps.new_id``.
SQLite and PostgreSQL."""

from __future__ import annotations

import test_admin_world
from sqlalchemy import select
from test_admin_world import World, customer, item, submit

from giftcash.adapters.db import tables as t
from giftcash.entrypoints.worker import Worker

world = test_admin_world.world  # the shared fixture


def test_ledger_and_registry_times_follow_the_injected_clock(world: World):
    w = world
    made: list[str] = []
    real_new_id = w.deps.new_id

    def counted_id() -> str:
        made.append(real_new_id())
        return made[-1]

    w.deps.new_id = counted_id
    w.issuer.sell("cultureland", "4180000000000301", 10_000)
    auth, account = customer(w, "010-7100-0001", "71000000000001")
    sub = submit(w, auth, account, item("4180000000000301", 10_000))
    assert sub["items"][0]["status"] == "received", sub
    item_id = sub["items"][0]["id"]
    Worker(w.deps, cases_every_s=None).drain(20)
    now = w.clock.now()  # fixed since the customer signed up: nothing advanced it

    with w.engine.connect() as conn:
        status = conn.execute(select(t.items.c.status).where(t.items.c.id == item_id)).scalar()
        registered = conn.execute(
            select(t.code_registry.c.created_at).where(t.code_registry.c.item_id == item_id)
        ).scalar_one()
        transfers = conn.execute(
            select(t.ledger_transfers.c.id, t.ledger_transfers.c.created_at).where(
                t.ledger_transfers.c.ref == item_id
            )
        ).all()
        postings = (
            conn.execute(
                select(t.ledger_postings.c.id).where(
                    t.ledger_postings.c.transfer_id.in_([x.id for x in transfers])
                )
            )
            .scalars()
            .all()
        )
        events = (
            conn.execute(select(t.item_events.c.at).where(t.item_events.c.item_id == item_id))
            .scalars()
            .all()
        )
    assert status in ("redeemed", "paid"), status
    assert transfers, "the redemption posted no transfer"
    assert registered == now
    assert [x.created_at for x in transfers] == [now] * len(transfers)
    assert set(events) == {now}
    assert postings and set(postings) <= set(made)
