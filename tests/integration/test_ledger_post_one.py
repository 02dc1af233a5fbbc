"""``LedgerRepository.post``'s driver-level path (``ledger_driver``: PostgreSQL's
``ledger_post_one``, SQLite's driver statements) keeps every rule of ``post_many``: the
same rows, one hash chain that ``ledger check`` verifies across both paths, replays
answered as the first time, a changed replay and an overdraw refused with nothing
written. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from giftcash.adapters.db.ids import new_id
from giftcash.adapters.db.ledger_check import check
from giftcash.adapters.db.ledger_repo import LedgerRepository
from giftcash.adapters.db.tables import ledger_accounts, ledger_postings
from giftcash.adapters.db.uow import SqlUnitOfWork
from giftcash.domain import ledger as L
from giftcash.domain.errors import LiabilityBelowZero, TransferExists

CUSTOMER = "0190c1a2-0000-7000-8000-0000000000c1"
KRW = "KRW"


def redeem(tid: str, *, payout: int = 9_000, memo_ref: str = "item-1") -> L.Transfer:
    return L.redemption(
        tid,
        issuer="cultureland",
        customer_id=CUSTOMER,
        face=10_000,
        payout=payout,
        currency=KRW,
        ref=memo_ref,
    )


def pay(tid: str, amount: int) -> L.Transfer:
    return L.payout_sent(tid, customer_id=CUSTOMER, amount=amount, currency=KRW, ref="p")


def post_one(engine, transfer: L.Transfer) -> bool:
    with SqlUnitOfWork(engine) as uow:
        posted = uow.ledger.post(transfer)
        uow.commit()
    return posted


def snapshot(engine) -> tuple[dict, int, int]:
    with SqlUnitOfWork(engine, read_only=True) as uow:
        postings = uow.conn.scalar(select(func.count()).select_from(ledger_postings))
        return uow.ledger.balances(), uow.ledger.count(), postings


class FixedClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def no_general_path(monkeypatch):
    """``post_many`` refuses to run: what still works went through the driver path."""

    def refuse(self, transfers):
        raise AssertionError("post_many was called")

    monkeypatch.setattr(LedgerRepository, "post_many", refuse)


def test_a_new_transfer_is_posted_at_the_driver_level(engine, no_general_path):
    assert post_one(engine, redeem("r-1"))
    assert post_one(engine, pay("p-1", 4_000))  # the accounts exist now: updated
    balances, count, postings = snapshot(engine)
    assert count == 2 and postings == 5
    assert balances[(L.customer_account(CUSTOMER), KRW)] == -5_000
    assert balances[("assets:issuer:cultureland", KRW)] == 10_000
    assert balances[(L.BANK_CLEARING, KRW)] == -4_000
    with SqlUnitOfWork(engine, read_only=True) as uow:
        assert check(uow.conn) == []
        kinds = dict(uow.conn.execute(select(ledger_accounts.c.path, ledger_accounts.c.kind)).all())
    assert kinds[L.customer_account(CUSTOMER)] == "customer_liability"
    assert kinds[L.BANK_CLEARING] == "assets"


def test_both_paths_write_one_chain_and_the_same_rows(engine):
    at = datetime(2026, 12, 5, 7, 0, 0, 123456, tzinfo=UTC)
    ids = iter(f"0190c1a2-0000-7000-8000-{n:012d}" for n in range(100))
    made = []
    for n in range(6):
        transfer = L.Transfer(
            id=f"t-{n}",
            currency=KRW,
            postings=(L.Posting("assets:issuer:cultureland", 10_000), L.Posting(L.MARGIN, -10_000)),
            kind="redemption",
            ref=None if n % 3 == 0 else f"item-{n}",
            memo='메모 ü "quoted"' if n % 2 else "",
        )
        made.append(transfer)
        with SqlUnitOfWork(engine, clock=FixedClock(at), new_id=lambda: next(ids)) as uow:
            if n % 2:
                assert uow.ledger.post(transfer)
            else:
                assert uow.ledger.post_many([transfer]) == [True]
            uow.commit()
    with SqlUnitOfWork(engine, read_only=True) as uow:
        assert check(uow.conn) == []
        stored = list(uow.ledger.transfers())
    assert [s.seq for s in stored] == [1, 2, 3, 4, 5, 6]
    assert [s.transfer for s in stored] == made
    assert {s.created_at for s in stored} == {at}


def test_a_replay_through_post_is_answered_as_the_first_time(engine):
    assert post_one(engine, redeem("r-1"))
    before = snapshot(engine)
    assert post_one(engine, redeem("r-1")) is False
    assert snapshot(engine) == before
    with SqlUnitOfWork(engine, read_only=True) as uow:
        assert check(uow.conn) == []


def test_a_changed_replay_through_post_is_refused(engine):
    assert post_one(engine, redeem("r-1"))
    before = snapshot(engine)
    with pytest.raises(TransferExists):
        post_one(engine, redeem("r-1", payout=8_000))
    assert snapshot(engine) == before


def test_an_overdraw_through_post_is_refused_with_nothing_written(engine):
    assert post_one(engine, redeem("r-1"))
    before = snapshot(engine)
    with pytest.raises(LiabilityBelowZero) as info:
        post_one(engine, pay("p-1", 9_001))
    assert info.value.code == "liability_below_zero"
    assert snapshot(engine) == before
    assert post_one(engine, pay("p-2", 9_000))  # exactly what is owed
    with SqlUnitOfWork(engine, read_only=True) as uow:
        assert check(uow.conn) == []


def test_a_refusal_leaves_the_transaction_usable(engine):
    """The refusal is an answer, not a database error: the unit of work goes on."""
    assert post_one(engine, redeem("r-1"))
    with SqlUnitOfWork(engine) as uow:
        with pytest.raises(LiabilityBelowZero):
            uow.ledger.post(pay("p-1", 9_001))
        assert uow.ledger.post(pay("p-2", 1_000))
        uow.commit()
    balances, count, _ = snapshot(engine)
    assert count == 2
    assert balances[(L.customer_account(CUSTOMER), KRW)] == -8_000


def test_a_reversal_through_post_takes_the_general_path(engine):
    assert post_one(engine, redeem("r-1"))
    assert post_one(engine, L.reversal(redeem("r-1"), "rev-1"))
    with pytest.raises(TransferExists):
        post_one(engine, L.reversal(redeem("r-1"), "rev-2"))
    with SqlUnitOfWork(engine, read_only=True) as uow:
        assert check(uow.conn) == []
        assert uow.ledger.balance(L.customer_account(CUSTOMER), KRW) == 0


def test_posting_ids_come_from_the_unit_of_works_id_source(engine):
    made: list[str] = []

    def counted() -> str:
        made.append(new_id())
        return made[-1]

    with SqlUnitOfWork(engine, new_id=counted) as uow:
        assert uow.ledger.post(redeem("r-1"))
        uow.commit()
        ids = set(uow.conn.scalars(select(ledger_postings.c.id)))
    assert ids == set(made) and len(ids) == 3
