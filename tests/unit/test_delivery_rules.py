"""Delivery of paid orders over the in-memory unit of work and the fake issuer: a unit is
delivered only after the issuer says it is whole, once; a spent one is withdrawn and its
seller's case opened; with no replacement the kept deposit is queued to go back once;
an issuer that does not answer moves nothing; the codes are shown to their buyer only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fakes import FakeVirtualAccounts
from fakes_uow import FakeWorld
from giftcash.domain import ledger
from giftcash.domain.errors import DomainError
from giftcash.resale import delivery
from giftcash.resale.deposits import take_deposit
from giftcash.resale.worker import send_returns
from giftcash.service.ports import Ambiguous
from giftcash.service.ports.records import InventoryUnit, Order

CODE = "6107000000000001"


def paid_world(stocked: int = 1) -> tuple[FakeWorld, FakeVirtualAccounts]:
    w = FakeWorld()
    now = w.clock.now()
    vault = w.deps.vault
    for n in range(stocked):
        code = CODE[:-1] + str(n + 1)
        enc, key = vault.encrypt(code, f"i-{n}")
        w.db.items[f"i-{n}"] = {
            "customer_id": "seller-1", "issuer": "kyobo", "masked_code": "****",
            "code_enc": enc, "pin_enc": None, "key_id": key,
        }  # fmt: skip
        w.db.inventory[f"i-{n}"] = InventoryUnit(
            f"u-{n}", f"i-{n}", "kyobo_gift", "KRW", 10_000, 9_000, now + timedelta(days=300),
            "reserved" if n == 0 else "stocked", now,
        )  # fmt: skip
        w.issuer.sell("kyobo", code, 10_000)
    w.db.unit_orders["u-0"] = "o-1"
    bank = FakeVirtualAccounts(clock=w.clock)
    va = bank.issue("o-1", 9_500, "giftcash", now + timedelta(hours=1))
    w.db.orders["o-1"] = Order(
        "o-1", "c-1", "kyobo_gift", "KRW", 10_000, 1, 9_500, "awaiting_payment",
        now + timedelta(hours=1), "va-o-1", va.account_number, va.account_number, now,
    )  # fmt: skip
    notice = bank.pay(va.account_number, 9_500, "홍길동")
    with w.deps.uow() as uow:
        assert take_deposit(uow, "o-1", "홍길동", notice.deposit, now).kept
        uow.commit()
    w.deps.virtual_accounts = bank
    return w, bank


def statuses(w: FakeWorld) -> dict[str, str]:
    return {u.id: u.status for u in w.db.inventory.values()}


def test_a_whole_unit_is_delivered_once_with_its_books():
    w, _ = paid_world()
    assert delivery.deliver_paid(w.deps, "w1") == 1
    assert delivery.deliver_paid(w.deps, "w1") == 0
    assert statuses(w) == {"u-0": "delivered"} and w.db.orders["o-1"].status == "delivered"
    kinds = sorted(t.kind for t in w.db.transfers.values())
    assert kinds == ["cost_of_sale", "order_paid", "resale_sale"]
    assert w.issuer.vouchers[CODE].spent_by is None  # asked, never redeemed


def test_a_spent_unit_is_withdrawn_and_replaced_and_its_seller_s_case_opened():
    w, _ = paid_world(stocked=2)
    w.issuer.vouchers[CODE].spent_by = "elsewhere"
    assert delivery.deliver_paid(w.deps, "w1") == 1
    assert statuses(w) == {"u-0": "withdrawn", "u-1": "delivered"}
    (case,) = w.db.cases.values()
    assert (case["kind"], case["subject"]) == ("resold_spent", "customer:seller-1")
    assert [e.key for *_, e in w.db.case_evidence] == ["unit:u-0"]
    gone = w.db.transfers["withdrawn:u-0"]  # its cost is now its seller's to repay
    assert {p.account: p.amount for p in gone.postings} == {
        ledger.receivable_account("seller-1"): 9_000,
        ledger.inventory_account("kyobo_gift"): -9_000,
    }


def test_with_no_replacement_the_deposit_goes_back_once():
    w, bank = paid_world()
    w.issuer.vouchers[CODE].spent_by = "elsewhere"
    assert delivery.deliver_paid(w.deps, "w1") == 1
    assert delivery.deliver_paid(w.deps, "w1") == 0
    (d,) = w.db.order_deposits
    assert (d.status, d.return_reason) == ("returning", "not_delivered")
    for _ in range(2):
        send_returns(w.deps.uow, bank, w.clock.now())
    assert w.db.order_deposits[0].status == "returned"
    assert [r.outcome for r in bank.returns.values()] == ["returned"]
    assert w.db.orders["o-1"].status == "refunded"
    refund = w.db.transfers["order-refund-o-1"]
    assert {p.account: p.amount for p in refund.postings} == {
        ledger.buyer_account("c-1"): 9_500,
        ledger.BANK_CLEARING: -9_500,
    }


def test_an_issuer_that_does_not_answer_moves_nothing(monkeypatch):
    w, _ = paid_world()

    def lost(*a: object) -> None:
        raise Ambiguous("timeout")

    monkeypatch.setattr(w.issuer, "inquire_balance", lost)
    assert delivery.deliver_paid(w.deps, "w1") == 0
    assert statuses(w) == {"u-0": "reserved"} and w.db.orders["o-1"].status == "paid"
    monkeypatch.undo()
    assert delivery.deliver_paid(w.deps, "w1") == 1


def test_the_codes_are_shown_to_their_buyer_only_and_the_reveal_recorded():
    w, _ = paid_world()
    delivery.deliver_paid(w.deps, "w1")
    (shown,) = delivery.delivered_codes(w.deps, "c-1", "o-1")
    assert (shown.unit_id, shown.code, shown.pin) == ("u-0", CODE, None)
    assert CODE not in repr(shown)
    with pytest.raises(DomainError) as e:
        delivery.delivered_codes(w.deps, "c-2", "o-1")
    assert e.value.code == "order_not_found"
    reveals = [a for a in w.db.audit if a.action == "order.codes_revealed"]
    assert len(reveals) == 1 and CODE not in str(reveals[0])
