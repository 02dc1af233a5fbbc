"""UUIDv7 ids: RFC 9562 layout, time-ordered, unique."""

from __future__ import annotations

import time
import uuid

from giftcash.adapters.db.ids import UuidV7Generator, new_id, new_ids, timestamp_ms


def test_layout_is_rfc_9562_version_7():
    value = new_id()
    parsed = uuid.UUID(value)
    assert len(value) == 36 and value == str(parsed)
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122


def test_timestamp_is_the_creation_time_in_ms():
    before = time.time_ns() // 1_000_000
    ts = timestamp_ms(new_id())
    after = time.time_ns() // 1_000_000
    assert before <= ts <= after


def test_ids_sort_in_creation_order_and_never_repeat():
    ids = [new_id() for _ in range(20_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_a_clock_that_goes_back_still_gives_increasing_ids():
    generate = UuidV7Generator()
    first = generate(now_ms=2_000_000_000_000)
    second = generate(now_ms=1_000_000_000_000)
    assert second.int > first.int


def test_a_busy_millisecond_borrows_the_next_one_when_the_counter_runs_out():
    generate = UuidV7Generator()
    ids = [generate(now_ms=1_700_000_000_000) for _ in range(5_000)]
    assert [u.int for u in ids] == sorted({u.int for u in ids})
    assert ids[-1].int >> 80 > 1_700_000_000_000


def test_ids_made_in_bulk_have_the_same_layout_and_order_as_one_by_one():
    generate = UuidV7Generator()
    before = generate()
    bulk = generate.many(10_000)
    after = generate()
    every = [before, *bulk, after]
    assert [u.int for u in every] == sorted({u.int for u in every})
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in bulk)


def test_ids_made_in_bulk_carry_random_tails():
    tails = {u.int & (2**62 - 1) for u in UuidV7Generator().many(1_000)}
    assert len(tails) == 1_000  # 62 random bits each: a repeat would mean no randomness


def test_new_ids_are_text_ids_in_order():
    ids = [new_id(), *new_ids(1_000), new_id()]
    assert all(len(i) == 36 and str(uuid.UUID(i)) == i for i in ids)
    assert all(uuid.UUID(i).version == 7 for i in ids)
    assert ids == sorted(set(ids))
