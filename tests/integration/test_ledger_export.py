"""The beancount export: beancount's own bean-check accepts the books, refuses them when
they are tampered with, and account names map both ways."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from giftcash.adapters.db.ledger_export import (
    account_from_beancount,
    beancount_account,
    export_beancount,
)
from giftcash.adapters.db.tables import ledger_accounts
from giftcash.adapters.db.uow import SqlUnitOfWork
from giftcash.domain import ledger as L
from giftcash.domain.errors import InvalidAccount

BEAN_CHECK = Path(sys.executable).parent / "bean-check"
ALICE = "0190c1a2-0000-7000-8000-0000000000a1"  # starts with a digit, like every UUIDv7
BOB = "0190c1a2-0000-7000-8000-0000000000b2"


class StepClock:
    """Each transfer a day later, so the export spans several dates."""

    def __init__(self) -> None:
        self.at = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)

    def now(self) -> datetime:
        self.at += timedelta(days=1)
        return self.at


def scenario(engine) -> None:
    """Redemptions, payouts sent/confirmed/returned, a reversal, a bank fee."""
    r1 = L.redemption(
        "r-1",
        issuer="cultureland",
        customer_id=ALICE,
        face=50_000,
        payout=45_000,
        currency="KRW",
        ref="item-1",
    )
    r2 = L.redemption(
        "r-2",
        issuer="starbucks_kr",
        customer_id=BOB,
        face=30_000,
        payout=24_000,
        currency="KRW",
        ref="item-2",
    )
    r3 = L.redemption(
        "r-3",
        issuer="happymoney",
        customer_id=BOB,
        face=10_000,
        payout=9_000,
        currency="KRW",
        ref="item-3",
    )
    steps = [
        [r1, r2],
        [L.payout_sent("ps-1", customer_id=ALICE, amount=45_000, currency="KRW", ref="po-1")],
        [L.payout_confirmed("pc-1", amount=45_000, currency="KRW", ref="po-1")],
        [L.bank_fee("fee-1", amount=500, currency="KRW", ref="po-1")],
        [L.payout_sent("ps-2", customer_id=BOB, amount=24_000, currency="KRW", ref="po-2")],
        [L.payout_returned("pr-2", customer_id=BOB, amount=24_000, currency="KRW", ref="po-2")],
        [r3],
        [L.reversal(r3, "rev-3", memo='issuer voided it: "used" \\ refunded')],
        [
            L.issuer_settlement(
                "set-1", issuer="cultureland", amount=50_000, currency="KRW", ref="st-1"
            )
        ],
    ]
    with SqlUnitOfWork(engine, clock=StepClock()) as uow:
        for batch in steps:
            uow.ledger.post_many(batch)
            uow.commit()


def export(engine, path: Path) -> int:
    with SqlUnitOfWork(engine, read_only=True) as uow, open(path, "w", encoding="utf-8") as out:
        return export_beancount(uow.conn, out)


def bean_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BEAN_CHECK), str(path)], capture_output=True, text=True, timeout=120)


def test_bean_check_accepts_the_exported_books(engine, tmp_path):
    scenario(engine)
    path = tmp_path / "books.beancount"
    assert export(engine, path) == 10
    text = path.read_text()
    result = bean_check(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'option "operating_currency" "KRW"' in text
    assert f"open Liabilities:Customer:{ALICE} KRW" in text
    assert "open Assets:Issuer:StarbucksKr KRW" in text
    assert '  transfer_id: "rev-3"' in text and '  reverses: "r-3"' in text
    assert "2026-03-03 * " in text  # dated by created_at
    assert "balance Liabilities:Customer:" + BOB + " -24000 KRW" in text


def test_bean_check_refuses_an_unbalanced_file(engine, tmp_path):
    scenario(engine)
    path = tmp_path / "books.beancount"
    export(engine, path)
    text = path.read_text()
    tampered = text.replace("-5000 KRW", "-5001 KRW", 1)  # r-1's margin posting
    assert tampered != text
    path.write_text(tampered)
    result = bean_check(path)
    assert result.returncode != 0
    assert "balance" in (result.stdout + result.stderr).lower()


def test_bean_check_catches_a_stored_balance_that_disagrees(engine, tmp_path):
    scenario(engine)
    with engine.begin() as conn:
        conn.execute(
            update(ledger_accounts)
            .where(ledger_accounts.c.path == L.MARGIN)
            .values(balance=ledger_accounts.c.balance - 7)
        )
    path = tmp_path / "books.beancount"
    export(engine, path)
    result = bean_check(path)
    assert result.returncode != 0
    assert "Income:Margin" in result.stdout + result.stderr


def test_an_empty_ledger_exports_a_valid_file(engine, tmp_path):
    path = tmp_path / "books.beancount"
    assert export(engine, path) == 0
    assert bean_check(path).returncode == 0


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("assets:issuer:cultureland", "Assets:Issuer:Cultureland"),
        ("assets:issuer:starbucks_kr", "Assets:Issuer:StarbucksKr"),
        ("expenses:bank-fees", "Expenses:Bank-fees"),
        (f"liabilities:customer:{ALICE}", f"Liabilities:Customer:{ALICE}"),
        ("equity:opening-balances", "Equity:Opening-balances"),
    ],
)
def test_account_names_map_both_ways(path, name):
    assert beancount_account(path) == name
    assert account_from_beancount(name) == path


def test_two_accounts_that_would_share_a_name_are_refused(engine, tmp_path):
    with SqlUnitOfWork(engine) as uow:
        uow.ledger.post_many(
            [
                L.opening_balance("o-1", account="assets:x_1", amount=5, currency="KRW"),
                L.opening_balance("o-2", account="assets:x-1", amount=5, currency="KRW"),
            ]
        )
        uow.commit()
    with pytest.raises(InvalidAccount):
        export(engine, tmp_path / "books.beancount")
