"""Random sequences of the exchange's ledger operations, checked after every step:

- every currency sums to zero;
- no customer liability is a debit (we never owe a customer less than nothing);
- the balances are the replay of the posted transfers (``balances_from``);
- an operation that raised left the ledger exactly as it was;
- each operation succeeds or fails exactly as an independent oracle predicts, so the
  ledger neither accepts what it must refuse nor refuses what it must accept.

Once as a plain hypothesis test over a drawn script, once as a ``RuleBasedStateMachine``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from giftcash.domain import ledger as L
from giftcash.domain.errors import (
    DomainError,
    InvalidAmount,
    LiabilityBelowZero,
    TransferExists,
)
from giftcash.domain.ledger import Ledger, Posting, Transfer

PROPERTY = settings(deadline=None)

CUSTOMERS = ("c1", "c2", "c3")
CURRENCIES = ("KRW", "USD")
ISSUERS = ("cultureland", "google")
BRANDS = ("kyobo_gift", "starbucks_coupon")  # resold: stocked at cost, not redeemed

customers = st.sampled_from(CUSTOMERS)
currencies = st.sampled_from(CURRENCIES)
issuers = st.sampled_from(ISSUERS)
brands = st.sampled_from(BRANDS)
amounts = st.integers(min_value=-2, max_value=2_000_000)


# -- checks ---------------------------------------------------------------------------


def check_invariants(ledger: Ledger) -> None:
    totals: dict[str, int] = {}
    for (account, currency), amount in ledger.balances.items():
        totals[currency] = totals.get(currency, 0) + amount
        if L.must_stay_credit(account):
            assert amount <= 0, f"{account} is a debit of {amount}"
    assert all(total == 0 for total in totals.values()), totals
    assert L.nonzero(ledger.balances) == L.nonzero(L.balances_from(ledger.transfers.values()))
    assert ledger.reversed_ids <= set(ledger.transfers)
    assert ledger.violations() == []


def snapshot(ledger: Ledger) -> tuple:
    return copy.deepcopy((ledger.transfers, ledger.balances, ledger.reversed_ids))


def owed(ledger: Ledger, customer: str, currency: str) -> int:
    return -ledger.balance(L.customer_account(customer), currency)


def reversal_error(ledger: Ledger, target: Transfer) -> type[DomainError] | None:
    """The oracle for reversing ``target``: what must go wrong, if anything."""
    if target.id in ledger.reversed_ids:
        return TransferExists
    for p in target.postings:
        after = ledger.balance(p.account, target.currency) - p.amount
        if L.must_stay_credit(p.account) and after > 0:
            return LiabilityBelowZero
    return None


@dataclass
class Outcome:
    posted: Transfer | None = None
    error: DomainError | None = None


def attempt(ledger: Ledger, make: Callable[[], Transfer]) -> Outcome:
    """Build and post a transfer; on a refusal, prove the ledger did not move."""
    before = snapshot(ledger)
    try:
        t = make()
        fresh = ledger.post(t)
    except DomainError as e:
        assert snapshot(ledger) == before, f"{e.code} left the ledger changed"
        return Outcome(error=e)
    if not fresh:
        assert snapshot(ledger) == before, "an idempotent replay changed the ledger"
        return Outcome()
    old_transfers, old_balances, _ = before
    assert set(ledger.transfers) == set(old_transfers) | {t.id}
    expected = dict(old_balances)
    for p in t.postings:
        key = (p.account, t.currency)
        expected[key] = expected.get(key, 0) + p.amount
    assert L.nonzero(ledger.balances) == L.nonzero(expected)
    return Outcome(posted=t)


def expect(outcome: Outcome, error: type[DomainError] | None) -> None:
    if error is None:
        assert outcome.error is None, f"refused what must be accepted: {outcome.error!r}"
    else:
        assert isinstance(outcome.error, error), f"expected {error.__name__}, got {outcome}"


# -- the operations -------------------------------------------------------------------


class Exchange:
    """The ledger plus the ids and history that the operations need."""

    def __init__(self) -> None:
        self.ledger = Ledger()
        self.posted: list[Transfer] = []
        self.next_id = 0

    def new_id(self) -> str:
        self.next_id += 1
        return f"t{self.next_id}"

    def run(self, make: Callable[[], Transfer], error: type[DomainError] | None) -> Outcome:
        outcome = attempt(self.ledger, make)
        expect(outcome, error)
        if outcome.posted is not None:
            self.posted.append(outcome.posted)
        check_invariants(self.ledger)
        return outcome

    def redeem(self, customer: str, currency: str, issuer: str, face: int, payout: int) -> None:
        tid = self.new_id()
        self.run(
            lambda: L.redemption(
                tid,
                issuer=issuer,
                customer_id=customer,
                face=face,
                payout=payout,
                currency=currency,
                ref=f"item-{tid}",
            ),
            None if 0 < payout <= face else InvalidAmount,
        )

    def stock(self, customer: str, currency: str, brand: str, cost: int) -> None:
        tid = self.new_id()
        self.run(
            lambda: L.stocking(
                tid,
                brand_id=brand,
                customer_id=customer,
                cost=cost,
                currency=currency,
                ref=f"item-{tid}",
            ),
            None if cost > 0 else InvalidAmount,
        )

    def withdraw(self, customer: str, currency: str, brand: str, cost: int) -> None:
        """A stocked unit found spent: its cost becomes its seller's receivable."""
        tid = self.new_id()
        self.run(
            lambda: L.unit_withdrawn(
                tid,
                brand_id=brand,
                seller_id=customer,
                cost=cost,
                currency=currency,
                ref=f"unit-{tid}",
            ),
            None if cost > 0 else InvalidAmount,
        )

    def pay(self, customer: str, currency: str, amount: int) -> None:
        tid = self.new_id()
        error: type[DomainError] | None = None
        if amount <= 0:
            error = InvalidAmount
        elif amount > owed(self.ledger, customer, currency):
            error = LiabilityBelowZero
        self.run(
            lambda: L.payout_sent(
                tid, customer_id=customer, amount=amount, currency=currency, ref="p"
            ),
            error,
        )

    def confirm(self, currency: str, amount: int) -> None:
        tid = self.new_id()
        self.run(
            lambda: L.payout_confirmed(tid, amount=amount, currency=currency, ref="p"),
            None if amount > 0 else InvalidAmount,
        )

    def return_(self, customer: str, currency: str, amount: int) -> None:
        tid = self.new_id()
        self.run(
            lambda: L.payout_returned(
                tid, customer_id=customer, amount=amount, currency=currency, ref="p"
            ),
            None if amount > 0 else InvalidAmount,
        )

    def bank_fee(self, currency: str, amount: int) -> None:
        tid = self.new_id()
        self.run(
            lambda: L.bank_fee(tid, amount=amount, currency=currency, ref="p"),
            None if amount > 0 else InvalidAmount,
        )

    def reverse(self, index: int) -> None:
        target = self.posted[index % len(self.posted)]
        tid = self.new_id()
        self.run(lambda: L.reversal(target, tid), reversal_error(self.ledger, target))

    def repost(self, index: int) -> None:
        target = self.posted[index % len(self.posted)]
        outcome = self.run(lambda: target, None)
        assert outcome.posted is None  # the same transfer again: accepted, not posted twice

    def conflict(self, index: int, amount: int) -> None:
        """Reuse an id for other content: refused whatever else is true."""
        target = self.posted[index % len(self.posted)]
        amount = max(amount, 1)
        other = Transfer(
            id=target.id,
            currency=target.currency,
            postings=(Posting(L.BANK_FEES, amount), Posting(L.BANK_OPERATING, -amount)),
            kind="conflicting",
        )
        self.run(lambda: other, TransferExists)


# -- a drawn script -------------------------------------------------------------------


def _amount_for(data: st.DataObject, owed_now: int) -> int:
    """Amounts around what is owed, so that both sides of the limit are tried often."""
    near = [owed_now, owed_now + 1, max(owed_now - 1, 1)]
    return data.draw(
        st.one_of(st.sampled_from(near), st.integers(1, max(owed_now, 1)), amounts),
        label="amount",
    )


@pytest.mark.slow  # over 2 s on the loaded 2-core machine
@PROPERTY
@given(data=st.data(), steps=st.integers(min_value=1, max_value=40))
def test_random_operations_keep_the_books(data: st.DataObject, steps: int) -> None:
    ex = Exchange()
    kinds = ["redeem", "stock", "withdraw", "pay", "confirm", "return", "bank_fee"]
    kinds_later = ["reverse", "repost", "conflict"]  # need something posted
    for _ in range(steps):
        kind = data.draw(st.sampled_from(kinds + kinds_later if ex.posted else kinds), label="op")
        customer, currency = data.draw(customers), data.draw(currencies)
        if kind == "redeem":
            face = data.draw(st.integers(1, 1_000_000), label="face")
            payout = data.draw(
                st.one_of(st.integers(1, face), st.sampled_from([0, -1, face + 1, face])),
                label="payout",
            )
            ex.redeem(customer, currency, data.draw(issuers), face, payout)
        elif kind == "stock":
            ex.stock(customer, currency, data.draw(brands), data.draw(amounts, label="cost"))
        elif kind == "withdraw":
            ex.withdraw(customer, currency, data.draw(brands), data.draw(amounts, label="cost"))
        elif kind == "pay":
            ex.pay(customer, currency, _amount_for(data, owed(ex.ledger, customer, currency)))
        elif kind == "confirm":
            ex.confirm(currency, data.draw(amounts))
        elif kind == "return":
            ex.return_(customer, currency, data.draw(amounts))
        elif kind == "bank_fee":
            ex.bank_fee(currency, data.draw(amounts))
        elif kind == "reverse":
            ex.reverse(data.draw(st.integers(min_value=0), label="index"))
        elif kind == "repost":
            ex.repost(data.draw(st.integers(min_value=0), label="index"))
        else:
            ex.conflict(data.draw(st.integers(min_value=0), label="index"), data.draw(amounts))


# -- the same as a state machine ------------------------------------------------------


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ex = Exchange()

    @rule(
        customer=customers,
        currency=currencies,
        issuer=issuers,
        face=st.integers(1, 1_000_000),
        payout_bps=st.integers(-100, 10_100),
    )
    def redeem(self, customer: str, currency: str, issuer: str, face: int, payout_bps: int):
        self.ex.redeem(customer, currency, issuer, face, face * payout_bps // 10_000)

    @rule(customer=customers, currency=currencies, brand=brands, cost=amounts)
    def stock(self, customer: str, currency: str, brand: str, cost: int) -> None:
        self.ex.stock(customer, currency, brand, cost)

    @rule(customer=customers, currency=currencies, brand=brands, cost=amounts)
    def withdraw(self, customer: str, currency: str, brand: str, cost: int) -> None:
        self.ex.withdraw(customer, currency, brand, cost)

    @rule(customer=customers, currency=currencies, data=st.data())
    def pay(self, customer: str, currency: str, data: st.DataObject) -> None:
        amount = _amount_for(data, owed(self.ex.ledger, customer, currency))
        self.ex.pay(customer, currency, amount)

    @rule(currency=currencies, amount=amounts)
    def confirm(self, currency: str, amount: int) -> None:
        self.ex.confirm(currency, amount)

    @rule(customer=customers, currency=currencies, amount=amounts)
    def return_(self, customer: str, currency: str, amount: int) -> None:
        self.ex.return_(customer, currency, amount)

    @rule(currency=currencies, amount=amounts)
    def bank_fee(self, currency: str, amount: int) -> None:
        self.ex.bank_fee(currency, amount)

    @precondition(lambda self: self.ex.posted)
    @rule(index=st.integers(min_value=0))
    def reverse(self, index: int) -> None:
        self.ex.reverse(index)

    @precondition(lambda self: self.ex.posted)
    @rule(index=st.integers(min_value=0))
    def repost(self, index: int) -> None:
        self.ex.repost(index)

    @precondition(lambda self: self.ex.posted)
    @rule(index=st.integers(min_value=0), amount=amounts)
    def conflict(self, index: int, amount: int) -> None:
        self.ex.conflict(index, amount)

    @invariant()
    def books_balance(self) -> None:
        check_invariants(self.ex.ledger)


TestLedgerMachine = LedgerMachine.TestCase
TestLedgerMachine.settings = settings(deadline=None, stateful_step_count=30)
TestLedgerMachine.pytestmark = [pytest.mark.slow]  # about 4 s


# -- the checks themselves can fail ---------------------------------------------------


def test_the_invariant_check_catches_tampering() -> None:
    ex = Exchange()
    ex.redeem("c1", "KRW", "cultureland", 10_000, 9_000)
    ex.ledger.balances[("liabilities:customer:c1", "KRW")] = 1
    with pytest.raises(AssertionError):
        check_invariants(ex.ledger)


def test_expect_catches_a_disagreement_with_the_oracle() -> None:
    ledger = Ledger()
    accepted = attempt(ledger, lambda: L.bank_fee("t1", amount=5, currency="KRW", ref="p"))
    with pytest.raises(AssertionError):
        expect(accepted, LiabilityBelowZero)
    refused = attempt(
        ledger, lambda: L.payout_sent("t2", customer_id="c1", amount=1, currency="KRW", ref="p")
    )
    expect(refused, LiabilityBelowZero)
    with pytest.raises(AssertionError):
        expect(refused, None)


class LeakyLedger(Ledger):
    """Changes its balances and then refuses: what ``attempt`` exists to catch."""

    def post(self, t: Transfer) -> bool:
        self.balances[(L.BANK_FEES, t.currency)] = 1
        raise LiabilityBelowZero("refused after changing something")


def test_attempt_catches_a_refusal_that_changed_the_ledger() -> None:
    with pytest.raises(AssertionError, match="left the ledger changed"):
        attempt(LeakyLedger(), lambda: L.bank_fee("t1", amount=5, currency="KRW", ref="p"))
