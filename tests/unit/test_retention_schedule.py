"""The retention schedule as rules: personal data goes a year after the relationship ends,
the accounts paid to five years after it; nothing owed, moving or investigated is touched."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from giftcash.domain import retention as r
from giftcash.domain.retention import CustomerFacts, RetentionPeriods, Stage, Step

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
PERIODS = RetentionPeriods()


def facts(**changes: object) -> CustomerFacts:
    base = CustomerFacts(
        customer_id="c-1",
        stage=Stage.ACTIVE,
        withdrawn_at=None,
        last_active_at=NOW,
        accounts_left=1,
        open_items=0,
        open_payouts=0,
        owed_won=0,
        open_cases=0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_an_active_customer_keeps_everything() -> None:
    assert r.plan(facts(), PERIODS, NOW).steps == frozenset()


def test_a_withdrawn_customer_keeps_personal_data_for_a_year() -> None:
    f = facts(stage=Stage.WITHDRAWN, withdrawn_at=NOW - timedelta(days=364))
    assert r.plan(f, PERIODS, NOW).steps == frozenset()
    later = NOW + timedelta(days=1)
    assert r.plan(f, PERIODS, later).steps == {Step.PSEUDONYMISE}


def test_an_inactive_customer_is_pseudonymised_after_inactivity_and_the_keep_period() -> None:
    f = facts(last_active_at=NOW - timedelta(days=365 + 364))
    assert r.plan(f, PERIODS, NOW).steps == frozenset()
    f = facts(last_active_at=NOW - timedelta(days=365 + 365))
    assert r.plan(f, PERIODS, NOW).steps == {Step.PSEUDONYMISE}


def test_the_accounts_paid_to_go_five_calendar_years_after_the_end() -> None:
    ended = datetime(2021, 3, 1, tzinfo=UTC)
    f = facts(stage=Stage.PSEUDONYMISED, withdrawn_at=ended, accounts_left=2)
    assert r.plan(f, PERIODS, datetime(2026, 2, 28, 23, tzinfo=UTC)).steps == frozenset()
    assert r.plan(f, PERIODS, datetime(2026, 3, 1, tzinfo=UTC)).steps == {
        Step.CLOSE_TRANSACTION_RECORDS
    }


def test_both_steps_at_once_for_a_customer_gone_long_ago() -> None:
    f = facts(stage=Stage.WITHDRAWN, withdrawn_at=NOW - timedelta(days=6 * 366))
    assert r.plan(f, PERIODS, NOW).steps == {Step.PSEUDONYMISE, Step.CLOSE_TRANSACTION_RECORDS}


def test_a_pseudonymised_customer_without_accounts_needs_nothing_more() -> None:
    f = facts(
        stage=Stage.PSEUDONYMISED, withdrawn_at=NOW - timedelta(days=6 * 366), accounts_left=0
    )
    assert r.plan(f, PERIODS, NOW) == r.Plan("c-1", frozenset())


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"open_items": 1}, "sales or payouts are still in flight"),
        ({"open_payouts": 1}, "sales or payouts are still in flight"),
        ({"owed_won": 9_000}, "money is still owed to or by the customer"),
        ({"open_cases": 1}, "a suspicious-activity case names the customer"),
        ({"active_stops": 1}, r.HELD_BY_STOP),
        ({"active_stops": 1, "open_items": 2}, r.HELD_BY_STOP),  # the stop says more
    ],
)
def test_nothing_owed_moving_or_investigated_is_touched(change: dict[str, int], why: str) -> None:
    f = facts(last_active_at=NOW - timedelta(days=10 * 365), **change)
    assert r.plan(f, PERIODS, NOW) == r.Plan("c-1", frozenset(), why)


def test_held_is_said_only_when_something_was_due() -> None:
    assert r.plan(facts(open_items=3), PERIODS, NOW).held is None


def test_29_february_plus_five_years_is_28_february() -> None:
    leap = datetime(2024, 2, 29, 12, tzinfo=UTC)
    assert r.add_years(leap, 5) == datetime(2029, 2, 28, 12, tzinfo=UTC)
    assert r.add_years(datetime(2024, 3, 1, tzinfo=UTC), 5) == datetime(2029, 3, 1, tzinfo=UTC)


def test_the_statutory_floors_are_refused_below() -> None:
    assert RetentionPeriods().problems() == []
    bad = RetentionPeriods(transaction_keep_years=4, access_log_keep_days=365, personal_keep_days=0)
    assert bad.problems() == [
        "transaction_keep_years must be at least 5 (전자금융거래법 §22)",
        "access_log_keep_days must be at least 730",
        "personal_keep_days must be at least 1",
    ]


def test_a_withdrawn_phone_can_rejoin_the_day_after_the_keep_period() -> None:
    withdrawn = datetime(2026, 12, 5, 15, tzinfo=UTC)
    assert str(r.rejoin_possible_on(withdrawn, PERIODS)) == "2027-12-06"


@pytest.mark.parametrize(
    ("items", "payouts", "owed", "refusal"),
    [
        (0, 0, 0, None),
        (2, 0, 0, "open_sales"),
        (0, 1, 0, "payouts_in_flight"),
        (0, 0, 500, "money_owed"),
        (1, 1, 500, "open_sales"),
    ],
)
def test_withdrawal_waits_for_open_sales_and_payouts(
    items: int, payouts: int, owed: int, refusal: str | None
) -> None:
    assert r.withdrawal_refusal(items, payouts, owed) == refusal


def test_a_payment_stop_refuses_withdrawal_before_anything_else() -> None:
    assert r.withdrawal_refusal(0, 0, 0, active_stops=1) == "payment_stop"
    assert r.withdrawal_refusal(2, 1, 500, active_stops=1) == "payment_stop"
    assert r.withdrawal_refusal(2, 0, 0, active_stops=0) == "open_sales"
