"""The audit log's hash chain on SQLite and PostgreSQL: records append in the caller's
transaction (a rolled-back one leaves none), concurrent writers make one unbroken chain,
and ``verify`` names every edited, deleted or inserted record."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, insert, update

from giftcash.adapters.db import tables as t
from giftcash.adapters.db.app_uow import AppUnitOfWork
from giftcash.audit import log as audit
from giftcash.audit.log import GENESIS_HASH, AuditRecord, check_chain, hash_of

AT = datetime(2026, 11, 27, 9, 0, 0, 654321, tzinfo=UTC)


def _write(engine, n: int, actor: str = "operator:adm") -> None:
    for i in range(n):
        with AppUnitOfWork(engine) as uow:
            audit.record(
                uow,
                actor,
                "brand.update",
                f"brand:b{i}",
                {"changes": {"buyback_rate_bps": 9_000 - i, "note": "환율 ✓"}, "n": 10**15 + i},
                at=AT + timedelta(seconds=i),
            )
            uow.commit()


def _verify(engine) -> list[tuple[int, str]]:
    with AppUnitOfWork(engine, read_only=True) as uow:
        return [(p.seq, p.rule) for p in audit.verify(uow)]


def test_an_untouched_chain_verifies_and_links_each_record_to_the_last(engine):
    assert _verify(engine) == []  # empty
    _write(engine, 5)
    assert _verify(engine) == []
    with AppUnitOfWork(engine, read_only=True) as uow:
        records = list(uow.audit.all_in_order())
        head = uow.audit.head()
    assert [r.seq for r in records] == [1, 2, 3, 4, 5]
    assert records[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(records))
    assert head == (5, records[-1].hash)
    assert records[2].detail["changes"]["note"] == "환율 ✓" and records[2].at == AT + timedelta(
        seconds=2
    )


def test_a_rolled_back_transaction_leaves_no_record(engine):
    with AppUnitOfWork(engine) as uow:
        audit.record(uow, "system", "x.y", None, None, at=AT)
        # no commit
    _write(engine, 1)
    assert _verify(engine) == []
    with AppUnitOfWork(engine, read_only=True) as uow:
        assert [r.action for r in uow.audit.all_in_order()] == ["brand.update"]


def test_an_edited_record_is_found(engine):
    _write(engine, 4)
    with engine.begin() as conn:
        conn.execute(
            update(t.audit_log).where(t.audit_log.c.seq == 2).values(actor="operator:someone")
        )
    assert _verify(engine) == [(2, "edited")]


def test_an_edited_record_with_a_recomputed_hash_breaks_the_next_link(engine):
    _write(engine, 4)
    with AppUnitOfWork(engine, read_only=True) as uow:
        r2 = list(uow.audit.all_in_order())[1]
    forged = AuditRecord(**{**_fields(r2), "detail": {"changes": {}}})
    forged = AuditRecord(**{**_fields(forged), "hash": hash_of(forged)})
    with engine.begin() as conn:
        conn.execute(
            update(t.audit_log)
            .where(t.audit_log.c.seq == 2)
            .values(detail=forged.detail, hash=forged.hash)
        )
    assert _verify(engine) == [(3, "inserted")]


def test_deleted_records_are_found_in_the_middle_and_at_the_end(engine):
    _write(engine, 5)
    with engine.begin() as conn:
        conn.execute(delete(t.audit_log).where(t.audit_log.c.seq == 3))
    assert _verify(engine) == [(4, "deleted")]
    with engine.begin() as conn:
        conn.execute(delete(t.audit_log).where(t.audit_log.c.seq == 5))
    assert _verify(engine) == [(4, "deleted"), (5, "head")]


def test_a_record_inserted_at_the_end_is_found(engine):
    _write(engine, 2)
    with AppUnitOfWork(engine, read_only=True) as uow:
        last = list(uow.audit.all_in_order())[-1]
    fake = AuditRecord(3, "forged", AT, "operator:adm", "rule.update", None, None, last.hash, "")
    fake = AuditRecord(**{**_fields(fake), "hash": hash_of(fake)})  # a well-formed link
    with engine.begin() as conn:
        conn.execute(insert(t.audit_log).values(**_fields(fake)))
    assert _verify(engine) == [(2, "head")]


def test_concurrent_writers_make_one_unbroken_chain(engine):
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            _write(engine, 8, actor=f"operator:w{n}")
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert _verify(engine) == []
    with AppUnitOfWork(engine, read_only=True) as uow:
        assert [r.seq for r in uow.audit.all_in_order()] == list(range(1, 33))


def _fields(r: AuditRecord) -> dict:
    return {k: getattr(r, k) for k in AuditRecord.__slots__}


# -- the pure check, any change to any record ---------------------------------------------


def _chain(n: int) -> list[AuditRecord]:
    out, prev = [], GENESIS_HASH
    for i in range(1, n + 1):
        r = AuditRecord(i, f"id{i}", AT, "system", "a.b", f"s{i}", {"i": i}, prev, "")
        r = AuditRecord(**{**_fields(r), "hash": hash_of(r)})
        out.append(r)
        prev = r.hash
    return out


MUTATIONS = {
    "id": lambda r: "other",
    "at": lambda r: r.at + timedelta(microseconds=1),
    "actor": lambda r: r.actor + "x",
    "action": lambda r: "c.d",
    "subject": lambda r: None,
    "detail": lambda r: {"i": -1},
    "prev_hash": lambda r: "f" * 64,
    "hash": lambda r: "e" * 64,
}


@given(n=st.integers(1, 8), data=st.data())
def test_any_change_to_any_one_record_is_found(n, data):
    records = _chain(n)
    assert check_chain(records, (n, records[-1].hash)) == []
    i = data.draw(st.integers(0, n - 1))
    name = data.draw(st.sampled_from(sorted(MUTATIONS)))
    changed = list(records)
    changed[i] = AuditRecord(**{**_fields(records[i]), name: MUTATIONS[name](records[i])})
    assert check_chain(changed, (n, records[-1].hash)) != []
    dropped = records[:i] + records[i + 1 :]
    assert check_chain(dropped, (n, records[-1].hash)) != []


def test_a_chain_with_no_records_but_a_head_is_broken():
    assert [p.rule for p in check_chain([], (3, "a" * 64))] == ["head"]
    assert check_chain([], (0, GENESIS_HASH)) == []


@pytest.mark.parametrize("value", [1.5, "text", [1, 2], None, {"nested": {"k": [True]}}])
def test_details_hash_the_same_after_a_round_trip(engine, value):
    with AppUnitOfWork(engine) as uow:
        audit.record(uow, "system", "t.t", None, {"v": value, "at": AT}, at=AT)
        uow.commit()
    assert _verify(engine) == []
