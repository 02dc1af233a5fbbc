"""The code registry: first registrant wins, duplicates come back as values."""

from __future__ import annotations

import threading

from giftcash.adapters.db.uow import SqlUnitOfWork

H1, H2, H3 = ("a" * 64), ("b" * 64), ("c" * 64)


def register(engine, code_hmac, item_id, customer_id):
    with SqlUnitOfWork(engine) as uow:
        first = uow.codes.register(code_hmac, item_id, customer_id)
        uow.commit()
    return first


def test_first_registration_answers_none(engine):
    assert register(engine, H1, "item-1", "cust-1") is None


def test_a_duplicate_returns_the_first_registrant(engine):
    register(engine, H1, "item-1", "cust-1")
    first = register(engine, H1, "item-2", "cust-2")
    assert first is not None
    assert (first.code_hmac, first.item_id, first.customer_id) == (H1, "item-1", "cust-1")
    assert first.created_at.tzinfo is not None
    again = register(engine, H1, "item-3", "cust-1")
    assert again is not None and again.item_id == "item-1"


def test_a_replayed_registration_names_the_same_item(engine):
    register(engine, H1, "item-1", "cust-1")
    replay = register(engine, H1, "item-1", "cust-1")
    assert replay is not None and replay.item_id == "item-1"


def test_register_many_reports_old_and_in_batch_duplicates(engine):
    register(engine, H1, "item-1", "cust-1")
    with SqlUnitOfWork(engine) as uow:
        found = uow.codes.register_many(
            [(H1, "item-2", "cust-2"), (H2, "item-3", "cust-2"), (H2, "item-4", "cust-3")]
        )
        uow.commit()
        fresh = uow.codes.register_many([(H3, "item-5", "cust-3")])
        uow.commit()
    assert {h: r.item_id for h, r in found.items()} == {H1: "item-1", H2: "item-3"}
    assert fresh == {}
    with SqlUnitOfWork(engine, read_only=True) as uow:
        assert uow.codes.registered_by(H2).item_id == "item-3"
        assert uow.codes.registered_by(H3).item_id == "item-5"
        assert uow.codes.registered_by("d" * 64) is None


def test_a_rolled_back_registration_leaves_no_trace(engine):
    with SqlUnitOfWork(engine) as uow:
        assert uow.codes.register(H1, "item-1", "cust-1") is None
    assert register(engine, H1, "item-2", "cust-2") is None


def test_concurrent_registrations_of_one_code_have_one_winner(engine):
    results = {}
    start = threading.Barrier(4)

    def work(n: int) -> None:
        start.wait()
        results[n] = register(engine, H1, f"item-{n}", f"cust-{n}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [n for n, first in results.items() if first is None]
    assert len(results) == 4 and len(winners) == 1
    assert {first.item_id for first in results.values() if first} == {f"item-{winners[0]}"}
