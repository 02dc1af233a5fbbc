"""The hash chain's canonical form is its head, the position and ``}``: what lets
PostgreSQL's ``ledger_post_one`` finish the hash once it holds the head lock. Checked
against the form written out in full (sorted JSON of every field)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from giftcash.adapters.db.ledger_repo import canonical_head, canonical_transfer, chain_hash

AT = datetime(2026, 12, 5, 7, 0, 0, 123456, tzinfo=UTC)


def full_form(*, seq: int, created_at: datetime, postings, **fields) -> str:
    body = {
        "seq": seq,
        **fields,
        "created_at": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "postings": sorted([a, n] for a, n in postings),
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@pytest.mark.parametrize(
    ("fields", "seq", "created_at"),
    [
        (
            dict(id="t-1", currency="KRW", kind="redemption", ref=None, reverses=None, memo=""),
            1,
            AT,
        ),
        (
            dict(
                id="t-2", currency="KRW", kind="reversal", ref="i", reverses="t-1", memo='메모 "ü"'
            ),
            1234567890123,
            AT.astimezone(timezone(timedelta(hours=9))),
        ),
    ],
)
def test_the_form_is_its_head_then_the_position(fields, seq, created_at):
    postings = [("income:margin", -1_000), ("assets:issuer:x", 1_000)]
    whole = canonical_transfer(seq=seq, created_at=created_at, postings=postings, **fields)
    head = canonical_head(created_at=created_at, postings=postings, **fields)
    assert whole == full_form(seq=seq, created_at=created_at, postings=postings, **fields)
    assert whole == f"{head}{seq}}}"
    prev = "0" * 64
    assert chain_hash(prev, whole) == chain_hash(prev, head + str(seq) + "}")
