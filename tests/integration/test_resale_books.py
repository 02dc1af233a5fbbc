"""The resale books (issue 15, item 6) after a whole resale day over the real bank and
issuer simulators, on SQLite and PostgreSQL: a seller's three resell vouchers stocked at
cost; one buyer's exact own-name payment kept and the order delivered; another buyer's
wrong-name deposit returned and that order expired; a paid order whose voucher was
spent before delivery refunded (its deposit returned, the unit's cost now its seller's
receivable). ``giftcash ledger check`` finds nothing wrong, the beancount export opens
every resale account under a valid name and beancount's own ``bean-check`` accepts it,
and each account holds what the day implies."""

from __future__ import annotations

import subprocess
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from test_reconcile_world import OpsWorld
from test_resale_stock import BEAN_CHECK, RESOLD
from test_resale_worker_sim import (  # noqa: F401  (the fixtures)
    LIMITS,
    PRICING,
    notify,
    pay,
    returned_at_bank,
    shop,
    worker,
)
from typer.testing import CliRunner

from giftcash.adapters.db import tables as t
from giftcash.adapters.db.ledger_export import beancount_account, export_beancount
from giftcash.adapters.db.uow import SqlUnitOfWork
from giftcash.domain import ledger
from giftcash.entrypoints.cli import app
from giftcash.identity import verification
from giftcash.resale.orders import OrderRequest, place_order
from giftcash.service.ports.records import Order, VerifiedPerson

BUYER, OTHER_BUYER, STRANGER = "홍길동", "김영희", "박철수"
SELLER_PHONE = "010-5180-0001"
runner = CliRunner()


# -- the day's steps -------------------------------------------------------------------------


def customer_id_of(w: OpsWorld, phone: str) -> str:
    with w.engine.connect() as conn:
        return str(
            conn.scalar(
                select(t.customers.c.id).where(t.customers.c.phone == phone.replace("-", ""))
            )
        )


def stock(w: OpsWorld, clock: Any) -> dict[int, dict]:
    """A seller's three resell vouchers verified, stocked and, after the new seller's
    day of hold, paid once."""
    auth, account_id = w.customer(SELLER_PHONE, "이서연", "5180000000001")
    vouchers = {face: w.buy(RESOLD, face) for face in (30_000, 10_000, 50_000)}
    w.sell(auth, account_id, list(vouchers.values()), "books-stock")
    w.work()
    clock.at += timedelta(days=1, hours=1)
    w.work()
    with w.engine.connect() as conn:
        assert conn.scalar(select(t.payouts.c.status)) == "confirmed"
    return vouchers


def verified_buyer(w: OpsWorld, phone: str, name: str, account: str, n: int) -> str:
    """A customer whose verified name (본인인증) is ``name``."""
    w.customer(phone, name, account)
    customer_id = customer_id_of(w, phone)
    deps: Any = w.deps
    digits = phone.replace("-", "")
    person = VerifiedPerson(name, date(1990, 5, 6), "F", "KT", digits, f"ci-{n}", f"di-{n}")
    with deps.uow() as uow:
        # the storage step of the verification flow (identity/verification.py)
        assert verification._store(uow, deps, customer_id, f"ci-hmac-{n}", person, deps.clock.now())
        uow.commit()
    return customer_id


def order(w: OpsWorld, customer_id: str, order_id: str, face: int) -> Order:
    deps: Any = w.deps
    req = OrderRequest(order_id, customer_id, RESOLD, face, 1)
    placed = place_order(deps.uow, deps.virtual_accounts, req, PRICING, LIMITS, deps.clock.now())
    assert placed.virtual_account_number is not None
    assert placed.amount == face * 95 // 100  # 5% off face value
    return placed


def resale_day(w: OpsWorld, clock: Any, running: Any) -> dict[str, Any]:
    """The day the tests of the books and of the reconciliation share; answers its facts."""
    vouchers = stock(w, clock)
    clearing_before = balance(w, ledger.BANK_CLEARING)
    buyer = verified_buyer(w, "010-5180-0002", BUYER, "5180000000002", 1)
    other = verified_buyer(w, "010-5180-0003", OTHER_BUYER, "5180000000003", 2)

    delivered = order(w, buyer, "o-delivered", 30_000)  # 28,500
    expired = order(w, other, "o-expired", 10_000)  # 9,500
    refunded = order(w, buyer, "o-refunded", 50_000)  # 47,500
    _, kept = pay(w, str(delivered.virtual_account_number), 28_500, BUYER)
    _, stranger = pay(w, str(expired.virtual_account_number), 9_500, STRANGER)
    _, kept_then_refunded = pay(w, str(refunded.virtual_account_number), 47_500, BUYER)
    # the refunded order's voucher is spent elsewhere before its buyer gets it
    spent = vouchers[50_000]["voucher_id"]
    w.issuer.post(f"/sim/vouchers/{spent}/use").raise_for_status()
    notify(w)
    running.drain(timeout_s=60)
    clock.at = max(delivered.deadline, expired.deadline) + timedelta(seconds=1)
    running.drain(timeout_s=60)

    assert status(w) == {
        "o-delivered": "delivered",
        "o-expired": "expired",
        "o-refunded": "refunded",
    }
    assert returned_at_bank(w) == {stranger: 1, kept_then_refunded: 1}
    assert deposit_states(w) == {
        kept: ("matched", None),
        stranger: ("returned", "other_name"),
        kept_then_refunded: ("returned", "not_delivered"),
    }
    return {
        "buyer": buyer,
        "other": other,
        "seller": customer_id_of(w, SELLER_PHONE),
        "clearing_before": clearing_before,
        "kept": kept,
        "stranger": stranger,
        "refunded": kept_then_refunded,
        "orders": (delivered, expired, refunded),
    }


# -- what the books say ----------------------------------------------------------------------


def balance(w: OpsWorld, account: str) -> int:
    with w.engine.connect() as conn:
        value = conn.scalar(
            select(t.ledger_accounts.c.balance).where(t.ledger_accounts.c.path == account)
        )
    return int(value or 0)


def status(w: OpsWorld) -> dict[str, str]:
    with w.engine.connect() as conn:
        return dict(conn.execute(select(t.orders.c.id, t.orders.c.status)).all())  # type: ignore[arg-type]


def deposit_states(w: OpsWorld) -> dict[str, tuple[str, str | None]]:
    with w.engine.connect() as conn:
        rows = conn.execute(select(t.order_deposits)).all()
    return {r.bank_deposit_id: (r.status, r.return_reason) for r in rows}


def unit_states(w: OpsWorld) -> dict[int, str]:
    with w.engine.connect() as conn:
        rows = conn.execute(select(t.inventory_units.c.face_value, t.inventory_units.c.status))
        return {int(r.face_value): str(r.status) for r in rows}


def beancount_balances(path: Path) -> dict[str, int]:
    """Every account's balance as beancount itself computes it from the exported file."""
    from beancount import loader
    from beancount.core import data

    entries, errors, _ = loader.load_file(str(path))
    assert errors == [], errors
    out: dict[str, Decimal] = defaultdict(Decimal)
    for entry in entries:
        if isinstance(entry, data.Transaction):
            for p in entry.postings:
                assert p.units is not None and p.units.currency == "KRW"
                out[p.account] += p.units.number
    return {account: int(amount) for account, amount in out.items()}


# -- the tests -------------------------------------------------------------------------------


def test_a_resale_day_s_books_balance_and_beancount_accepts_them(shop, worker, tmp_path):  # noqa: F811
    w, clock = shop
    day = resale_day(w, clock, worker)
    buyer, other, seller = day["buyer"], day["other"], day["seller"]
    assert unit_states(w) == {30_000: "delivered", 10_000: "stocked", 50_000: "withdrawn"}

    expected = {
        # three units in at cost (90%: 27,000 + 9,000 + 45,000); the delivered one out to
        # cost of sales, the spent one to its seller's receivable; the expired order's
        # unit is back in stock
        ledger.inventory_account(RESOLD): 9_000,
        ledger.COST_OF_SALES: 27_000,
        ledger.RESALE_INCOME: -28_500,  # the delivered order's price
        ledger.receivable_account(seller): 45_000,
        ledger.customer_account(seller): 0,  # paid once, by the payout
        # the buyer's money held until delivery: 28,500 sold, 47,500 refunded
        ledger.buyer_account(buyer): 0,
        ledger.buyer_account(other): 0,  # a stranger's deposit is never the buyer's
    }
    for account, amount in expected.items():
        assert balance(w, account) == amount, account
    # kept 28,500 + 47,500, refunded 47,500; the stranger's 9,500 never entered the books
    assert balance(w, ledger.BANK_CLEARING) - day["clearing_before"] == 28_500
    assert balance(w, ledger.RESALE_INCOME) + balance(w, ledger.COST_OF_SALES) == -1_500

    checked = runner.invoke(app, ["ledger", "check", "--database-url", w.url])
    assert checked.exit_code == 0, checked.output
    assert "ledger ok" in checked.output

    path = tmp_path / "books.beancount"
    with SqlUnitOfWork(w.engine, read_only=True) as uow, open(path, "w", encoding="utf-8") as f:
        export_beancount(uow.conn, f)
    result = subprocess.run(
        [str(BEAN_CHECK), str(path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    books = path.read_text(encoding="utf-8")
    names = {
        ledger.inventory_account(RESOLD): "Assets:Inventory:KyoboGift",
        ledger.COST_OF_SALES: "Expenses:Cost-of-sales",
        ledger.RESALE_INCOME: "Income:Resale",
        ledger.BANK_CLEARING: "Assets:Bank:Clearing",
        ledger.buyer_account(buyer): f"Liabilities:Buyer:{buyer[0].upper()}{buyer[1:]}",
        ledger.receivable_account(seller): (
            f"Assets:Receivable:Customer:{seller[0].upper()}{seller[1:]}"
        ),
    }
    for ours, bean in names.items():
        assert beancount_account(ours) == bean
        assert f" open {bean} KRW" in books, bean
    for kind in ("order_paid", "resale_sale", "cost_of_sale", "order_refunded", "unit_withdrawn"):
        assert f'kind: "{kind}"' in books, kind
    # beancount's own sums, account by account, are what the day implies
    sums = beancount_balances(path)
    for ours, amount in expected.items():
        assert sums.get(beancount_account(ours), 0) == amount, ours
    assert sum(sums.values()) == 0
