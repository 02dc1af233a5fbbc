"""``check`` finds what a hand edit of the stored books breaks, and nothing on clean books."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from giftcash.adapters.db.ledger_check import check
from giftcash.adapters.db.tables import (
    ledger_accounts,
    ledger_postings,
    ledger_transfers,
)
from giftcash.adapters.db.uow import SqlUnitOfWork
from giftcash.domain import ledger as L
from giftcash.domain.errors import LiabilityBelowZero

CUSTOMER = "0190c1a2-0000-7000-8000-000000000002"


def books(engine) -> None:
    """Redemption, payout sent and confirmed, a bank fee, a reversed mistake."""
    r = L.redemption(
        "t-1",
        issuer="booknlife",
        customer_id=CUSTOMER,
        face=10_000,
        payout=9_000,
        currency="KRW",
        ref="item-1",
    )
    mistake = L.bank_fee("t-4", amount=700, currency="KRW", ref="p-1")
    with SqlUnitOfWork(engine) as uow:
        uow.ledger.post_many(
            [
                r,
                L.payout_sent("t-2", customer_id=CUSTOMER, amount=9_000, currency="KRW", ref="p"),
                L.payout_confirmed("t-3", amount=9_000, currency="KRW", ref="p-1"),
                mistake,
                L.reversal(mistake, "t-5"),
            ]
        )
        uow.commit()


def rules(engine) -> list[tuple[str, str]]:
    with SqlUnitOfWork(engine, read_only=True) as uow:
        return sorted({(v.rule, v.subject) for v in check(uow.conn)})


def test_clean_books_have_no_violations(engine):
    books(engine)
    assert rules(engine) == []


def test_an_empty_ledger_is_clean(engine):
    assert rules(engine) == []


def test_a_hand_edited_balance_is_found(engine):
    books(engine)
    with engine.begin() as conn:
        conn.execute(
            update(ledger_accounts)
            .where(ledger_accounts.c.path == L.MARGIN)
            .values(balance=ledger_accounts.c.balance - 1)
        )
    assert rules(engine) == [("stored_balance", L.MARGIN), ("zero_sum", "KRW")]


def test_a_hand_edited_posting_is_found(engine):
    books(engine)
    with engine.begin() as conn:
        conn.execute(
            update(ledger_postings)
            .where(ledger_postings.c.transfer_id == "t-3", ledger_postings.c.amount > 0)
            .values(amount=8_000)
        )
    assert rules(engine) == [
        ("hash_chain", "t-3"),
        ("stored_balance", L.BANK_CLEARING),
        ("transfer_balance", "t-3"),
    ]


def test_a_hand_edited_memo_breaks_the_hash_chain(engine):
    books(engine)
    with engine.begin() as conn:
        conn.execute(
            update(ledger_transfers).where(ledger_transfers.c.id == "t-2").values(memo="edited")
        )
    assert rules(engine) == [("hash_chain", "t-2")]


def test_a_recomputed_hash_still_breaks_the_next_link(engine):
    books(engine)
    with engine.begin() as conn:
        conn.execute(
            update(ledger_transfers).where(ledger_transfers.c.id == "t-2").values(hash="f" * 64)
        )
    assert rules(engine) == [("hash_chain", "t-2"), ("hash_chain", "t-3")]


def test_a_removed_last_transfer_is_found_at_the_head(engine):
    books(engine)
    with engine.begin() as conn:
        conn.execute(ledger_postings.delete().where(ledger_postings.c.transfer_id == "t-5"))
        conn.execute(ledger_transfers.delete().where(ledger_transfers.c.id == "t-5"))
    found = rules(engine)
    assert ("chain_head", "head") in found
    assert ("stored_balance", L.BANK_FEES) in found


def test_a_customer_liability_below_zero_is_found(engine):
    books(engine)
    with engine.begin() as conn:
        # Both sides edited so only the floor breaks; the CHECK constraint would refuse a
        # positive balance, so the kind is changed first (which check also reports).
        conn.execute(
            update(ledger_accounts)
            .where(ledger_accounts.c.path == L.customer_account(CUSTOMER))
            .values(kind="liabilities", balance=5)
        )
    found = rules(engine)
    cust = L.customer_account(CUSTOMER)
    assert ("liability_floor", cust) in found
    assert ("account_kind", cust) in found


def test_a_reversal_pointing_nowhere_is_found(engine):
    books(engine)
    raw = engine.raw_connection()  # the foreign key would refuse this edit: switch it off
    try:
        cur = raw.cursor()
        if engine.dialect.name == "sqlite":
            cur.execute("PRAGMA foreign_keys = OFF")
        else:
            cur.execute(
                "ALTER TABLE ledger_transfers "
                "DROP CONSTRAINT fk_ledger_transfers_reverses_ledger_transfers"
            )
        cur.execute("UPDATE ledger_transfers SET reverses = 'gone' WHERE id = 't-5'")
        raw.commit()
        if engine.dialect.name == "sqlite":
            cur.execute("PRAGMA foreign_keys = ON")
    finally:
        raw.close()
    found = rules(engine)
    assert ("reversal_target", "t-5") in found
    assert ("hash_chain", "t-5") in found


def test_a_reversal_edited_out_of_mirror_is_found(engine):
    books(engine)
    with engine.begin() as conn:
        # Both legs of the reversal edited alike: it still balances, but no longer
        # negates the transfer it claims to reverse.
        for sign in (1, -1):
            conn.execute(
                update(ledger_postings)
                .where(
                    ledger_postings.c.transfer_id == "t-5",
                    (ledger_postings.c.amount > 0) if sign > 0 else (ledger_postings.c.amount < 0),
                )
                .values(amount=ledger_postings.c.amount - sign * 100)
            )
    found = rules(engine)
    assert ("reversal_mirror", "t-5") in found
    assert ("transfer_balance", "t-5") not in found


BUYER = "0190c1a2-0000-7000-8000-000000000003"


def paid_order(engine) -> str:
    """A buyer's 10,000 won kept for an order: Cr the buyer's liability."""
    with SqlUnitOfWork(engine) as uow:
        uow.ledger.post(
            L.order_paid("t-b1", customer_id=BUYER, amount=10_000, currency="KRW", ref="o-1")
        )
        uow.commit()
    return L.buyer_account(BUYER)


def test_a_buyer_liability_is_stored_as_one_that_must_stay_credit(engine):
    buyer = paid_order(engine)
    with engine.connect() as conn:
        kind = conn.scalar(select(ledger_accounts.c.kind).where(ledger_accounts.c.path == buyer))
    assert kind == "customer_liability"  # the floor CHECK applies to it
    assert rules(engine) == []


def test_a_buyer_liability_in_debit_is_found(engine):
    buyer = paid_order(engine)
    with engine.begin() as conn:
        # as in the customer's case: the kind is changed first, or the CHECK refuses
        conn.execute(
            update(ledger_accounts)
            .where(ledger_accounts.c.path == buyer)
            .values(kind="liabilities", balance=5)
        )
    found = rules(engine)
    assert ("liability_floor", buyer) in found
    assert ("account_kind", buyer) in found


def test_a_buyer_liability_stored_as_a_plain_liability_is_found(engine):
    """The kind buyer accounts had before revision 0018 (which converts them)."""
    buyer = paid_order(engine)
    with engine.begin() as conn:
        conn.execute(
            update(ledger_accounts)
            .where(ledger_accounts.c.path == buyer)
            .values(kind="liabilities")
        )
    assert rules(engine) == [("account_kind", buyer)]


def test_more_than_a_buyer_paid_is_never_taken_from_their_liability(engine):
    buyer = paid_order(engine)
    too_much = L.Transfer(
        "t-b2",
        "KRW",
        (L.Posting(buyer, 10_001), L.Posting("income:resale", -10_001)),
        "order_delivered",
        "o-1",
    )
    with SqlUnitOfWork(engine) as uow, pytest.raises(LiabilityBelowZero):
        uow.ledger.post(too_much)
    with engine.begin() as conn, pytest.raises(IntegrityError):
        conn.execute(
            update(ledger_accounts).where(ledger_accounts.c.path == buyer).values(balance=1)
        )
    assert rules(engine) == []
