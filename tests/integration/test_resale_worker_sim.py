"""Resale, the worker's side (issue 15), over the real bank simulator's virtual accounts
(HTTP, in-process through TestClient) and the real issuer simulator, on SQLite and
PostgreSQL: a resold voucher is stocked, a buyer orders it (``place_order`` through
``HttpVirtualAccounts``), deposits that are not the buyer's exact payment (another name,
a short amount, late) go back to their payers exactly once (the simulator's own records
of returns say so), also when the bank is down or loses its answers for a pass; at the
deadline the unpaid order expires, its unit is stocked again and its virtual account is
closed at the bank; the books pass ``ledger check``.

The bank's deposit notifications go, as the API's ``/v1/bank/notifications`` would take
them, to ``resale.notifications.take_notification`` (the endpoint is not this test's)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from test_reconcile_world import OpsWorld
from test_resale_stock import RESOLD, SetClock

from appcache import app_for
from fakes import FakeSms
from giftcash.adapters.banks.openbanking import OpenBankingBank
from giftcash.adapters.banks.virtual_accounts import HttpVirtualAccounts
from giftcash.adapters.db import ledger_check
from giftcash.adapters.db import tables as t
from giftcash.adapters.issuers.http_issuer import HttpIssuer
from giftcash.adapters.webhooks.signing import new_secret
from giftcash.bootstrap import build_deps
from giftcash.config import Settings
from giftcash.domain import ledger
from giftcash.domain.bank_hours import KST
from giftcash.domain.resale import BuyerLimits, ExpiryBand, ResalePricing
from giftcash.entrypoints.worker import Worker
from giftcash.identity import verification
from giftcash.resale import worker as resale_steps
from giftcash.resale.buyers import buyer_name
from giftcash.resale.notifications import NotificationRefused, take_notification
from giftcash.resale.orders import OrderRequest, place_order
from giftcash.service.deps import Deps
from giftcash.service.ports.records import Order, VerifiedPerson
from giftcash.simulators import create_bank_app, create_issuer_app

SECRET = new_secret()
PRICING = ResalePricing(7, (ExpiryBand(0, 500),))  # 5% off face value
LIMITS = BuyerLimits(per_day_won=1_000_000, per_month_won=5_000_000)
BUYER = "홍길동"


class Notifications:
    """The bank simulator's sender: each notification taken as the API's endpoint takes
    it (verified, then the deposit recorded and judged); 204, or 401 when refused."""

    def __init__(self) -> None:
        self.deps: Deps | None = None

    def __call__(self, body: bytes, headers: dict[str, str]) -> int:
        d = self.deps
        assert d is not None and d.virtual_accounts is not None
        try:
            take_notification(
                d.uow, d.virtual_accounts, headers, body, buyer_name(d), d.clock.now()
            )
        except NotificationRefused:
            return 401
        return 204


@pytest.fixture
def shop(engine, tmp_path):
    clock = SetClock(datetime(2026, 12, 4, 11, 0, tzinfo=KST))  # the banks are open
    notifications = Notifications()
    bank_client = TestClient(
        create_bank_app(
            tmp_path / "bank",
            clock=clock,
            notification_sender=notifications,
            notification_secret=SECRET,
        )
    )
    issuer_client = TestClient(create_issuer_app(tmp_path / "issuer", clock=clock))
    settings = Settings(
        data_dir=tmp_path / "var", database_url=str(engine.url), token_ttl_s=10 * 86400
    )
    deps = build_deps(
        settings,
        engine=engine,
        issuer=HttpIssuer("http://sim", client=issuer_client),
        bank=OpenBankingBank("http://sim", client=bank_client, now=clock.now),
        sms=FakeSms(),
        fast_passwords=True,
        virtual_accounts=HttpVirtualAccounts(
            "http://sim", notification_secret=SECRET, client=bank_client, now=clock.now
        ),
    )
    deps.clock = clock
    notifications.deps = deps
    url = engine.url.render_as_string(hide_password=False)
    with TestClient(app_for(deps)) as api:
        world = OpsWorld(
            api, bank_client, issuer_client, deps.sms, deps, engine, url, tmp_path / "var", settings
        )
        yield world, clock


# -- the world's steps ---------------------------------------------------------------------


def stock(w: OpsWorld, n: int = 1) -> None:
    """``n`` resold vouchers verified and stocked (the seller's side, paid once)."""
    auth, account_id = w.customer("010-5170-0001", "이서연", "5170000000001")
    vouchers = [w.buy(RESOLD, 30_000) for _ in range(n)]
    w.sell(auth, account_id, vouchers, "stock-1")
    w.work()
    assert [u["status"] for u in units(w)] == ["stocked"] * n


def buyer(w: OpsWorld) -> str:
    """A customer whose verified name (본인인증) is ``BUYER``."""
    w.customer("010-5170-0002", BUYER, "5170000000002")
    with w.engine.connect() as conn:
        customer_id = str(
            conn.scalar(select(t.customers.c.id).where(t.customers.c.phone == "01051700002"))
        )
    deps: Any = w.deps
    person = VerifiedPerson(BUYER, date(1988, 2, 3), "M", "SKT", "01051700002", "ci-1", "di-1")
    with deps.uow() as uow:
        # the storage step of the verification flow (identity/verification.py)
        assert verification._store(uow, deps, customer_id, "ci-hmac-1", person, deps.clock.now())
        uow.commit()
    return customer_id


def order(w: OpsWorld, customer_id: str, order_id: str = "o-1") -> Order:
    deps: Any = w.deps
    req = OrderRequest(order_id, customer_id, RESOLD, 30_000, 1)
    placed = place_order(deps.uow, deps.virtual_accounts, req, PRICING, LIMITS, deps.clock.now())
    assert placed.virtual_account_number is not None
    assert placed.amount == 28_500
    return placed


def pay(w: OpsWorld, number: str, amount: int, name: str) -> tuple[int, str]:
    r = w.bank.post(
        f"/sim/virtual-accounts/{number}/deposits",
        json={
            "payer_name": name,
            "payer_bank_code": "090",
            "payer_account": "3333012345678",
            "amount": amount,
        },
    )
    return r.status_code, str(r.json().get("deposit_id", ""))


def notify(w: OpsWorld) -> None:
    """The bank's outbox delivered now (the simulator's background loop, on demand)."""
    w.bank.post("/sim/notifications/deliver").raise_for_status()


def passes(worker: Worker, n: int = 2) -> int:
    return sum(worker.run_once() for _ in range(n))


def returned_at_bank(w: OpsWorld) -> dict[str, int]:
    """Per deposit: how many returns the bank simulator made (its own records)."""
    rows = w.bank.get("/sim/returns").json()["returns"]
    out: dict[str, int] = {}
    for r in rows:
        out.setdefault(r["deposit_id"], 0)
        out[r["deposit_id"]] += r["status"] == "returned"
    return out


def account_at_bank(w: OpsWorld, number: str) -> dict:
    (found,) = [
        a
        for a in w.bank.get("/sim/virtual-accounts").json()["virtual_accounts"]
        if a["account_num"] == number
    ]
    return found


def units(w: OpsWorld) -> list[dict]:
    with w.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(t.inventory_units))]


def status(w: OpsWorld, order_id: str) -> str:
    with w.engine.connect() as conn:
        return str(conn.scalar(select(t.orders.c.status).where(t.orders.c.id == order_id)))


def deposits(w: OpsWorld) -> dict[str, tuple[str, str | None]]:
    with w.engine.connect() as conn:
        rows = conn.execute(select(t.order_deposits)).all()
    return {r.bank_deposit_id: (r.status, r.return_reason) for r in rows}


def books_hold(w: OpsWorld) -> None:
    with w.engine.connect() as conn:
        assert ledger_check.check(conn) == []


@pytest.fixture
def worker(shop):
    w, _ = shop
    running = Worker(w.deps, concurrency=4, per_issuer=4, idle_sleep_s=0.01)
    yield running
    running.close()


# -- the tests ----------------------------------------------------------------------------


def test_deposits_not_kept_go_back_once_and_the_unpaid_order_expires(shop, worker):
    w, clock = shop
    stock(w)
    placed = order(w, buyer(w))
    number = placed.virtual_account_number
    assert number is not None
    assert [u["status"] for u in units(w)] == ["reserved"]

    _, other_name = pay(w, number, 28_500, "김철수")
    _, short = pay(w, number, 28_000, BUYER)
    notify(w)
    assert deposits(w) == {
        other_name: ("returning", "other_name"),
        short: ("returning", "wrong_amount"),
    }
    assert passes(worker) >= 2  # the drain sees the work
    assert returned_at_bank(w) == {other_name: 1, short: 1}
    assert deposits(w) == {
        other_name: ("returned", "other_name"),
        short: ("returned", "wrong_amount"),
    }
    assert status(w, "o-1") == "awaiting_payment"
    assert [u["status"] for u in units(w)] == ["reserved"]
    notify(w)  # a repeated notification changes nothing
    worker.drain(timeout_s=30)
    assert returned_at_bank(w) == {other_name: 1, short: 1}

    # the deadline passes unpaid: the order expires, its unit is stocked again and its
    # account closed at the bank, which then refuses money (the payer keeps it)
    clock.at = placed.deadline + timedelta(seconds=1)
    worker.drain(timeout_s=30)
    assert status(w, "o-1") == "expired"
    assert [(u["status"], u["order_id"]) for u in units(w)] == [("stocked", None)]
    assert account_at_bank(w, number)["status"] == "closed"
    with w.engine.connect() as conn:
        closed_at = conn.scalar(select(t.orders.c.account_closed_at))
    assert closed_at is not None
    assert pay(w, number, 28_500, BUYER)[0] == 409
    assert worker.stats.orders_expired == 1 and worker.stats.accounts_closed == 1
    assert worker.stats.deposits_returned == 2
    books_hold(w)


def test_a_late_deposit_before_the_close_goes_back_once(shop, worker):
    """The worker stopped between the expiry and the close: a deposit arriving then, the
    buyer's own and exact, is late; the next pass closes the account and returns it."""
    w, clock = shop
    stock(w)
    placed = order(w, buyer(w))
    number = placed.virtual_account_number
    assert number is not None
    clock.at = placed.deadline + timedelta(seconds=1)
    deps: Any = w.deps
    expired = resale_steps.expire_unpaid(
        deps.uow, deps.virtual_accounts, buyer_name(deps), clock.now()
    )
    assert expired == ["o-1"] and status(w, "o-1") == "expired"
    assert account_at_bank(w, number)["status"] == "open"

    code, late = pay(w, number, 28_500, BUYER)
    assert code == 201
    notify(w)
    assert deposits(w) == {late: ("returning", "late")}
    worker.drain(timeout_s=30)
    assert account_at_bank(w, number)["status"] == "closed"
    assert returned_at_bank(w) == {late: 1}
    assert deposits(w) == {late: ("returned", "late")}
    assert status(w, "o-1") == "expired"
    assert [u["status"] for u in units(w)] == ["stocked"]
    books_hold(w)


def test_a_late_deposit_whose_notification_is_lost_is_found_by_the_close(shop, worker):
    w, clock = shop
    stock(w)
    placed = order(w, buyer(w))
    number = placed.virtual_account_number
    assert number is not None
    clock.at = placed.deadline + timedelta(seconds=1)
    deps: Any = w.deps
    resale_steps.expire_unpaid(deps.uow, deps.virtual_accounts, buyer_name(deps), clock.now())
    w.bank.post("/sim/faults/notifications", json={"lost_rate": 1.0, "seed": 1})
    _, late = pay(w, number, 28_500, BUYER)
    notify(w)
    assert deposits(w) == {}  # never told
    worker.drain(timeout_s=30)
    assert account_at_bank(w, number)["status"] == "closed"
    assert returned_at_bank(w) == {late: 1}
    assert deposits(w) == {late: ("returned", "late")}
    books_hold(w)


def test_a_short_payment_whose_notification_is_lost_goes_back_after_the_delivery(shop, worker):
    """A short deposit, its notification lost, then the exact one: the order is paid and
    delivered, and the close of its account asks for its deposits once more, so the short
    one is returned (once) instead of staying at the bank unseen."""
    w, _clock = shop
    stock(w)
    placed = order(w, buyer(w))
    number = placed.virtual_account_number
    assert number is not None
    w.bank.post("/sim/faults/notifications", json={"lost_rate": 1.0, "seed": 1})
    _, short = pay(w, number, 28_000, BUYER)
    notify(w)
    w.bank.delete("/sim/faults/notifications")
    _, paid = pay(w, number, 28_500, BUYER)
    notify(w)
    assert deposits(w) == {paid: ("matched", None)}  # the short one never told
    worker.drain(timeout_s=30)
    assert status(w, "o-1") == "delivered"
    assert account_at_bank(w, number)["status"] == "closed"
    assert deposits(w) == {paid: ("matched", None), short: ("returned", "wrong_amount")}
    assert returned_at_bank(w) == {short: 1}
    books_hold(w)


@pytest.mark.parametrize(
    "fault",
    [{"error_rate": 1.0}, {"lost_answer_rate": 1.0}],
    ids=["bank-down", "answers-lost"],
)
def test_the_bank_failing_for_a_pass_still_returns_each_once(shop, worker, fault):
    w, clock = shop
    stock(w)
    placed = order(w, buyer(w))
    number = placed.virtual_account_number
    assert number is not None
    _, other_name = pay(w, number, 28_500, "김철수")
    _, short = pay(w, number, 1_000, BUYER)
    notify(w)

    w.bank.post("/sim/faults", json=fault).raise_for_status()
    assert passes(worker) == 0  # nothing done that the books know of; the pass went on
    assert deposits(w) == {
        other_name: ("returning", "other_name"),
        short: ("returning", "wrong_amount"),
    }
    w.bank.delete("/sim/faults").raise_for_status()
    worker.drain(timeout_s=30)
    assert returned_at_bank(w) == {other_name: 1, short: 1}
    assert status(w, "o-1") == "awaiting_payment"

    # at the deadline, the bank failing again: not expired blind, not closed, then both
    clock.at = placed.deadline + timedelta(seconds=1)
    w.bank.post("/sim/faults", json=fault).raise_for_status()
    passes(worker)
    assert status(w, "o-1") == "awaiting_payment"  # its deposits unknown: next pass
    assert account_at_bank(w, number)["status"] == "open"
    w.bank.delete("/sim/faults").raise_for_status()
    worker.drain(timeout_s=30)
    assert status(w, "o-1") == "expired"
    assert account_at_bank(w, number)["status"] == "closed"
    with w.engine.connect() as conn:
        assert conn.scalar(select(t.orders.c.account_closed_at)) is not None
    assert returned_at_bank(w) == {other_name: 1, short: 1}
    assert [u["status"] for u in units(w)] == ["stocked"]
    books_hold(w)


def test_an_exact_own_name_payment_is_kept_and_the_order_delivered(shop, worker):
    """The paid order is not expired or returned by the worker: it is delivered, the
    buyer's money moves off ``liabilities:buyer:<id>`` into the sale, the order's account
    is closed (done with) and the books hold."""
    w, clock = shop
    stock(w)
    customer_id = buyer(w)
    placed = order(w, customer_id)
    number = placed.virtual_account_number
    assert number is not None
    _, paid = pay(w, number, 28_500, BUYER)
    notify(w)
    assert deposits(w) == {paid: ("matched", None)}
    clock.at = placed.deadline + timedelta(hours=1)
    worker.drain(timeout_s=30)
    assert status(w, "o-1") == "delivered"
    assert returned_at_bank(w) == {}
    assert account_at_bank(w, number)["status"] == "closed"
    assert deposits(w) == {paid: ("matched", None)}
    with w.engine.connect() as conn:
        held = conn.execute(
            select(t.ledger_accounts.c.balance, t.ledger_accounts.c.kind).where(
                t.ledger_accounts.c.path == ledger.buyer_account(customer_id)
            )
        ).one()
    assert tuple(held) == (0, "customer_liability")
    books_hold(w)


class BrokenInquiry:
    """The real adapter, but its deposits inquiry fails in a way no port promises (a
    bug's error, the account number in its message)."""

    def __init__(self, port: Any) -> None:
        self.port = port

    def __getattr__(self, name: str) -> Any:
        return getattr(self.port, name)

    def deposits(self, account_number: str) -> Any:
        raise ValueError(f"unreadable answer for account {account_number}")


def test_a_step_failing_otherwise_is_logged_by_type_and_the_pass_goes_on(shop, worker, caplog):
    w, clock = shop
    stock(w)
    placed = order(w, buyer(w))
    number = placed.virtual_account_number
    assert number is not None
    _, other_name = pay(w, number, 28_500, "김철수")
    notify(w)
    clock.at = placed.deadline + timedelta(seconds=1)
    deps: Any = w.deps
    real = deps.virtual_accounts
    deps.virtual_accounts = BrokenInquiry(real)
    try:
        with caplog.at_level("WARNING", logger="giftcash.worker"):
            assert worker.run_once() == 1  # the expiry failed; the return went
    finally:
        deps.virtual_accounts = real
    assert returned_at_bank(w) == {other_name: 1}
    assert status(w, "o-1") == "awaiting_payment"
    assert worker.stats.errors == 1
    assert "resale step resale_expire failed: ValueError" in caplog.text
    assert number not in caplog.text
    worker.drain(timeout_s=30)
    assert status(w, "o-1") == "expired"
    assert account_at_bank(w, number)["status"] == "closed"
    assert returned_at_bank(w) == {other_name: 1}
    books_hold(w)
