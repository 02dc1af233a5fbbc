"""Delivery of paid orders on SQLite and PostgreSQL (resale/delivery.py), over the fake
issuer and the fake virtual accounts: delivered once over two passes and two racing
workers, a spent unit withdrawn and replaced with its seller's case opened, refunded once
when nothing replaces it, nothing moved while the issuer does not answer; the books pass
``ledger check`` after each."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select, update
from test_db_orders import NOW, order, seed

from fakes import FakeClock, FakeIssuer, FakeVirtualAccounts
from fakes_uow import FakeVault
from giftcash.adapters.db import ledger_check
from giftcash.adapters.db import tables as t
from giftcash.adapters.db.app_uow import AppUnitOfWork as SqlUnitOfWork
from giftcash.domain import ledger
from giftcash.domain.states import UnitStatus, transition
from giftcash.resale import delivery
from giftcash.resale.deposits import take_deposit
from giftcash.resale.worker import send_returns
from giftcash.service.deps import Deps
from giftcash.service.ports import Unavailable


def world(engine, stocked: int = 1, ordered: int = 1):
    units = seed(engine, stocked)
    vault, issuer = FakeVault(), FakeIssuer()
    with engine.begin() as conn:
        for n in range(stocked):
            code = f"61070000000{n:05}"
            enc, key = vault.encrypt(code, f"i-{n}")
            conn.execute(
                update(t.items).where(t.items.c.id == f"i-{n}").values(code_enc=enc, key_id=key)
            )
            issuer.sell("kyobo", code, 10_000, expires_at=NOW + timedelta(days=365))
    clock = FakeClock(NOW)
    bank = FakeVirtualAccounts(clock=FakeClock(NOW))
    deps = Deps(
        uow=lambda: SqlUnitOfWork(engine),
        vault=vault,
        passwords=None,  # type: ignore[arg-type]
        issuer=issuer,
        bank=None,  # type: ignore[arg-type]
        sms=None,  # type: ignore[arg-type]
        clock=clock,
        virtual_accounts=bank,
    )
    o = replace(order(1), quantity=ordered, amount=9_500 * ordered)
    va = bank.issue(o.id, o.amount, "giftcash", o.deadline)
    with SqlUnitOfWork(engine) as uow:
        uow.orders.add(o, NOW)
        uow.orders.set_virtual_account(o.id, va.account_number, va.account_number, NOW)
        moves = [transition(u, UnitStatus.STOCKED, UnitStatus.RESERVED) for u in units[:ordered]]
        assert len(uow.inventory.apply(moves, o.id, NOW)) == ordered
        uow.commit()
    notice = bank.pay(va.account_number, o.amount, "홍길동")
    with SqlUnitOfWork(engine) as uow:
        assert take_deposit(uow, o.id, "홍길동", notice.deposit, NOW).kept
        uow.commit()
    return deps, issuer, bank


def state(engine):
    with engine.connect() as conn:
        units = dict(conn.execute(select(t.inventory_units.c.id, t.inventory_units.c.status)).all())
        order_status = conn.scalar(select(t.orders.c.status).where(t.orders.c.id == "o-01"))
        cases = conn.execute(select(t.aml_cases.c.kind, t.aml_cases.c.subject)).all()
        assert ledger_check.check(conn) == []
    return units, order_status, [tuple(c) for c in cases]


def balance(engine, account):
    with engine.connect() as conn:
        v = conn.scalar(
            select(t.ledger_accounts.c.balance).where(t.ledger_accounts.c.path == account)
        )
    return int(v or 0)


def test_a_paid_order_is_delivered_once_over_two_passes(engine):
    deps, issuer, _ = world(engine)
    assert delivery.deliver_paid(deps, "w1") == 1
    assert delivery.deliver_paid(deps, "w1") == 0
    units, status, cases = state(engine)
    assert (units["u-0"], status, cases) == ("delivered", "delivered", [])
    assert issuer.inquire_balance("kyobo", "6107000000000000", None).status == "active"
    assert balance(engine, ledger.buyer_account("c-01")) == 0
    assert balance(engine, ledger.RESALE_INCOME) == -9_500
    assert balance(engine, ledger.COST_OF_SALES) == 9_000
    assert balance(engine, ledger.inventory_account("kyobo_gift")) == -9_000  # seeded raw
    shown = delivery.delivered_codes(deps, "c-01", "o-01")
    assert [(c.unit_id, c.code) for c in shown] == [("u-0", "6107000000000000")]
    assert "6107000000000000" not in repr(shown)


def test_a_spent_unit_is_withdrawn_replaced_and_its_seller_s_case_opened(engine):
    deps, issuer, _ = world(engine, stocked=2)
    issuer.vouchers["6107000000000000"].spent_by = "someone"
    assert delivery.deliver_paid(deps, "w1") == 1
    units, status, cases = state(engine)
    assert units == {"u-0": "withdrawn", "u-1": "delivered"} and status == "delivered"
    assert cases == [("resold_spent", "customer:c-00")]
    # the seller owes the spent voucher's cost and is held (blocked, audited)
    assert balance(engine, ledger.receivable_account("c-00")) == 9_000
    with engine.connect() as conn:
        blocks = conn.execute(
            select(t.blocks.c.kind, t.blocks.c.subject, t.blocks.c.blocked_by)
        ).all()
        audits = conn.execute(
            select(t.audit_log.c.actor, t.audit_log.c.subject).where(
                t.audit_log.c.action == "customer.block"
            )
        ).all()
    assert [tuple(b) for b in blocks] == [("customer", "c-00", "worker:w1")]
    assert [tuple(a) for a in audits] == [("worker:w1", "customer:c-00")]


def test_no_replacement_refunds_the_order_once(engine):
    deps, issuer, bank = world(engine)
    issuer.vouchers["6107000000000000"].spent_by = "someone"
    assert delivery.deliver_paid(deps, "w1") == 1
    assert delivery.deliver_paid(deps, "w1") == 0
    for _ in range(2):
        send_returns(deps.uow, bank, NOW)
    units, status, cases = state(engine)
    assert (units, status) == ({"u-0": "withdrawn"}, "refunded") and len(cases) == 1
    assert [r.outcome for r in bank.returns.values()] == ["returned"]
    assert bank.returned_twice() == 0
    assert balance(engine, ledger.buyer_account("c-01")) == 0


def test_an_issuer_timing_out_moves_nothing_until_the_next_pass(engine, monkeypatch):
    deps, issuer, _ = world(engine)
    answer = issuer.inquire_balance

    def down(*a):
        raise Unavailable("timeout")

    monkeypatch.setattr(issuer, "inquire_balance", down)
    assert delivery.deliver_paid(deps, "w1") == 0
    assert state(engine)[:2] == ({"u-0": "reserved"}, "paid")
    monkeypatch.setattr(issuer, "inquire_balance", answer)
    assert delivery.deliver_paid(deps, "w1") == 1
    assert state(engine)[:2] == ({"u-0": "delivered"}, "delivered")


def test_two_workers_at_once_deliver_each_unit_once(engine):
    deps, _, _ = world(engine, stocked=3, ordered=3)
    start = threading.Barrier(2)
    done: list[int] = []

    def work(name):
        start.wait()
        done.append(delivery.deliver_paid(deps, name))

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(done) == [0, 1]
    units, status, _ = state(engine)
    assert set(units.values()) == {"delivered"} and status == "delivered"
    assert balance(engine, ledger.RESALE_INCOME) == -3 * 9_500
