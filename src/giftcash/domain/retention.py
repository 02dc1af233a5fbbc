"""The retention schedule: when a customer's records are kept, and when they go.

Two clocks run from the end of the relationship (the customer's withdrawal, 탈퇴, or the
last activity of a customer who stopped coming, plus ``inactive_after_days``):

- **Personal data** (name, phone, birth date, password, bank accounts never paid to,
  consents, notice choices, notes, webhooks): its purpose ends with the relationship
  (개인정보보호법 §21: destroy without delay), but it is kept ``personal_keep_days`` more
  for investigators' requests, as 컬쳐랜드 and 북앤라이프 keep member data a year after
  withdrawal (DOMAIN-FACTS §6, §21① proviso: kept where another law asks for it). Then the
  customer row is pseudonymised: the id stays (the books and the transaction records
  name it), everything that identifies the person goes.
- **Transaction records** (items, payouts, the ledger, submissions' money facts):
  전자금융거래법 §22 keeps them 5 years, and the account a payout went to is part of the
  record (the counterparty). After ``transaction_keep_years`` the accounts that were paid
  to are destroyed too; what stays (amounts, dates, brands under a pseudonymous id) is
  the company's books (상법 §33), with no person behind it.

Nothing that is owed, moving or under investigation is touched: a customer with an open
item or payout, money still owed to them, an open case or an active payment stop
covering them is ``held`` until it settles.

Pure: the facts come in, a plan comes out; storage applies it (privacy/purge.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

# Statutory floors the settings may not go below: 전자금융거래법 §22 (5 years), the access
# records of personal data (개인정보의 안전성 확보조치 기준: 2 years where 고유식별정보 is
# processed, as giftcash's verified identities are).
MIN_TRANSACTION_KEEP_YEARS = 5
MIN_ACCESS_LOG_KEEP_DAYS = 730


@dataclass(frozen=True, slots=True)
class RetentionPeriods:
    """Settings (``GIFTCASH_RETENTION`` as JSON, any subset of fields)."""

    # Personal data kept after the relationship ended (investigators' requests).
    personal_keep_days: int = 365
    # A customer with no sign-in and no sale for this long has ended the relationship.
    # One year: the period of the former 개인정보 유효기간제 (§39-6, repealed 2023) that
    # customers of Korean services still expect.
    inactive_after_days: int = 365
    # Transaction records, from the end of the relationship.
    transaction_keep_years: int = 5
    # The log of console views of personal data (who looked at whom).
    access_log_keep_days: int = 730
    # Sign-in records that only serve the brute-force guard and sessions: SMS challenges,
    # failed attempts (with the client address), expired sessions.
    auth_records_keep_days: int = 90

    def problems(self) -> list[str]:
        """What is wrong with these periods (empty: usable)."""
        out = []
        if self.transaction_keep_years < MIN_TRANSACTION_KEEP_YEARS:
            out.append(
                f"transaction_keep_years must be at least {MIN_TRANSACTION_KEEP_YEARS}"
                " (전자금융거래법 §22)"
            )
        if self.access_log_keep_days < MIN_ACCESS_LOG_KEEP_DAYS:
            out.append(f"access_log_keep_days must be at least {MIN_ACCESS_LOG_KEEP_DAYS}")
        for name in ("personal_keep_days", "inactive_after_days", "auth_records_keep_days"):
            if getattr(self, name) < 1:
                out.append(f"{name} must be at least 1")
        return out


class Stage(StrEnum):
    """How far a customer's records have gone, as stored on the customer row."""

    ACTIVE = "active"
    WITHDRAWN = "withdrawn"  # 탈퇴: no sign-in; personal data kept for its period
    PSEUDONYMISED = "pseudonymised"  # the person is gone; transaction records stay


class Step(StrEnum):
    PSEUDONYMISE = "pseudonymise"  # the customer row, and the personal-only records
    # After 5 years: the accounts paid to are destroyed, operators' notes on the sales
    # erased; what stays is anonymous (amounts, dates, brands, states).
    CLOSE_TRANSACTION_RECORDS = "close_transaction_records"


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    """What the schedule needs to know about one customer."""

    customer_id: str
    stage: Stage
    withdrawn_at: datetime | None
    last_active_at: datetime  # sign-in, sale or sign-up, whichever is latest
    accounts_left: int  # bank accounts not destroyed yet
    open_items: int  # items not terminal
    open_payouts: int  # payouts not terminal
    owed_won: int  # what the ledger still owes the customer, or the customer owes us
    open_cases: int  # suspicious-activity cases naming the customer, not closed
    # active payment stops covering the customer (by customer, account or code)
    active_stops: int = 0


@dataclass(frozen=True, slots=True)
class Plan:
    customer_id: str
    steps: frozenset[Step]
    held: str | None = None  # why nothing is done although something is due


def add_years(moment: datetime, years: int) -> datetime:
    """The same day ``years`` later; 29 February becomes 28 February."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def relationship_ended_at(f: CustomerFacts, periods: RetentionPeriods) -> datetime:
    """The withdrawal, or the last activity plus the inactivity period."""
    if f.withdrawn_at is not None:
        return f.withdrawn_at
    return f.last_active_at + timedelta(days=periods.inactive_after_days)


def personal_data_due_at(f: CustomerFacts, periods: RetentionPeriods) -> datetime:
    return relationship_ended_at(f, periods) + timedelta(days=periods.personal_keep_days)


def transactions_due_at(f: CustomerFacts, periods: RetentionPeriods) -> datetime:
    return add_years(relationship_ended_at(f, periods), periods.transaction_keep_years)


HELD_BY_STOP = "an active payment stop covers the customer"


def _held(f: CustomerFacts) -> str | None:
    # first: a bank's or the police's stop is an investigation under way; what it covers
    # (and the person behind it) stays until the stop is released or settled
    if f.active_stops:
        return HELD_BY_STOP
    if f.open_items or f.open_payouts:
        return "sales or payouts are still in flight"
    if f.owed_won:
        return "money is still owed to or by the customer"
    if f.open_cases:
        return "a suspicious-activity case names the customer"
    return None


def plan(f: CustomerFacts, periods: RetentionPeriods, now: datetime) -> Plan:
    """What is due for one customer now."""
    due: set[Step] = set()
    if f.stage is not Stage.PSEUDONYMISED and now >= personal_data_due_at(f, periods):
        due.add(Step.PSEUDONYMISE)
    if f.accounts_left and now >= transactions_due_at(f, periods):
        due.add(Step.CLOSE_TRANSACTION_RECORDS)
    if not due:
        return Plan(f.customer_id, frozenset())
    held = _held(f)
    if held is not None:
        return Plan(f.customer_id, frozenset(), held)
    return Plan(f.customer_id, frozenset(due))


def rejoin_possible_on(withdrawn_at: datetime, periods: RetentionPeriods) -> date:
    """The first day a withdrawn customer's phone can sign up again: the purge frees the
    phone when it pseudonymises the withdrawn customer (a purge runs daily)."""
    return (withdrawn_at + timedelta(days=periods.personal_keep_days + 1)).date()


# -- withdrawal ------------------------------------------------------------------------


def withdrawal_refusal(
    open_items: int, open_payouts: int, owed_won: int, active_stops: int = 0
) -> str | None:
    """Why a customer cannot withdraw now (None: they can). Open sales finish first, so
    that nothing owed is dropped: the payout needs the account and the person. A payment
    stop covering the customer comes first: the investigation needs them reachable
    until it is released or settled."""
    if active_stops:
        return "payment_stop"
    if open_items:
        return "open_sales"
    if open_payouts:
        return "payouts_in_flight"
    if owed_won:  # e.g. a sale that failed and waits for staff, or money owed to us
        return "money_owed"
    return None
