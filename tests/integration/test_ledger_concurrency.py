"""Concurrent writers keep balances exact and the hash chain whole.

Runs on both engines: on PostgreSQL the head and account row locks do the work, on SQLite
``BEGIN IMMEDIATE`` serialises the writers."""

from __future__ import annotations

import threading

import pytest

from giftcash.adapters.db.ledger_check import check
from giftcash.adapters.db.uow import SqlUnitOfWork
from giftcash.domain import ledger as L
from giftcash.domain.errors import LiabilityBelowZero

pytestmark = pytest.mark.slow  # threads racing over a real engine pool

THREADS = 4
PER_THREAD = 50
CUSTOMERS = ["0190c1a2-0000-7000-8000-00000000000a", "0190c1a2-0000-7000-8000-00000000000b"]


def run_threads(target) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def wrapped(n: int) -> None:
        try:
            start.wait()
            target(n)
        except BaseException as e:  # collected and asserted on below
            errors.append(e)

    threads = [threading.Thread(target=wrapped, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_concurrent_redemptions_and_payouts_keep_balances_exact(engine):
    def work(n: int) -> None:
        for i in range(PER_THREAD):
            customer = CUSTOMERS[i % 2]  # every thread contends for the same accounts
            with SqlUnitOfWork(engine) as uow:
                uow.ledger.post(
                    L.redemption(
                        f"r-{n}-{i}",
                        issuer="cultureland",
                        customer_id=customer,
                        face=10_000,
                        payout=9_000,
                        currency="KRW",
                        ref=f"i-{n}-{i}",
                    )
                )
                uow.commit()
            with SqlUnitOfWork(engine) as uow:
                uow.ledger.post(
                    L.payout_sent(
                        f"p-{n}-{i}", customer_id=customer, amount=9_000, currency="KRW", ref="p"
                    )
                )
                uow.commit()

    assert run_threads(work) == []
    n = THREADS * PER_THREAD
    with SqlUnitOfWork(engine, read_only=True) as uow:
        balances = uow.ledger.balances()
        seqs = [s.seq for s in uow.ledger.transfers()]
        violations = check(uow.conn)
    assert violations == []
    assert seqs == list(range(1, 2 * n + 1))
    assert balances[("assets:issuer:cultureland", "KRW")] == 10_000 * n
    assert balances[(L.MARGIN, "KRW")] == -1_000 * n
    assert balances[(L.BANK_CLEARING, "KRW")] == -9_000 * n
    assert all(balances[(L.customer_account(c), "KRW")] == 0 for c in CUSTOMERS)


def test_concurrent_overdraws_are_refused_exactly(engine):
    customer = CUSTOMERS[0]
    with SqlUnitOfWork(engine) as uow:
        uow.ledger.post(
            L.redemption(
                "r-0",
                issuer="cultureland",
                customer_id=customer,
                face=10_000,
                payout=10_000,
                currency="KRW",
                ref="i",
            )
        )
        uow.commit()
    accepted = []

    def work(n: int) -> None:
        for i in range(10):  # 40 tries at 1,000 each against 10,000 owed
            try:
                with SqlUnitOfWork(engine) as uow:
                    uow.ledger.post(
                        L.payout_sent(
                            f"p-{n}-{i}",
                            customer_id=customer,
                            amount=1_000,
                            currency="KRW",
                            ref="p",
                        )
                    )
                    uow.commit()
                accepted.append((n, i))
            except LiabilityBelowZero:
                pass

    assert run_threads(work) == []
    assert len(accepted) == 10
    with SqlUnitOfWork(engine, read_only=True) as uow:
        assert uow.ledger.balance(L.customer_account(customer), "KRW") == 0
        assert check(uow.conn) == []


def test_the_same_transfer_from_every_thread_is_posted_once(engine):
    outcomes = []
    transfer = L.redemption(
        "once",
        issuer="cultureland",
        customer_id=CUSTOMERS[0],
        face=10_000,
        payout=9_000,
        currency="KRW",
        ref="i",
    )

    def work(n: int) -> None:
        for _ in range(5):
            with SqlUnitOfWork(engine) as uow:
                outcomes.append(uow.ledger.post(transfer))
                uow.commit()

    assert run_threads(work) == []
    assert sorted(outcomes) == [False] * (THREADS * 5 - 1) + [True]
    with SqlUnitOfWork(engine, read_only=True) as uow:
        assert uow.ledger.count() == 1
        assert check(uow.conn) == []
