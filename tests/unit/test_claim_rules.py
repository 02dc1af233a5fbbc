"""The buyer's guarantee as rules (domain/claims.py) and over the in-memory unit of work
(resale/claims.py): spent before delivery is refunded, at or after it refused, anything
else reviewed; the window is the setting's days after delivery; a refund undoes the sale,
books the seller's debt, holds the seller and opens a case, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_delivery_rules import CODE, paid_world

from giftcash.domain import ledger
from giftcash.domain.claims import (
    ClaimVerdict,
    ClaimWindowClosed,
    IssuerFacts,
    judge_claim,
    window_open,
)
from giftcash.domain.states import CLAIM_TERMINAL, ClaimStatus, UnitStatus, allows
from giftcash.resale import claims, delivery

DELIVERED = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("status", "used_at", "verdict"),
    [
        ("used", DELIVERED - HOUR, ClaimVerdict.REFUND),  # the seller's, before us
        ("used", DELIVERED, ClaimVerdict.REFUSE),  # the very moment it was delivered
        ("used", DELIVERED + HOUR, ClaimVerdict.REFUSE),  # the buyer had it
        ("used", None, ClaimVerdict.REVIEW),  # spent, but the issuer gives no time
        ("active", None, ClaimVerdict.REVIEW),  # the issuer says it works
        ("not_found", None, ClaimVerdict.REVIEW),
        ("expired", None, ClaimVerdict.REVIEW),
        ("no_inquiry", None, ClaimVerdict.REVIEW),
    ],
)
def test_the_issuers_time_of_spending_against_delivery(status, used_at, verdict):
    assert judge_claim(IssuerFacts(status, used_at, "CU"), DELIVERED) is verdict


@given(st.integers(min_value=-(10**7), max_value=10**7))
def test_only_a_spending_before_delivery_refunds(offset_s: int):
    used = DELIVERED + timedelta(seconds=offset_s)
    verdict = judge_claim(IssuerFacts("used", used, None), DELIVERED)
    assert (verdict is ClaimVerdict.REFUND) == (offset_s < 0)
    assert verdict is not ClaimVerdict.REVIEW


def test_the_window_is_whole_days_after_delivery():
    assert window_open(DELIVERED, DELIVERED, 30)
    assert window_open(DELIVERED, DELIVERED + timedelta(days=30), 30)
    assert not window_open(DELIVERED, DELIVERED + timedelta(days=30, seconds=1), 30)
    with pytest.raises(AssertionError):
        window_open(DELIVERED, DELIVERED, 0)


def test_the_claim_and_unit_tables():
    assert CLAIM_TERMINAL == {ClaimStatus.REFUNDED, ClaimStatus.REFUSED}
    assert allows(ClaimStatus.REVIEW, ClaimStatus.REFUNDED)
    assert not allows(ClaimStatus.REFUNDED, ClaimStatus.REFUSED)
    assert allows(UnitStatus.DELIVERED, UnitStatus.CLAIMED)
    assert allows(UnitStatus.CLAIMED, UnitStatus.REFUNDED)
    assert not allows(UnitStatus.DELIVERED, UnitStatus.REFUNDED)  # always through claimed


def delivered_world():
    w, bank = paid_world()
    assert delivery.deliver_paid(w.deps, "w1") == 1
    w.clock.advance(3_600)
    return w, bank


def spend(w, at: datetime) -> None:
    v = w.issuer.vouchers[CODE]
    v.spent_by, v.used_at, v.used_where = "shop", at, "GS25"


def test_a_refund_undoes_the_sale_books_the_debt_holds_the_seller_once():
    w, _ = delivered_world()
    delivered_at = w.db.orders["o-1"].delivered_at
    assert delivered_at is not None
    spend(w, delivered_at - HOUR)
    filed = claims.file_claim(w.deps, "c-1", "o-1", "u-0", "doesn't work")
    assert filed.created and filed.claim.status == "refunded"
    assert filed.claim.refund == "deposit_return"
    again = claims.file_claim(w.deps, "c-1", "o-1", "u-0", None)
    assert not again.created and again.claim == filed.claim

    kinds = sorted(t.kind for t in w.db.transfers.values())
    assert kinds.count("claim_refund") == kinds.count("resale_clawback") == 1
    books = ledger.Ledger()
    for t in w.db.transfers.values():  # in the order they were posted
        assert books.post(t)
    assert books.violations() == []
    assert books.balance(ledger.receivable_account("seller-1"), "KRW") == 9_000
    assert books.balance(ledger.buyer_account("c-1"), "KRW") == 0
    assert [d.status for d in w.db.order_deposits] == ["returning"]
    assert w.db.inventory["i-0"].status == "refunded"
    assert ("customer", "seller-1") in w.db.blocks
    (case,) = w.db.cases.values()
    assert (case["kind"], case["subject"]) == ("resold_spent", "customer:seller-1")


def test_refused_and_review_move_no_money_and_hold_nobody():
    w, _ = delivered_world()
    before = dict(w.db.transfers)
    assert claims.file_claim(w.deps, "c-1", "o-1", "u-0", None).claim.status == "review"
    assert w.db.inventory["i-0"].status == "claimed"
    assert w.db.transfers == before and w.db.blocks == {} and w.db.cases == {}

    w2, _ = delivered_world()
    delivered_at = w2.db.orders["o-1"].delivered_at
    assert delivered_at is not None
    spend(w2, delivered_at + HOUR)
    refused = claims.file_claim(w2.deps, "c-1", "o-1", "u-0", None).claim
    assert (refused.status, refused.used_where) == ("refused", "GS25")
    assert w2.db.inventory["i-0"].status == "upheld" and w2.db.blocks == {}


def test_late_or_undelivered_claims_are_refused_and_nothing_is_recorded():
    w, _ = paid_world()
    with pytest.raises(claims.NotDelivered):
        claims.file_claim(w.deps, "c-1", "o-1", "u-0", None)
    assert delivery.deliver_paid(w.deps, "w1") == 1
    w.clock.advance(31 * 86_400)
    with pytest.raises(ClaimWindowClosed):
        claims.file_claim(w.deps, "c-1", "o-1", "u-0", None)
    assert w.db.claims == {}
