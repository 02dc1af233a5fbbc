"""The money-laundering detectors (domain/aml.py): each fires on its pattern and stays
quiet just short of it; the case state machine; the report's name mask."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from giftcash.domain import aml
from giftcash.domain.aml import (
    AccountLink,
    AmlParams,
    CaseKind,
    CaseStatus,
    Facts,
    InvalidAttempt,
    Sale,
)
from giftcash.domain.errors import IllegalTransition

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 10:00 in Korea
P = AmlParams()


def sale(
    n: int,
    customer: str = "c1",
    *,
    at: datetime = T0,
    face: int = 10_000,
    code: str | None = None,
    submission: str | None = None,
    account: str = "a1",
    declared: str = "cash",
    channel: str | None = None,
    status: str = "received",
) -> Sale:
    return Sale(
        item_id=f"i{n}",
        customer_id=customer,
        submission_id=submission or f"s{n}",
        bank_account_id=account,
        at=at,
        face_value=face,
        masked_code=f"************{n:04d}",
        code_key=code or f"hmac-{n:060d}",
        declared_source=declared,
        issuer_channel=channel,
        status=status,
    )


def kinds(signals) -> list[str]:
    return [s.kind.value for s in signals]


# -- duplicate ring ---------------------------------------------------------------------


def test_a_code_submitted_by_two_customers_is_a_ring():
    shared = "f" * 64
    sales = [
        sale(1, "c1", code=shared),
        sale(2, "c2", code=shared, at=T0 + timedelta(hours=1), status="declined"),
        sale(3, "c3"),
    ]
    (sig,) = aml.duplicate_rings(sales, P)
    assert sig.kind is CaseKind.DUPLICATE_RING
    assert sig.subject == "code:" + "f" * 16
    assert sig.customer_ids == ("c1", "c2")
    assert [e.key for e in sig.evidence] == ["item:i1", "item:i2"]
    assert sig.amount == 20_000
    assert all(e.masked and e.masked.startswith("*") for e in sig.evidence)


def test_the_same_customer_twice_is_not_a_ring():
    shared = "e" * 64
    assert aml.duplicate_rings([sale(1, "c1", code=shared), sale(2, "c1", code=shared)], P) == []


# -- shared account -----------------------------------------------------------------------


def link(account_id: str, customer: str, key: str = "k" * 64) -> AccountLink:
    return AccountLink(account_id, customer, key, "****5678", T0)


def test_one_account_added_by_two_customers_is_shared_with_the_sales_into_it():
    links = [link("a1", "c1"), link("a2", "c2"), link("a3", "c3", key="z" * 64)]
    sales = [sale(1, "c1", account="a1"), sale(2, "c2", account="a2", face=30_000)]
    (sig,) = aml.shared_accounts(links, sales, P)
    assert sig.kind is CaseKind.SHARED_ACCOUNT
    assert sig.subject == "account:" + "k" * 16
    assert sig.customer_ids == ("c1", "c2")
    assert {e.key for e in sig.evidence} == {"account:a1", "account:a2", "item:i1", "item:i2"}
    assert sig.amount == 40_000


def test_an_account_of_one_customer_is_not_shared():
    assert aml.shared_accounts([link("a1", "c1"), link("a2", "c1")], [], P) == []


# -- structuring --------------------------------------------------------------------------


def test_three_sales_just_under_a_threshold_in_a_day_are_structuring():
    sales = [sale(i, face=48_000, at=T0 + timedelta(hours=3 * i)) for i in range(3)]
    (sig,) = aml.structuring(sales, P)
    assert sig.kind is CaseKind.STRUCTURING and sig.subject == "customer:c1"
    assert sig.amount == 3 * 48_000
    assert "50000" in sig.summary


def test_sales_just_under_spread_over_a_week_are_structuring():
    sales = [sale(i, face=95_000, at=T0 + timedelta(days=i)) for i in range(6)]
    (sig,) = aml.structuring(sales, P)
    assert len(sig.evidence) == 6


def test_sales_under_the_band_or_too_few_or_too_spread_are_not_structuring():
    below_band = [sale(i, face=40_000, at=T0 + timedelta(hours=i)) for i in range(5)]
    two_a_day = [sale(i, face=49_000, at=T0 + timedelta(hours=i)) for i in range(2)]
    spread = [sale(i, face=49_000, at=T0 + timedelta(days=2 * i)) for i in range(5)]
    assert aml.structuring(below_band, P) == []
    assert aml.structuring(two_a_day, P) == []
    assert aml.structuring(spread, P) == []  # 5 in 10 days: never 3 a day nor 6 a week


def test_a_sale_is_a_submission_and_declined_items_do_not_count():
    # two items of 25,000 in one submission: one sale of 50,000, three times a day
    sales = [
        sale(10 * i + j, face=25_000, submission=f"s{i}", at=T0 + timedelta(hours=i))
        for i in range(3)
        for j in range(2)
    ]
    assert kinds(aml.structuring(sales, P)) == ["structuring"]
    declined = [*sales[:-1], sale(21, face=25_000, submission="s2", status="declined")]
    assert aml.structuring(declined, P) == []  # the third sale is worth 25,000 now


def test_only_sales_in_the_scanned_period_count():
    old = [sale(i, face=48_000, at=T0 + timedelta(hours=i)) for i in range(3)]
    assert kinds(aml.structuring(old, P, since=T0)) == ["structuring"]
    assert aml.structuring(old, P, since=T0 + timedelta(hours=1)) == []
    links = [link("a1", "c1"), link("a2", "c2")]
    (sig,) = aml.shared_accounts(links, [sale(1, account="a1")], P, since=T0 + timedelta(1))
    assert {e.key for e in sig.evidence} == {"account:a1", "account:a2"}  # the links only


# -- velocity spike -------------------------------------------------------------------------


def history(customer: str, days: int, face: int) -> list[Sale]:
    return [
        sale(100 + d, customer, face=face, at=T0 - timedelta(days=days - d)) for d in range(days)
    ]


def test_a_day_far_above_the_usual_is_a_spike():
    spike_day = [sale(i, face=300_000, at=T0 + timedelta(minutes=i)) for i in range(2)]
    sales = [*history("c1", 5, 50_000), *spike_day]
    (sig,) = aml.velocity_spikes(sales, P, since=T0 - timedelta(hours=1))
    assert sig.kind is CaseKind.VELOCITY_SPIKE and sig.subject == "customer:c1"
    assert [e.item_id for e in sig.evidence] == ["i0", "i1"]  # the spike day only
    assert sig.amount == 600_000
    assert "usual 50000" in sig.evidence[0].note


def test_no_spike_below_the_factor_without_history_or_below_the_minimum():
    since = T0 - timedelta(hours=1)
    today = [sale(1, face=500_000)]
    assert aml.velocity_spikes([*history("c1", 5, 150_000), *today], P, since=since) == []
    assert aml.velocity_spikes([*history("c1", 2, 10_000), *today], P, since=since) == []
    small = [sale(1, face=400_000)]
    assert aml.velocity_spikes([*history("c1", 5, 10_000), *small], P, since=since) == []


def test_a_spike_before_the_scanned_period_is_history():
    sales = [*history("c1", 5, 10_000), sale(1, face=600_000)]
    assert aml.velocity_spikes(sales, P, since=T0 + timedelta(days=1)) == []


# -- PIN testing ----------------------------------------------------------------------------


def attempts(n: int, customer: str | None, device: str | None, step=timedelta(minutes=5)):
    return [
        InvalidAttempt(f"{customer}-{device}-{i}", T0 + i * step, customer, device)
        for i in range(n)
    ]


def test_ten_invalid_codes_from_one_customer_in_a_day_is_pin_testing():
    (sig,) = aml.pin_testing(attempts(10, "c1", None), P)
    assert sig.kind is CaseKind.PIN_TESTING and sig.subject == "customer:c1"
    assert len(sig.evidence) == 10 and sig.amount == 0


def test_one_device_across_customers_is_pin_testing_by_device():
    found = [*attempts(5, "c1", "10.0.0.9"), *attempts(5, "c2", "10.0.0.9")]
    (sig,) = aml.pin_testing(found, P)
    assert sig.subject == "device:10.0.0.9"
    assert sig.customer_ids == ("c1", "c2")


def test_few_or_spread_invalid_codes_are_not_pin_testing():
    assert aml.pin_testing(attempts(9, "c1", "d1"), P) == []
    assert aml.pin_testing(attempts(10, "c1", "d1", step=timedelta(hours=3)), P) == []


# -- contradicted declarations ----------------------------------------------------------------


def test_two_declarations_contradicted_by_the_issuer():
    sales = [
        sale(1, declared="cash", channel="carrier_billing"),
        sale(2, declared="debit_card", channel="credit_card", at=T0 + timedelta(days=3)),
    ]
    (sig,) = aml.contradicted_declarations(sales, P)
    assert sig.kind is CaseKind.DECLARATION_CONTRADICTED and sig.subject == "customer:c1"
    assert "declared cash, issuer carrier_billing" in sig.evidence[0].note


def test_once_or_an_honest_or_unknown_declaration_is_not_contradicted():
    once = [sale(1, channel="carrier_billing"), sale(2, channel="cash")]
    honest = [sale(i, declared="carrier_billing", channel="carrier_billing") for i in (1, 2)]
    unknown = [sale(i, declared="unknown", channel="credit_card") for i in (1, 2)]
    assert aml.contradicted_declarations(once, P) == []
    assert aml.contradicted_declarations(honest, P) == []
    assert aml.contradicted_declarations(unknown, P) == []


# -- everything at once, and the parts ---------------------------------------------------------


def test_detect_runs_every_detector_and_quiet_facts_give_nothing():
    assert aml.detect(Facts(sales=tuple(history("c1", 5, 10_000))), P, since=T0) == []
    facts = Facts(
        sales=(sale(1, "c1", code="x" * 64), sale(2, "c2", code="x" * 64)),
        attempts=tuple(attempts(10, "c3", None)),
    )
    assert sorted(kinds(aml.detect(facts, P, since=T0))) == ["duplicate_ring", "pin_testing"]


def test_dense_marks_every_event_of_a_busy_window_once():
    times = [T0 + timedelta(minutes=m) for m in (0, 1, 2, 100, 101, 500)]
    assert aml.dense(times, timedelta(minutes=10), 3) == [0, 1, 2]
    assert aml.dense(times, timedelta(minutes=200), 3) == [0, 1, 2, 3, 4]
    assert aml.dense(times, timedelta(minutes=10), 4) == []


def test_case_status_moves_only_by_the_table():
    assert aml.advance_case("open", "under_review") is CaseStatus.UNDER_REVIEW
    assert aml.advance_case("under_review", "reported") is CaseStatus.REPORTED
    assert aml.advance_case("under_review", "dismissed") is CaseStatus.DISMISSED
    for frm, to in [("open", "reported"), ("reported", "open"), ("dismissed", "under_review")]:
        with pytest.raises(IllegalTransition):
            aml.advance_case(frm, to)
    with pytest.raises(aml.UnknownCaseStatus):
        aml.advance_case("open", "closed")


def test_params_refuse_nonsense_and_band_rounds_down():
    with pytest.raises(aml.InvalidAmlParams):
        AmlParams(pin_min_invalid=0)
    with pytest.raises(aml.InvalidAmlParams):
        AmlParams(structuring_thresholds=())
    with pytest.raises(aml.InvalidAmlParams):
        AmlParams(structuring_band_bps=10_000)
    assert AmlParams(structuring_thresholds=(100, 50, 100)).structuring_thresholds == (50, 100)
    assert AmlParams(structuring_band_bps=333).band(10_001) == (9_668, 10_001)


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("홍길동", "홍*"),
        ("남궁민수", "남궁*"),
        ("  김 ", "김*"),
        ("Jane  Doe", "Doe *"),
        ("Cher", "C*"),
        ("", "*"),
    ],
)
def test_names_are_masked_to_the_family_name(name, masked):
    assert aml.mask_name(name) == masked
