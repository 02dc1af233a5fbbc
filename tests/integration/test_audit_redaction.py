"""Sealed audit records (audit/log.py): the chain covers a salted digest of subject and
detail, so the purge can erase a record's personal data and ``verify`` still holds, while
an edit, an unannounced redaction or a half-done one is still found. SQLite and
PostgreSQL for the stored form; the rules themselves are pure."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import update

from giftcash.adapters.db import tables as t
from giftcash.adapters.db.app_uow import AppUnitOfWork
from giftcash.audit import log as audit
from giftcash.audit.log import GENESIS_HASH, AuditRecord, check_chain

AT = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def _sealed_chain(details: list[tuple[str, dict]]) -> list[AuditRecord]:
    out, prev = [], GENESIS_HASH
    for i, (subject, detail) in enumerate(details, start=1):
        action = audit.PURGE_ACTION if subject == "privacy" else "customer.block"
        s = audit.seal(
            prev,
            seq=i,
            id=f"id{i}",
            at=AT,
            actor="operator:adm",
            action=action,
            subject=subject,
            detail=detail,
        )
        out.append(
            AuditRecord(
                i,
                f"id{i}",
                AT,
                "operator:adm",
                action,
                subject,
                detail,
                prev,
                s.hash,
                body_digest=s.body_digest,
                salt=s.salt,
            )
        )
        prev = s.hash
    return out


def _redacted(r: AuditRecord) -> AuditRecord:
    return replace(r, detail=None, salt=None, redacted_at=AT + timedelta(days=400))


def _rules(records: list[AuditRecord]) -> list[tuple[int, str]]:
    return [(p.seq, p.rule) for p in check_chain(records, (records[-1].seq, records[-1].hash))]


REASON = {"reason": "김민지 본인 아님, 010-1234-5678로 전화 옴", "outcome": "done"}


def test_a_sealed_chain_verifies_and_an_edited_detail_is_found():
    chain = _sealed_chain([("customer:c-1", REASON), ("customer:c-2", {"reason": "x"})])
    assert _rules(chain) == []
    edited = [replace(chain[0], detail={"reason": "someone else"}), chain[1]]
    assert _rules(edited) == [(1, "edited")]


def test_a_redaction_named_by_a_purge_record_verifies():
    chain = _sealed_chain(
        [
            ("customer:c-1", REASON),
            ("customer:c-2", {"reason": "x"}),
            ("privacy", {"redacted_seqs": [1], "customers_pseudonymised": 1}),
        ]
    )
    records = [_redacted(chain[0]), *chain[1:]]
    assert records[0].detail is None and records[0].body_digest == chain[0].body_digest
    assert _rules(records) == []


def test_a_redaction_no_purge_names_is_found():
    chain = _sealed_chain([("customer:c-1", REASON), ("customer:c-2", {"reason": "x"})])
    assert _rules([_redacted(chain[0]), chain[1]]) == [(1, "redacted")]


def test_half_redactions_are_found():
    chain = _sealed_chain([("customer:c-1", REASON), ("customer:c-2", {"reason": "x"})])
    salt_gone = replace(chain[0], salt=None)  # content kept, salt erased, not marked
    assert (1, "edited") in _rules([salt_gone, chain[1]])
    marked_only = replace(chain[0], redacted_at=AT)  # marked, content kept
    assert (1, "edited") in _rules([marked_only, chain[1]])


def test_the_digest_of_a_short_detail_is_not_its_hash():
    """Without the salt, a redacted digest cannot be matched by hashing guesses."""
    [r] = _sealed_chain([("customer:c-1", {"phone": "01012345678"})])
    guess = hashlib.sha256(b'{"detail":{"phone":"01012345678"},"subject":"customer:c-1"}')
    assert r.body_digest != guess.hexdigest()
    assert r.salt is not None and len(r.salt) == 64


@pytest.mark.parametrize("n", [3])
def test_stored_records_are_sealed_and_redact_in_place(engine, n):
    with AppUnitOfWork(engine) as uow:
        for i in range(n):
            audit.record(
                uow, "operator:adm", "customer.block", f"customer:c-{i % 2}", REASON, at=AT
            )
        uow.commit()
    with AppUnitOfWork(engine) as uow:
        seqs = uow.audit.redact("customer:c-0", AT, limit=10)
        audit.record(
            uow, "system:retention", audit.PURGE_ACTION, "privacy", {"redacted_seqs": seqs}, at=AT
        )
        uow.commit()
    assert seqs == [1, 3]
    with AppUnitOfWork(engine, read_only=True) as uow:
        records = list(uow.audit.all_in_order())
        assert audit.verify(uow) == []
    assert [r.detail is None for r in records] == [True, False, True, False]
    assert all(r.body_digest for r in records)
    # the same erasure by hand, named by no purge, is found
    with engine.begin() as conn:
        conn.execute(
            update(t.audit_log)
            .where(t.audit_log.c.seq == 2)
            .values(detail=None, salt=None, redacted_at=AT)
        )
    with AppUnitOfWork(engine, read_only=True) as uow:
        assert [(p.seq, p.rule) for p in audit.verify(uow)] == [(2, "redacted")]


SEALED_MUTATIONS = {
    "actor": lambda r: replace(r, actor=r.actor + "x"),
    "action": lambda r: replace(r, action="c.d"),
    "at": lambda r: replace(r, at=r.at + timedelta(microseconds=1)),
    "subject": lambda r: replace(r, subject="customer:other"),
    "detail": lambda r: replace(r, detail={"reason": "other"}),
    "salt": lambda r: replace(r, salt="0" * 64),
    "salt gone": lambda r: replace(r, salt=None),
    "digest": lambda r: replace(r, body_digest="e" * 64, salt=None, detail=None, redacted_at=AT),
    "marked": lambda r: replace(r, redacted_at=AT),
    "redacted unnamed": _redacted,
}


@given(n=st.integers(1, 6), data=st.data())
def test_any_change_to_a_sealed_record_is_found_but_a_named_redaction(n, data):
    chain = _sealed_chain([(f"customer:c-{i}", {"reason": f"r{i}"}) for i in range(n)])
    i = data.draw(st.integers(0, n - 1))
    name = data.draw(st.sampled_from(sorted(SEALED_MUTATIONS)))
    changed = [*chain[:i], SEALED_MUTATIONS[name](chain[i]), *chain[i + 1 :]]
    assert _rules(changed) != [], name
    # the same record redacted by a purge that names it: the chain holds
    named = _sealed_chain(
        [
            *((f"customer:c-{k}", {"reason": f"r{k}"}) for k in range(n)),
            ("privacy", {"redacted_seqs": [i + 1]}),
        ]
    )
    named[i] = _redacted(named[i])
    assert _rules(named) == []
