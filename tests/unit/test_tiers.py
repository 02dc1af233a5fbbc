"""Due diligence by amount, as rules (issue 14, item 2): a verified identity to sell at
all, an ID document above the daily and monthly amounts, enhanced due diligence from the
특정금융정보법 one-off amount or when an operator asks; amounts an operator may lower and
never raise; where identity checks are not in force nothing waits for them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from giftcash.domain import policy
from giftcash.domain.brands import CATALOGUE
from giftcash.domain.jurisdictions import pack
from giftcash.domain.policy import CustomerFacts, History, ItemFacts, Outcome
from giftcash.domain.tiers import (
    EDD_ONE_OFF_FLOOR_WON,
    Room,
    Sale,
    Step,
    Tier,
    TierFacts,
    TierLimits,
    requirement,
    room,
)

LIMITS = TierLimits(1_000_000, 5_000_000, EDD_ONE_OFF_FLOOR_WON)
PHONE_ONLY = TierFacts(in_force=True)
VERIFIED = TierFacts(in_force=True, identity_verified=True)
DOCUMENTED = TierFacts(in_force=True, identity_verified=True, document_checked=True)
SMALL = Sale(day_value=50_000, month_value=50_000, one_off_value=50_000)


def step(facts: TierFacts, sale: Sale) -> Step | None:
    found = requirement(facts, LIMITS, sale)
    return found.step if found else None


def test_where_identity_checks_are_not_in_force_nothing_waits_for_them() -> None:
    assert step(TierFacts(), Sale(50_000_000, 50_000_000, 50_000_000)) is None


def test_a_phone_alone_sells_nothing_a_verified_identity_sells_up_to_the_amounts() -> None:
    assert PHONE_ONLY.tier is Tier.PHONE and step(PHONE_ONLY, SMALL) is Step.VERIFY_IDENTITY
    assert VERIFIED.tier is Tier.IDENTITY and step(VERIFIED, SMALL) is None
    at_the_day_limit = Sale(1_000_000, 1_000_000, 1_000_000)
    assert step(VERIFIED, at_the_day_limit) is None  # up to, inclusive
    assert step(VERIFIED, Sale(1_000_001, 1_000_001, 10_000)) is Step.CHECK_ID_DOCUMENT
    assert step(VERIFIED, Sale(10_000, 5_000_001, 10_000)) is Step.CHECK_ID_DOCUMENT


def test_an_id_document_lifts_the_amounts_up_to_the_one_off_edd_threshold() -> None:
    assert DOCUMENTED.tier is Tier.DOCUMENT
    assert step(DOCUMENTED, Sale(9_999_999, 20_000_000, 9_999_999)) is None
    assert step(DOCUMENTED, Sale(10_000_000, 10_000_000, 10_000_000)) is Step.ANSWER_EDD
    answered = TierFacts(True, True, True, edd_answered=True)
    assert step(answered, Sale(30_000_000, 30_000_000, 30_000_000)) is None


def test_an_operator_asking_for_edd_stops_every_sale_until_it_is_answered() -> None:
    asked = TierFacts(in_force=True, identity_verified=True, edd_required=True)
    assert step(asked, SMALL) is Step.ANSWER_EDD
    assert step(TierFacts(True, True, edd_answered=True, edd_required=True), SMALL) is None


def test_the_account_page_shows_what_is_left_and_what_unlocks_more() -> None:
    assert room(PHONE_ONLY, LIMITS, 0, 0) == Room(Tier.PHONE, 0, 0, Step.VERIFY_IDENTITY)
    assert room(VERIFIED, LIMITS, 300_000, 4_900_000) == Room(
        Tier.IDENTITY, 700_000, 100_000, Step.CHECK_ID_DOCUMENT
    )
    assert room(VERIFIED, LIMITS, 2_000_000, 0).day_left == 0  # never below zero
    assert room(DOCUMENTED, LIMITS, 0, 0) == Room(Tier.DOCUMENT, None, None, Step.ANSWER_EDD)
    done = TierFacts(True, True, True, edd_answered=True)
    assert room(done, LIMITS, 0, 0).next_step is None


# -- as the KR pack's statutory rule -----------------------------------------------------

KR = pack("KR")
NOW = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
BRAND = next(b for b in CATALOGUE if b.id == "cultureland")


def decide(facts: TierFacts, face: int, history: History = History()) -> policy.Decision:
    item = ItemFacts(BRAND, face, "cash")
    customer = CustomerFacts(id="c-1", completed_sales=3, tiers=facts)
    return policy.evaluate(KR, item, now=NOW, customer=customer, history=history)


def test_the_rule_declines_with_the_code_that_names_the_next_step() -> None:
    assert decide(PHONE_ONLY, 10_000).code == "identity_required"
    assert decide(VERIFIED, 10_000).outcome is Outcome.ACCEPT
    over = decide(VERIFIED, 50_000, History(customer_value_today=990_000))
    assert (over.outcome, over.code, over.statutory) == (
        Outcome.DECLINE,
        "id_document_required",
        True,
    )
    month = decide(VERIFIED, 50_000, History(customer_value_month=4_990_000))
    assert month.code == "id_document_required"
    edd = decide(DOCUMENTED, 50_000, History(submission_value=10_000_000))
    assert edd.code == "due_diligence_required"


def test_operators_may_lower_the_amounts_and_never_raise_them() -> None:
    current = policy.Overrides()
    lowered = policy.patch_rule(
        KR, current, "due_diligence", params={"identity_max_value_per_day": 300_000}
    )
    tighter = policy.apply_overrides(KR, lowered)
    assert tighter.params.identity_max_value_per_day == 300_000
    for name, value in [
        ("identity_max_value_per_day", 2_000_000),
        ("identity_max_value_per_month", 9_000_000),
        ("edd_one_off_value", EDD_ONE_OFF_FLOOR_WON + 1),
    ]:
        with pytest.raises(policy.StatutoryRule):
            policy.patch_rule(KR, current, "due_diligence", params={name: value})
    with pytest.raises(policy.StatutoryRule):
        policy.patch_rule(KR, current, "due_diligence", enabled=False)
    with pytest.raises(policy.StatutoryRule):  # nor through the stored overrides
        policy.apply_overrides(KR, policy.Overrides(params={"edd_one_off_value": 20_000_000}))
