"""The stored ledger: posting, replays, reversals, the liability floor, batches, reads."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from giftcash.adapters.db.ids import new_id
from giftcash.adapters.db.ledger_check import check
from giftcash.adapters.db.tables import ledger_accounts, ledger_postings, ledger_transfers
from giftcash.adapters.db.uow import SqlUnitOfWork
from giftcash.domain import ledger as L
from giftcash.domain.errors import LiabilityBelowZero, TransferExists, UnbalancedTransfer

CUSTOMER = "0190c1a2-0000-7000-8000-000000000001"
KRW = "KRW"


def redeem(tid: str | None = None, *, face: int = 50_000, payout: int = 45_000) -> L.Transfer:
    return L.redemption(
        tid or new_id(),
        issuer="cultureland",
        customer_id=CUSTOMER,
        face=face,
        payout=payout,
        currency=KRW,
        ref="item-1",
    )


def pay(amount: int, tid: str | None = None) -> L.Transfer:
    return L.payout_sent(
        tid or new_id(), customer_id=CUSTOMER, amount=amount, currency=KRW, ref="p"
    )


def post(engine, *transfers: L.Transfer) -> list[bool]:
    with SqlUnitOfWork(engine) as uow:
        results = uow.ledger.post_many(list(transfers))
        uow.commit()
    return results


def snapshot(engine) -> tuple[dict, int, int]:
    with SqlUnitOfWork(engine, read_only=True) as uow:
        postings = uow.conn.scalar(select(func.count()).select_from(ledger_postings))
        return uow.ledger.balances(), uow.ledger.count(), postings


def test_posting_updates_balances_and_keeps_the_books_valid(engine):
    assert post(engine, redeem()) == [True]
    with SqlUnitOfWork(engine, read_only=True) as uow:
        assert uow.ledger.balance("assets:issuer:cultureland", KRW) == 50_000
        assert uow.ledger.balance(L.customer_account(CUSTOMER), KRW) == -45_000
        assert uow.ledger.balance(L.MARGIN, KRW) == -5_000
        assert uow.ledger.balance("assets:bank:operating", KRW) == 0  # never used
        assert check(uow.conn) == []


def test_accounts_get_their_kind(engine):
    post(engine, redeem())
    with engine.connect() as conn:
        kinds = dict(conn.execute(select(ledger_accounts.c.path, ledger_accounts.c.kind)).all())
    assert kinds == {
        "assets:issuer:cultureland": "assets",
        L.customer_account(CUSTOMER): "customer_liability",
        L.MARGIN: "income",
    }


def test_uncommitted_work_is_rolled_back(engine):
    with SqlUnitOfWork(engine) as uow:
        uow.ledger.post(redeem())
    assert snapshot(engine)[1] == 0


def test_same_transfer_again_is_a_replay(engine):
    t = redeem("t-1")
    assert post(engine, t) == [True]
    assert post(engine, t) == [False]
    balances, count, _ = snapshot(engine)
    assert count == 1
    assert balances[(L.customer_account(CUSTOMER), KRW)] == -45_000


def test_same_id_with_other_content_is_refused(engine):
    post(engine, redeem("t-1"))
    before = snapshot(engine)
    with pytest.raises(TransferExists) as info:
        post(engine, redeem("t-1", payout=44_000))
    assert info.value.code == "transfer_exists"
    assert snapshot(engine) == before


def test_a_transfer_is_reversed_once(engine):
    original = redeem("t-1")
    post(engine, original)
    assert post(engine, L.reversal(original, "r-1")) == [True]
    balances, count, _ = snapshot(engine)
    assert count == 2
    assert all(v == 0 for v in balances.values())
    with pytest.raises(TransferExists):
        post(engine, L.reversal(original, "r-2"))
    assert post(engine, L.reversal(original, "r-1")) == [False]  # the first one, replayed
    assert snapshot(engine)[1] == 2


def test_reversing_a_missing_transfer_is_refused(engine):
    ghost = redeem("never-posted")
    with pytest.raises(UnbalancedTransfer):
        post(engine, L.reversal(ghost, "r-1"))
    assert snapshot(engine)[1] == 0


def test_a_reversal_that_does_not_negate_its_original_is_refused(engine):
    original = redeem("t-1")
    post(engine, original)
    half = L.Transfer(
        id="r-1",
        currency=KRW,
        postings=tuple(L.Posting(p.account, -p.amount // 2) for p in original.postings),
        kind="reversal",
        reverses="t-1",
    )
    with pytest.raises(UnbalancedTransfer):
        post(engine, half)
    assert snapshot(engine)[1] == 1


def test_liability_floor_refused_with_nothing_written(engine):
    post(engine, redeem())
    before = snapshot(engine)
    with pytest.raises(LiabilityBelowZero) as info:
        post(engine, pay(45_001))
    assert info.value.code == "liability_below_zero"
    assert snapshot(engine) == before
    assert post(engine, pay(45_000)) == [True]  # paying exactly what is owed is fine


def test_check_constraint_backstops_the_floor(engine):
    post(engine, redeem())
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            update(ledger_accounts)
            .where(ledger_accounts.c.path == L.customer_account(CUSTOMER))
            .values(balance=1)
        )


def test_a_batch_is_all_or_nothing(engine):
    post(engine, redeem())
    before = snapshot(engine)
    with pytest.raises(LiabilityBelowZero):
        post(engine, pay(40_000), pay(5_000), pay(1))  # the third overdraws
    assert snapshot(engine) == before


def test_a_batch_mixes_replays_new_transfers_and_reversals(engine):
    first = redeem("t-1")
    post(engine, first)
    second = redeem("t-2")
    results = post(engine, first, second, L.reversal(second, "r-2"), second, pay(45_000, "p-1"))
    assert results == [False, True, True, False, True]
    balances, count, _ = snapshot(engine)
    assert count == 4
    assert balances[(L.customer_account(CUSTOMER), KRW)] == 0
    with SqlUnitOfWork(engine, read_only=True) as uow:
        assert check(uow.conn) == []


def test_a_batch_refuses_the_same_id_twice_with_other_content(engine):
    with pytest.raises(TransferExists):
        post(engine, redeem("t-1"), redeem("t-1", payout=1))
    assert snapshot(engine)[1] == 0


def test_transfers_come_back_in_order_with_their_chain(engine):
    class Clock:
        def now(self):
            return datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

    sent = [redeem(f"t-{i}") for i in range(7)]
    with SqlUnitOfWork(engine, clock=Clock()) as uow:
        uow.ledger.post_many(sent[:3])
        uow.commit()
        for t in sent[3:]:
            uow.ledger.post(t)
        uow.commit()
    with SqlUnitOfWork(engine, read_only=True) as uow:
        stored = list(uow.ledger.transfers(page_size=2))  # several pages
        one = uow.ledger.get("t-4")
        missing = uow.ledger.get("nope")
    assert [s.transfer.id for s in stored] == [t.id for t in sent]
    assert [s.seq for s in stored] == list(range(1, 8))
    assert all(s.transfer.same_content(t) for s, t in zip(stored, sent, strict=True))
    assert all(s.created_at == datetime(2026, 5, 1, 12, 0, tzinfo=UTC) for s in stored)
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(stored))
    assert one is not None and one.seq == 5 and one.transfer.same_content(sent[4])
    assert missing is None


def test_memo_ref_and_reverses_survive_the_round_trip(engine):
    original = redeem("t-1")
    rev = L.reversal(original, "r-1", memo='operator said "wrong brand" \\ fixed')
    post(engine, original, rev)
    with SqlUnitOfWork(engine, read_only=True) as uow:
        stored = uow.ledger.get("r-1")
    assert stored is not None
    assert stored.transfer == rev


def test_the_stored_transfer_count_matches_rows(engine):
    post(engine, redeem(), redeem())
    with engine.connect() as conn:
        rows = conn.scalar(select(func.count()).select_from(ledger_transfers))
    assert rows == 2
