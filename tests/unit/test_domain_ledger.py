"""The ledger: posting rules, what a transfer may be, and what ``Ledger.post`` refuses."""

from __future__ import annotations

import copy
import inspect

import pytest

from giftcash.domain import ledger as L
from giftcash.domain.errors import (
    InvalidAccount,
    InvalidAmount,
    LiabilityBelowZero,
    TransferExists,
    UnbalancedTransfer,
)
from giftcash.domain.ledger import Ledger, Posting, Transfer

KRW = "KRW"


def redeem(tid: str = "t-redeem", face: int = 50_000, payout: int = 45_000, customer="c1"):
    return L.redemption(
        tid,
        issuer="cultureland",
        customer_id=customer,
        face=face,
        payout=payout,
        currency=KRW,
        ref="item-1",
    )


def pay(tid: str = "t-pay", amount: int = 45_000, customer: str = "c1") -> Transfer:
    return L.payout_sent(tid, customer_id=customer, amount=amount, currency=KRW, ref="payout-1")


def snapshot(ledger: Ledger) -> tuple:
    return copy.deepcopy((ledger.transfers, ledger.balances, ledger.reversed_ids))


def table(t: Transfer) -> dict[str, int]:
    return {p.account: p.amount for p in t.postings}


# -- posting rules --------------------------------------------------------------------

RULES = [
    redeem(),
    redeem("t-full", face=10_000, payout=10_000),
    pay(),
    L.payout_confirmed("t-conf", amount=45_000, currency=KRW, ref="payout-1"),
    L.payout_returned("t-ret", customer_id="c1", amount=45_000, currency=KRW, ref="payout-1"),
    L.bank_fee("t-fee", amount=400, currency=KRW, ref="payout-1"),
    L.issuer_settlement("t-set", issuer="cultureland", amount=50_000, currency=KRW, ref="s-1"),
    L.clawback(
        "t-claw", issuer="cultureland", customer_id="c1", amount=50_000, currency=KRW, ref="item-1"
    ),
    L.opening_balance("t-open", account=L.BANK_OPERATING, amount=1_000_000, currency=KRW),
    L.unmatched_capture("t-sus", issuer="cultureland", amount=1_000, currency=KRW, ref="item-1"),
    L.account_verification("t-1won", amount=1, currency=KRW, ref="bank-account-1"),
    L.payment_stop_settled(
        "t-stop", customer_id="c1", stop_id="stop-1", amount=45_000, currency=KRW, ref="item-1"
    ),
    L.stocking(
        "t-stock", brand_id="kyobo_gift", customer_id="c1", cost=27_000, currency=KRW, ref="i-2"
    ),
    L.order_paid("t-order", customer_id="c2", amount=9_500, currency=KRW, ref="o-1"),
    L.resale_sale("t-sale", customer_id="c2", price=9_500, currency=KRW, ref="u-1"),
    L.cost_of_sale("t-cost", brand_id="kyobo_gift", cost=9_000, currency=KRW, ref="u-1"),
    L.order_refunded("t-refund", customer_id="c2", amount=9_500, currency=KRW, ref="o-1"),
    L.claim_refund(
        "t-claim", customer_id="c2", amount=9_500, currency=KRW, ref="cl-1", by_payout=False
    ),
    L.resale_clawback("t-back", customer_id="c1", cost=9_000, currency=KRW, ref="cl-1"),
    L.receivable_netted("t-net", customer_id="c1", amount=9_000, currency=KRW, ref="payout-2"),
]


TESTED_RULES = {
    "redemption",
    "payout_sent",
    "payout_confirmed",
    "payout_returned",
    "bank_fee",
    "issuer_settlement",
    "clawback",
    "opening_balance",
    "unmatched_capture",
    "account_verification",
    "payment_stop_settled",
    "stocking",
    "order_paid",
    "resale_sale",
    "cost_of_sale",
    "order_refunded",
    "claim_refund",
    "resale_clawback",
    "receivable_netted",
}


def test_the_order_paid_entry() -> None:
    paid = L.order_paid("t", customer_id="c2", amount=9_500, currency=KRW, ref="o-1")
    assert table(paid) == {"assets:bank:clearing": 9_500, "liabilities:buyer:c2": -9_500}


def test_the_delivery_and_refund_entries() -> None:
    sale = L.resale_sale("t", customer_id="c2", price=9_500, currency=KRW, ref="u-1")
    assert table(sale) == {"liabilities:buyer:c2": 9_500, "income:resale": -9_500}
    cost = L.cost_of_sale("t", brand_id="kyobo_gift", cost=9_000, currency=KRW, ref="u-1")
    assert table(cost) == {"expenses:cost-of-sales": 9_000, "assets:inventory:kyobo_gift": -9_000}
    back = L.order_refunded("t", customer_id="c2", amount=9_500, currency=KRW, ref="o-1")
    assert table(back) == {"liabilities:buyer:c2": 9_500, "assets:bank:clearing": -9_500}
    # paid, then delivered or refunded: the buyer's liability ends at zero either way
    paid = L.order_paid("p", customer_id="c2", amount=9_500, currency=KRW, ref="o-1")
    for ending in (sale, back):
        assert L.balances_from([paid, ending])[("liabilities:buyer:c2", KRW)] == 0


def test_a_claim_refunded_undoes_the_sale_and_the_seller_owes_its_cost() -> None:
    paid = L.order_paid("p", customer_id="c2", amount=9_500, currency=KRW, ref="o-1")
    sale = L.resale_sale("s", customer_id="c2", price=9_500, currency=KRW, ref="o-1")
    cost = L.cost_of_sale("c", brand_id="kyobo_gift", cost=9_000, currency=KRW, ref="u-1")
    refund = L.claim_refund(
        "r", customer_id="c2", amount=9_500, currency=KRW, ref="cl-1", by_payout=True
    )
    assert table(refund) == {"income:resale-refunds": 9_500, "liabilities:customer:c2": -9_500}
    back = L.resale_clawback("b", customer_id="c1", cost=9_000, currency=KRW, ref="cl-1")
    assert table(back) == {"assets:receivable:customer:c1": 9_000, "expenses:cost-of-sales": -9_000}
    b = L.balances_from([paid, sale, cost, refund, back])
    assert b[("expenses:cost-of-sales", KRW)] == 0  # the cost moved to the seller's debt
    assert b[("income:resale", KRW)] + b[("income:resale-refunds", KRW)] == 0
    assert b[("liabilities:customer:c2", KRW)] == -9_500  # owed to the buyer, to be paid out
    by_return = L.claim_refund(
        "r2", customer_id="c2", amount=9_500, currency=KRW, ref="cl-1", by_payout=False
    )
    assert table(by_return)["liabilities:buyer:c2"] == -9_500
    net = L.receivable_netted("n", customer_id="c1", amount=9_000, currency=KRW, ref="p-1")
    assert table(net) == {"liabilities:customer:c1": 9_000, "assets:receivable:customer:c1": -9_000}


def test_every_posting_rule_is_in_the_list_above() -> None:
    # a new rule in ledger.py must join RULES (and this set) to be checked
    rules = {
        name
        for name, f in inspect.getmembers(L, inspect.isfunction)
        if f.__module__ == L.__name__
        and not name.startswith("_")
        and inspect.signature(f).return_annotation in ("Transfer", Transfer)
        and name != "reversal"
    }
    assert rules == TESTED_RULES
    assert len({t.kind for t in RULES}) == len(TESTED_RULES)


@pytest.mark.parametrize("t", RULES, ids=lambda t: t.kind + ":" + t.id)
def test_every_posting_rule_balances(t: Transfer) -> None:
    assert sum(p.amount for p in t.postings) == 0
    assert L.transfer_violations(t) == []
    assert all(p.amount != 0 for p in t.postings)


def test_the_redemption_entry() -> None:
    assert table(redeem()) == {
        "assets:issuer:cultureland": 50_000,
        "liabilities:customer:c1": -45_000,
        "income:margin": -5_000,
    }
    assert redeem().kind == "redemption"
    assert redeem().ref == "item-1"


def test_a_redemption_at_full_face_has_no_margin_leg() -> None:
    assert table(redeem(face=10_000, payout=10_000)) == {
        "assets:issuer:cultureland": 10_000,
        "liabilities:customer:c1": -10_000,
    }


def test_the_payout_entries() -> None:
    assert table(pay()) == {"liabilities:customer:c1": 45_000, "assets:bank:clearing": -45_000}
    confirmed = L.payout_confirmed("t", amount=45_000, currency=KRW, ref="p")
    assert table(confirmed) == {"assets:bank:clearing": 45_000, "assets:bank:operating": -45_000}
    returned = L.payout_returned("t", customer_id="c1", amount=45_000, currency=KRW, ref="p")
    assert table(returned) == {"assets:bank:clearing": 45_000, "liabilities:customer:c1": -45_000}


@pytest.mark.parametrize(("face", "payout"), [(50_000, 50_001), (50_000, 0), (50_000, -1), (0, 0)])
def test_a_redemption_pays_something_and_at_most_the_face_value(face: int, payout: int) -> None:
    with pytest.raises(InvalidAmount):
        redeem(face=face, payout=payout)


@pytest.mark.parametrize("amount", [0, -1, True, 1.5])
def test_the_other_rules_need_a_positive_integer(amount: object) -> None:
    with pytest.raises(InvalidAmount):
        pay(amount=amount)  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount):
        L.bank_fee("t", amount=amount, currency=KRW, ref="p")  # type: ignore[arg-type]


# -- what a transfer may be -----------------------------------------------------------


def _transfer(*postings: tuple[str, object], currency: str = KRW) -> Transfer:
    return Transfer(
        id="t-bad",
        currency=currency,
        postings=tuple(Posting(a, n) for a, n in postings),  # type: ignore[arg-type]
        kind="test",
    )


@pytest.mark.parametrize(
    ("postings", "currency", "rule"),
    [
        ((("assets:bank:operating", 100), ("income:margin", -99)), KRW, "balance"),
        ((("assets:bank:operating", 0),), KRW, "postings"),
        ((("assets:bank:operating", 100),), KRW, "postings"),
        ((), KRW, "postings"),
        ((("assets:bank:operating", 0), ("income:margin", 0)), KRW, "amount"),
        ((("assets:bank:operating", 100), ("assets:bank:operating", -100)), KRW, "postings"),
        ((("assets:bank:operating", 1.0), ("income:margin", -1.0)), KRW, "amount"),
        ((("assets:bank:operating", True), ("income:margin", -1)), KRW, "amount"),
        ((("assets:bank:operating", 100), ("income:margin", -100)), "XYZ", "currency"),
    ],
    ids=[
        "unbalanced",
        "single-zero",
        "single",
        "empty",
        "zero-amounts",
        "duplicate-account",
        "float",
        "bool",
        "currency",
    ],
)
def test_malformed_transfers_are_refused(postings, currency, rule) -> None:
    with pytest.raises(UnbalancedTransfer) as caught:
        _transfer(*postings, currency=currency)
    assert caught.value.code == "unbalanced_transfer"
    assert caught.value.context == {"transfer_id": "t-bad"}
    bare = object.__new__(Transfer)  # the same content, past the constructor, for its rules
    for name, value in (("id", "t-bad"), ("currency", currency), ("kind", "test")):
        object.__setattr__(bare, name, value)
    object.__setattr__(bare, "postings", tuple(Posting(a, n) for a, n in postings))
    assert rule in {v.rule for v in L.transfer_violations(bare)}


@pytest.mark.parametrize(
    "account",
    [
        "assets",
        "cash:bank",
        "Assets:bank",
        "assets:Bank",
        "assets::bank",
        "assets:bank:",
        "assets:-bank",
        "assets:bank clearing",
        "assets:bank\n",  # "$" in a regex matches before a final newline
        "liabilities:customer:c1\n",
        "",
    ],
)
def test_bad_accounts_are_refused(account: str) -> None:
    with pytest.raises(InvalidAccount) as caught:
        L.validate_account(account)
    assert caught.value.code == "invalid_account"
    with pytest.raises(UnbalancedTransfer):
        _transfer((account, 100), ("income:margin", -100))


def test_account_names() -> None:
    assert L.account_type("assets:bank:operating") is L.AccountType.ASSETS
    assert L.customer_account("01J9ZK") == "liabilities:customer:01j9zk"
    assert L.issuer_account("cultureland") == "assets:issuer:cultureland"
    assert L.receivable_account("c1") == "assets:receivable:customer:c1"
    assert L.must_stay_credit("liabilities:customer:c1")
    assert L.must_stay_credit(L.buyer_account("c1"))
    assert not L.must_stay_credit("liabilities:other")


@pytest.mark.parametrize("bad_id", ["a:b", "", "-x", "a b", "c1\n", "가"])
def test_ids_that_cannot_name_an_account(bad_id: str) -> None:
    with pytest.raises(InvalidAccount):
        L.customer_account(bad_id)
    with pytest.raises(InvalidAccount):
        L.issuer_account(bad_id)


# -- reversal -------------------------------------------------------------------------


def test_a_reversal_negates_every_posting() -> None:
    original = redeem()
    back = L.reversal(original, "t-back", memo="issuer reversed it")
    assert table(back) == {a: -n for a, n in table(original).items()}
    assert (back.kind, back.reverses, back.ref, back.currency) == (
        "reversal",
        original.id,
        original.ref,
        KRW,
    )
    assert L.balances_from([original, back]) == {k: 0 for k in L.balances_from([original])}


# -- Ledger.post ----------------------------------------------------------------------


def test_a_whole_payout_cycle() -> None:
    ledger = Ledger()
    for t in (
        redeem(),
        pay(),
        L.payout_confirmed("t-conf", amount=45_000, currency=KRW, ref="p"),
        L.bank_fee("t-fee", amount=400, currency=KRW, ref="p"),
    ):
        assert ledger.post(t) is True
    assert L.nonzero(ledger.balances) == {
        ("assets:issuer:cultureland", KRW): 50_000,
        ("income:margin", KRW): -5_000,
        ("assets:bank:operating", KRW): -45_400,
        ("expenses:bank-fees", KRW): 400,
    }
    assert ledger.balance("liabilities:customer:c1", KRW) == 0
    assert ledger.balance("assets:bank:clearing", KRW) == 0
    assert ledger.violations() == []


def test_posting_the_same_transfer_again_changes_nothing() -> None:
    ledger = Ledger()
    assert ledger.post(redeem()) is True
    before = snapshot(ledger)
    assert ledger.post(redeem()) is False
    again = L.redemption(
        "t-redeem",
        issuer="CultureLand",
        customer_id="C1",
        face=50_000,
        payout=45_000,
        currency=KRW,
        ref="item-1",
    )
    assert ledger.post(again) is False  # the same accounts, named in another case
    assert snapshot(ledger) == before


def test_the_memo_is_not_part_of_the_content() -> None:
    ledger = Ledger()
    original = redeem()
    ledger.post(original)
    back = L.reversal(original, "t-back", memo="first")
    assert ledger.post(back) is True
    assert ledger.post(L.reversal(original, "t-back", memo="second")) is False


@pytest.mark.parametrize(
    "changed",
    [
        redeem(payout=44_000),
        redeem(customer="c2"),
        L.redemption(
            "t-redeem",
            issuer="cultureland",
            customer_id="c1",
            face=50_000,
            payout=45_000,
            currency="JPY",
            ref="item-1",
        ),
        L.redemption(
            "t-redeem",
            issuer="cultureland",
            customer_id="c1",
            face=50_000,
            payout=45_000,
            currency=KRW,
            ref="item-2",
        ),
    ],
    ids=["amount", "customer", "currency", "ref"],
)
def test_the_same_id_with_other_content_is_refused(changed: Transfer) -> None:
    ledger = Ledger()
    ledger.post(redeem())
    before = snapshot(ledger)
    with pytest.raises(TransferExists) as caught:
        ledger.post(changed)
    assert caught.value.code == "transfer_exists"
    assert caught.value.kind == "conflict"
    assert snapshot(ledger) == before


def test_a_transfer_is_reversed_once() -> None:
    ledger = Ledger()
    original = redeem()
    ledger.post(original)
    assert ledger.post(L.reversal(original, "t-back-1")) is True
    before = snapshot(ledger)
    with pytest.raises(TransferExists):
        ledger.post(L.reversal(original, "t-back-2"))
    assert snapshot(ledger) == before
    assert ledger.balance("liabilities:customer:c1", KRW) == 0
    assert ledger.violations() == []


def test_a_reversal_can_itself_be_reversed() -> None:
    ledger = Ledger()
    original = redeem()
    ledger.post(original)
    back = L.reversal(original, "t-back")
    ledger.post(back)
    assert ledger.post(L.reversal(back, "t-back-back")) is True
    assert ledger.balance("liabilities:customer:c1", KRW) == -45_000


def test_reversing_an_unknown_transfer_is_refused() -> None:
    ledger = Ledger()
    before = snapshot(ledger)
    with pytest.raises(UnbalancedTransfer):
        ledger.post(L.reversal(redeem(), "t-back"))
    assert snapshot(ledger) == before


def test_paying_more_than_is_owed_is_refused_and_changes_nothing() -> None:
    ledger = Ledger()
    ledger.post(redeem())
    ledger.post(pay("t-pay-1", amount=40_000))
    before = snapshot(ledger)
    with pytest.raises(LiabilityBelowZero) as caught:
        ledger.post(pay("t-pay-2", amount=5_001))
    assert caught.value.code == "liability_below_zero"
    assert caught.value.context["account"] == "liabilities:customer:c1"
    assert snapshot(ledger) == before
    assert ledger.post(pay("t-pay-2", amount=5_000)) is True  # the id is still free
    assert ledger.balance("liabilities:customer:c1", KRW) == 0


def test_paying_a_customer_nobody_owes_is_refused() -> None:
    ledger = Ledger()
    ledger.post(redeem(customer="c1"))
    with pytest.raises(LiabilityBelowZero):
        ledger.post(pay(customer="c2", amount=1))
    assert ledger.balance("liabilities:customer:c2", KRW) == 0


def test_reversing_a_redemption_already_paid_out_is_refused() -> None:
    ledger = Ledger()
    original = redeem()
    ledger.post(original)
    ledger.post(pay())
    before = snapshot(ledger)
    with pytest.raises(LiabilityBelowZero):
        ledger.post(L.reversal(original, "t-back"))
    assert snapshot(ledger) == before
    assert "t-redeem" not in ledger.reversed_ids


def test_apply_leaves_its_input_alone() -> None:
    balances = {("liabilities:customer:c1", KRW): -100}
    kept = dict(balances)
    with pytest.raises(LiabilityBelowZero):
        L.apply(balances, pay(amount=101))
    assert balances == kept
    assert L.apply(balances, pay(amount=100))[("liabilities:customer:c1", KRW)] == 0
    assert balances == kept


# -- invariants -----------------------------------------------------------------------


def test_violations_find_tampered_balances() -> None:
    ledger = Ledger()
    ledger.post(redeem())
    ledger.balances[("income:margin", KRW)] -= 1
    rules = {v.rule for v in ledger.violations()}
    assert rules == {"zero_sum", "replay"}


def test_violations_find_a_customer_liability_that_became_a_debit() -> None:
    found = L.balance_violations(
        {("liabilities:customer:c1", KRW): 10, ("assets:bank:clearing", KRW): -10}
    )
    assert [(v.rule, v.subject) for v in found] == [("liability_floor", "liabilities:customer:c1")]


def test_zero_sum_is_per_currency() -> None:
    found = L.balance_violations(
        {("assets:bank:operating", KRW): 10, ("income:margin", "USD"): -10}
    )
    assert sorted(v.subject for v in found) == ["KRW", "USD"]


# -- resale: stocking ------------------------------------------------------------------


def stock(tid: str = "t-stock", cost: int = 27_000, customer: str = "c1") -> Transfer:
    return L.stocking(
        tid, brand_id="kyobo_gift", customer_id=customer, cost=cost, currency=KRW, ref="item-2"
    )


def test_the_stocking_entry_puts_the_voucher_in_inventory_at_what_its_seller_is_owed() -> None:
    assert table(stock()) == {
        "assets:inventory:kyobo_gift": 27_000,
        "liabilities:customer:c1": -27_000,
    }
    assert L.account_type(L.inventory_account("kyobo_gift")) is L.AccountType.ASSETS


def test_a_stocked_voucher_is_paid_like_a_redeemed_one_and_stays_in_inventory() -> None:
    books = Ledger()
    assert books.post(stock())
    assert books.post(pay(amount=27_000))
    assert books.balance("liabilities:customer:c1", KRW) == 0
    assert books.balance("assets:inventory:kyobo_gift", KRW) == 27_000
    assert books.balance(L.BANK_CLEARING, KRW) == -27_000
    assert books.violations() == []


def test_a_seller_is_never_paid_more_than_a_stocked_voucher_cost() -> None:
    books = Ledger()
    books.post(stock(cost=27_000))
    with pytest.raises(LiabilityBelowZero):
        books.post(pay(amount=27_001))


@pytest.mark.parametrize("cost", [0, -1, 1.5, None])
def test_stocking_needs_a_positive_integer_cost(cost: object) -> None:
    with pytest.raises(InvalidAmount):
        stock(cost=cost)  # type: ignore[arg-type]


def test_an_inventory_account_is_named_by_a_brand_id_only() -> None:
    with pytest.raises(InvalidAccount):
        L.inventory_account("kyobo:gift")
