"""Double-entry ledger: accounts by typed path, immutable balanced transfers, reversals,
the posting rules of the exchange, and its invariants.

Sign convention: a posting's ``amount`` is positive for a debit and negative for a credit,
in minor units. Every transfer sums to zero in its one currency, so the sum of all
accounts is zero per currency. Liabilities and income carry credit (negative) balances.
Validators return errors as values (lists of ``Violation``); ``post`` raises.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from giftcash.domain.errors import (
    InvalidAccount,
    InvalidAmount,
    LiabilityBelowZero,
    TransferExists,
    UnbalancedTransfer,
)
from giftcash.domain.money import currency_scale


class AccountType(StrEnum):
    ASSETS = "assets"
    LIABILITIES = "liabilities"
    INCOME = "income"
    EXPENSES = "expenses"
    EQUITY = "equity"


_SEGMENT = re.compile(r"^[a-z0-9][a-z0-9_-]*\Z")  # \Z: "$" would let a trailing newline in

ISSUER_PREFIX = "assets:issuer:"
# resale: verified vouchers held to sell, at what their sellers are paid (cost), by brand
INVENTORY_PREFIX = "assets:inventory:"
CUSTOMER_PREFIX = "liabilities:customer:"
BUYER_PREFIX = "liabilities:buyer:"  # a buyer's money for an order, held until delivery
RECEIVABLE_PREFIX = "assets:receivable:customer:"
# the liabilities whose balance may never become a debit (must_stay_credit)
MUST_STAY_CREDIT = (CUSTOMER_PREFIX, BUYER_PREFIX)
BANK_CLEARING = "assets:bank:clearing"
BANK_OPERATING = "assets:bank:operating"
MARGIN = "income:margin"
RESALE_INCOME = "income:resale"  # what buyers paid for delivered units
# what buyers were given back for delivered units found spent before delivery (a debit
# against income:resale: the sale undone, the original left as it was)
RESALE_REFUNDS = "income:resale-refunds"
COST_OF_SALES = "expenses:cost-of-sales"  # the delivered units' cost (their sellers' price)
BANK_FEES = "expenses:bank-fees"
OPENING = "equity:opening-balances"
SUSPENSE = "liabilities:suspense"
VERIFICATION_EXPENSE = "expenses:account-verification"
# What a settled payment stop owes the victim, through the institution that asked for it.
PAYMENT_STOP_PREFIX = "liabilities:payment-stop:"


def account_type(path: str) -> AccountType:
    validate_account(path)
    return AccountType(path.split(":", 1)[0])


def validate_account(path: str) -> str:
    parts = path.split(":")
    if len(parts) < 2 or parts[0] not in AccountType.__members__.values():
        raise InvalidAccount(f"account {path!r} must start with one of {list(AccountType)}")
    if not all(_SEGMENT.match(p) for p in parts):
        raise InvalidAccount(f"account {path!r} has an empty or invalid segment")
    return path


def _segment(value: str) -> str:
    """Ids as account segments: lower-case, no colons."""
    seg = value.lower()
    if not _SEGMENT.match(seg):
        raise InvalidAccount(f"{value!r} cannot name an account")
    return seg


def issuer_account(issuer: str) -> str:
    return ISSUER_PREFIX + _segment(issuer)


def inventory_account(brand_id: str) -> str:
    return INVENTORY_PREFIX + _segment(brand_id)


def customer_account(customer_id: str) -> str:
    return CUSTOMER_PREFIX + _segment(customer_id)


def buyer_account(customer_id: str) -> str:
    return BUYER_PREFIX + _segment(customer_id)


def receivable_account(customer_id: str) -> str:
    return RECEIVABLE_PREFIX + _segment(customer_id)


def payment_stop_account(stop_id: str) -> str:
    return PAYMENT_STOP_PREFIX + _segment(stop_id)


def must_stay_credit(path: str) -> bool:
    """Accounts whose balance may never become a debit: what we owe a customer (a
    seller's proceeds, a buyer's money for an order) cannot go below zero (we never pay
    out, deliver against or refund more than we hold)."""
    return path.startswith(MUST_STAY_CREDIT)


@dataclass(frozen=True, slots=True)
class Posting:
    account: str
    amount: int  # debit > 0, credit < 0, minor units


@dataclass(frozen=True, slots=True)
class Transfer:
    id: str
    currency: str
    postings: tuple[Posting, ...]
    kind: str
    ref: str | None = None  # the item, payout or statement line it belongs to
    reverses: str | None = None
    memo: str = ""

    def __post_init__(self) -> None:
        errors = transfer_violations(self)
        if errors:
            raise UnbalancedTransfer("; ".join(e.message for e in errors), transfer_id=self.id)

    def same_content(self, other: Transfer) -> bool:
        return (self.currency, sorted_postings(self), self.kind, self.ref, self.reverses) == (
            other.currency,
            sorted_postings(other),
            other.kind,
            other.ref,
            other.reverses,
        )


def sorted_postings(t: Transfer) -> tuple[Posting, ...]:
    return tuple(sorted(t.postings, key=lambda p: (p.account, p.amount)))


@dataclass(frozen=True, slots=True)
class Violation:
    rule: str
    message: str
    subject: str = ""


def transfer_violations(t: Transfer) -> list[Violation]:
    out: list[Violation] = []
    try:
        currency_scale(t.currency)
    except Exception as e:  # UnknownCurrency: report as a value
        out.append(Violation("currency", str(e), t.id))
    if len(t.postings) < 2:
        out.append(Violation("postings", "a transfer needs at least two postings", t.id))
    for p in t.postings:
        if type(p.amount) is not int or p.amount == 0:
            out.append(
                Violation("amount", f"posting to {p.account} is zero or not an integer", t.id)
            )
        try:
            validate_account(p.account)
        except InvalidAccount as e:
            out.append(Violation("account", e.message, t.id))
    if len({p.account for p in t.postings}) != len(t.postings):
        out.append(Violation("postings", "an account appears twice in one transfer", t.id))
    total = sum(p.amount for p in t.postings if type(p.amount) is int)
    if total != 0:
        out.append(Violation("balance", f"postings sum to {total}, not 0", t.id))
    return out


# -- posting rules -------------------------------------------------------------------------


def _transfer(
    tid: str, currency: str, kind: str, ref: str | None, *legs: tuple[str, int]
) -> Transfer:
    postings = tuple(Posting(a, n) for a, n in legs if n != 0)
    return Transfer(id=tid, currency=currency, postings=postings, kind=kind, ref=ref)


def redemption(
    tid: str, *, issuer: str, customer_id: str, face: int, payout: int, currency: str, ref: str
) -> Transfer:
    """Value captured at the issuer: Dr issuer (face) / Cr customer (payout) / Cr margin."""
    if not (0 < payout <= face):
        raise InvalidAmount("payout must be positive and at most the face value")
    return _transfer(
        tid,
        currency,
        "redemption",
        ref,
        (issuer_account(issuer), face),
        (customer_account(customer_id), -payout),
        (MARGIN, -(face - payout)),
    )


def stocking(
    tid: str, *, brand_id: str, customer_id: str, cost: int, currency: str, ref: str
) -> Transfer:
    """A resell voucher verified and stocked: Dr inventory (its brand, at cost: what the
    seller is paid) / Cr the seller's liability, the account a payout then debits."""
    _positive(cost)
    return _transfer(
        tid,
        currency,
        "stocking",
        ref,
        (inventory_account(brand_id), cost),
        (customer_account(customer_id), -cost),
    )


def order_paid(tid: str, *, customer_id: str, amount: int, currency: str, ref: str) -> Transfer:
    """A buyer's exact own-name deposit kept for an order: Dr clearing / Cr the buyer's
    liability, where it stays until the order is delivered or refunded."""
    _positive(amount)
    return _transfer(
        tid,
        currency,
        "order_paid",
        ref,
        (BANK_CLEARING, amount),
        (buyer_account(customer_id), -amount),
    )


def resale_sale(tid: str, *, customer_id: str, price: int, currency: str, ref: str) -> Transfer:
    """A unit delivered to its buyer: the buyer's money held for it becomes income,
    Dr the buyer's liability / Cr income:resale (the unit's price)."""
    _positive(price)
    return _transfer(
        tid,
        currency,
        "resale_sale",
        ref,
        (buyer_account(customer_id), price),
        (RESALE_INCOME, -price),
    )


def cost_of_sale(tid: str, *, brand_id: str, cost: int, currency: str, ref: str) -> Transfer:
    """A unit delivered leaves the inventory at the cost it entered it (``stocking``):
    Dr expenses:cost-of-sales / Cr the brand's inventory."""
    _positive(cost)
    return _transfer(
        tid,
        currency,
        "cost_of_sale",
        ref,
        (COST_OF_SALES, cost),
        (inventory_account(brand_id), -cost),
    )


def order_refunded(tid: str, *, customer_id: str, amount: int, currency: str, ref: str) -> Transfer:
    """A paid order with nothing to deliver: its kept deposit goes back to the payer,
    Dr the buyer's liability / Cr the clearing account ``order_paid`` debited."""
    _positive(amount)
    return _transfer(
        tid,
        currency,
        "order_refunded",
        ref,
        (buyer_account(customer_id), amount),
        (BANK_CLEARING, -amount),
    )


def claim_refund(
    tid: str, *, customer_id: str, amount: int, currency: str, ref: str, by_payout: bool
) -> Transfer:
    """A buyer's upheld claim (resale/claims.py): the unit's price is owed to the buyer
    again, Dr income:resale-refunds / Cr the buyer's order liability (``by_payout`` False:
    the kept deposit is returned, ``order_refunded`` then pays it out) or their customer
    liability (``by_payout``: a payout to their own verified account debits it)."""
    _positive(amount)
    owed = customer_account(customer_id) if by_payout else buyer_account(customer_id)
    return _transfer(tid, currency, "claim_refund", ref, (RESALE_REFUNDS, amount), (owed, -amount))


def resale_clawback(tid: str, *, customer_id: str, cost: int, currency: str, ref: str) -> Transfer:
    """The seller of a unit refunded on a claim owes us what we paid for it: Dr their
    receivable / Cr expenses:cost-of-sales (the cost ``cost_of_sale`` booked is undone)."""
    _positive(cost)
    return _transfer(
        tid,
        currency,
        "resale_clawback",
        ref,
        (receivable_account(customer_id), cost),
        (COST_OF_SALES, -cost),
    )


def receivable_netted(
    tid: str, *, customer_id: str, amount: int, currency: str, ref: str
) -> Transfer:
    """What a customer owes us is taken from what we owe them before a payout is made:
    Dr their liability / Cr their receivable."""
    _positive(amount)
    return _transfer(
        tid,
        currency,
        "receivable_netted",
        ref,
        (customer_account(customer_id), amount),
        (receivable_account(customer_id), -amount),
    )


def payout_sent(tid: str, *, customer_id: str, amount: int, currency: str, ref: str) -> Transfer:
    """The bank accepted our transfer: Dr customer / Cr clearing."""
    _positive(amount)
    return _transfer(
        tid,
        currency,
        "payout_sent",
        ref,
        (customer_account(customer_id), amount),
        (BANK_CLEARING, -amount),
    )


def payout_confirmed(tid: str, *, amount: int, currency: str, ref: str) -> Transfer:
    """The bank confirmed the money arrived: Dr clearing / Cr operating."""
    _positive(amount)
    return _transfer(
        tid, currency, "payout_confirmed", ref, (BANK_CLEARING, amount), (BANK_OPERATING, -amount)
    )


def payout_returned(
    tid: str, *, customer_id: str, amount: int, currency: str, ref: str
) -> Transfer:
    """The bank bounced a sent transfer: the money is owed to the customer again."""
    _positive(amount)
    return _transfer(
        tid,
        currency,
        "payout_returned",
        ref,
        (BANK_CLEARING, amount),
        (customer_account(customer_id), -amount),
    )


def bank_fee(tid: str, *, amount: int, currency: str, ref: str) -> Transfer:
    _positive(amount)
    return _transfer(tid, currency, "bank_fee", ref, (BANK_FEES, amount), (BANK_OPERATING, -amount))


def issuer_settlement(tid: str, *, issuer: str, amount: int, currency: str, ref: str) -> Transfer:
    """The issuer paid us for captured value: Dr operating / Cr issuer."""
    _positive(amount)
    return _transfer(
        tid,
        currency,
        "issuer_settlement",
        ref,
        (BANK_OPERATING, amount),
        (issuer_account(issuer), -amount),
    )


def clawback(
    tid: str, *, issuer: str, customer_id: str, amount: int, currency: str, ref: str
) -> Transfer:
    """The issuer reversed a redemption we already paid for: the customer owes us."""
    _positive(amount)
    return _transfer(
        tid,
        currency,
        "clawback",
        ref,
        (receivable_account(customer_id), amount),
        (issuer_account(issuer), -amount),
    )


def opening_balance(tid: str, *, account: str, amount: int, currency: str) -> Transfer:
    _positive(amount)
    return _transfer(tid, currency, "opening", None, (account, amount), (OPENING, -amount))


def unmatched_capture(tid: str, *, issuer: str, amount: int, currency: str, ref: str) -> Transfer:
    """The issuer captured an amount we did not expect: the value is held in suspense
    until an operator settles it, so not a won goes unaccounted."""
    _positive(amount)
    return _transfer(
        tid,
        currency,
        "unmatched_capture",
        ref,
        (issuer_account(issuer), amount),
        (SUSPENSE, -amount),
    )


def account_verification(tid: str, *, amount: int, currency: str, ref: str) -> Transfer:
    """The 1-won deposit that proves a customer owns an account: a cost of doing business."""
    _positive(amount)
    return _transfer(
        tid,
        currency,
        "account_verification",
        ref,
        (VERIFICATION_EXPENSE, amount),
        (BANK_OPERATING, -amount),
    )


def payment_stop_settled(
    tid: str, *, customer_id: str, stop_id: str, amount: int, currency: str, ref: str
) -> Transfer:
    """A settled payment stop: what we owed the customer for a held sale is owed to the
    victim instead (paid out through the requesting institution): Dr customer / Cr stop."""
    _positive(amount)
    return _transfer(
        tid,
        currency,
        "payment_stop_settled",
        ref,
        (customer_account(customer_id), amount),
        (payment_stop_account(stop_id), -amount),
    )


def reversal(original: Transfer, tid: str, memo: str = "") -> Transfer:
    """Mistakes are corrected by a new transfer that negates every posting."""
    return Transfer(
        id=tid,
        currency=original.currency,
        postings=tuple(Posting(p.account, -p.amount) for p in original.postings),
        kind="reversal",
        ref=original.ref,
        reverses=original.id,
        memo=memo,
    )


def is_reversal_of(t: Transfer, original: Transfer) -> bool:
    """A reversal negates every posting of its original, in the same currency."""
    negated = sorted((p.account, -p.amount) for p in original.postings)
    return (
        t.currency == original.currency
        and sorted((p.account, p.amount) for p in t.postings) == negated
    )


def _positive(amount: int) -> None:
    if type(amount) is not int or amount <= 0:
        raise InvalidAmount("amount must be a positive integer of minor units")


# -- balances and invariants ---------------------------------------------------------------

Balances = dict[tuple[str, str], int]  # (account, currency) -> signed balance


def apply(balances: Mapping[tuple[str, str], int], t: Transfer) -> Balances:
    """The balances after ``t``; raises ``LiabilityBelowZero`` and leaves ``balances``
    untouched when a customer liability would turn into a debit."""
    new = dict(balances)
    for p in t.postings:
        key = (p.account, t.currency)
        after = new.get(key, 0) + p.amount
        if must_stay_credit(p.account) and after > 0:
            raise LiabilityBelowZero(
                f"{p.account} would go {after} below zero", account=p.account, transfer_id=t.id
            )
        new[key] = after
    return new


def balance_violations(balances: Mapping[tuple[str, str], int]) -> list[Violation]:
    out: list[Violation] = []
    totals: dict[str, int] = {}
    for (account, currency), amount in balances.items():
        totals[currency] = totals.get(currency, 0) + amount
        if must_stay_credit(account) and amount > 0:
            out.append(Violation("liability_floor", f"{account} is {amount} below zero", account))
    for currency, total in sorted(totals.items()):
        if total != 0:
            out.append(Violation("zero_sum", f"{currency} accounts sum to {total}", currency))
    return out


def balances_from(transfers: Iterable[Transfer]) -> Balances:
    out: Balances = {}
    for t in transfers:
        for p in t.postings:
            key = (p.account, t.currency)
            out[key] = out.get(key, 0) + p.amount
    return out


@dataclass
class Ledger:
    """An in-memory ledger with the same rules as the stored one (tests, dry runs)."""

    transfers: dict[str, Transfer] = field(default_factory=dict)
    balances: Balances = field(default_factory=dict)
    reversed_ids: set[str] = field(default_factory=set)

    def post(self, t: Transfer) -> bool:
        """Post ``t``; ``False`` if the same transfer was already posted (idempotent),
        ``TransferExists`` if the id was used for something else."""
        existing = self.transfers.get(t.id)
        if existing is not None:
            if existing.same_content(t):
                return False
            raise TransferExists(f"transfer {t.id} exists with other content", transfer_id=t.id)
        if t.reverses is not None:
            if t.reverses not in self.transfers:
                raise UnbalancedTransfer(f"transfer {t.reverses} to reverse does not exist")
            if t.reverses in self.reversed_ids:
                raise TransferExists(f"transfer {t.reverses} is already reversed")
            if not is_reversal_of(t, self.transfers[t.reverses]):
                raise UnbalancedTransfer(f"transfer {t.id} does not negate {t.reverses}")
        self.balances = apply(self.balances, t)
        self.transfers[t.id] = t
        if t.reverses is not None:
            self.reversed_ids.add(t.reverses)
        return True

    def balance(self, account: str, currency: str) -> int:
        return self.balances.get((account, currency), 0)

    def violations(self) -> list[Violation]:
        out = balance_violations(self.balances)
        if nonzero(balances_from(self.transfers.values())) != nonzero(self.balances):
            out.append(Violation("replay", "balances differ from the transfers that made them"))
        return out


def nonzero(balances: Mapping[tuple[str, str], int]) -> Balances:
    return {k: v for k, v in balances.items() if v}
