"""Properties of the policy engine over random items, customers and histories:
operator rules only ever add severity, statutory declines survive any accepted
configuration, and the decision does not depend on the order the rules are listed in."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from examples import examples
from giftcash.domain.brands import CATALOGUE
from giftcash.domain.jurisdictions import pack
from giftcash.domain.policy import (
    SEVERITY,
    CustomerFacts,
    History,
    ItemFacts,
    OperatorRule,
    Outcome,
    Overrides,
    RuleSet,
    Sighting,
    Stage,
    apply_overrides,
    evaluate,
)
from giftcash.domain.quotes import FundingSource

PROPERTY = settings(deadline=None, max_examples=examples(150))
NOW = datetime(2025, 3, 10, 3, 0, tzinfo=UTC)
KR = pack("KR")
KRW_BRANDS = [b for b in CATALOGUE if b.currency == "KRW"]
SOURCES = list(FundingSource)
ISSUERS = sorted({b.issuer for b in CATALOGUE})
NON_STATUTORY = sorted(r.id for r in KR.rules if not r.statutory)

minutes = st.integers(min_value=-60 * 24 * 800, max_value=60 * 24 * 400)


@st.composite
def items(draw: st.DrawFn) -> ItemFacts:
    brand = draw(st.sampled_from(KRW_BRANDS))
    face = draw(st.integers(min_value=1, max_value=2_000_000))
    purchased = draw(st.none() | minutes.map(lambda m: NOW - timedelta(minutes=abs(m))))
    expires = draw(st.none() | minutes.map(lambda m: NOW + timedelta(minutes=m)))
    return ItemFacts(
        brand=brand,
        face_value=face,
        declared_source=draw(st.sampled_from(SOURCES)),
        issuer_channel=draw(st.none() | st.sampled_from(SOURCES)),
        purchased_at=purchased,
        expires_at=expires,
        used_value=draw(st.integers(min_value=0, max_value=face)),
    )


customers = st.builds(
    CustomerFacts,
    id=st.sampled_from(["c1", "c2", "c3"]),
    birth_date=st.none() | st.dates(min_value=date(1920, 1, 1), max_value=date(2007, 1, 1)),
    completed_sales=st.integers(min_value=0, max_value=3),
    holder_name_matches=st.none() | st.booleans(),
)

small = st.integers(min_value=0, max_value=40)
won = st.integers(min_value=0, max_value=5_000_000)
histories = st.builds(
    History,
    customer_items_today=small,
    customer_value_today=won,
    account_items_today=small,
    account_value_today=won,
    submission_items_before=small,
    submission_value_before=won,
    submission_value=won,
    customer_failures=st.integers(min_value=0, max_value=12),
    device_failures=st.integers(min_value=0, max_value=12),
    issuer_exposure=won,
    code_sightings=st.lists(
        st.builds(
            Sighting,
            customer_id=st.sampled_from(["c1", "c2", "c9"]),
            decline_code=st.none()
            | st.sampled_from(["limit_exceeded", "carrier_billing_prohibited"]),
        ),
        max_size=2,
    ).map(tuple),
)


@st.composite
def operator_rules(draw: st.DrawFn, n: int) -> OperatorRule:
    outcome = draw(st.sampled_from([Outcome.DECLINE, Outcome.REVIEW, Outcome.HOLD]))
    return OperatorRule(
        id=f"op_rule_{n}",
        outcome=outcome,
        message="operator restriction",
        code=draw(st.sampled_from(["", "operator_custom"])),
        brand_ids=frozenset(draw(st.lists(st.sampled_from([b.id for b in CATALOGUE]), max_size=2))),
        issuers=frozenset(draw(st.lists(st.sampled_from(ISSUERS), max_size=2))),
        funding_sources=frozenset(draw(st.lists(st.sampled_from(SOURCES), max_size=2))),
        min_face_value=draw(st.none() | st.integers(min_value=0, max_value=2_000_000)),
        hold_hours=draw(st.integers(min_value=1, max_value=72)) if outcome is Outcome.HOLD else 0,
    )


@st.composite
def operator_rule_lists(draw: st.DrawFn) -> tuple[OperatorRule, ...]:
    count = draw(st.integers(min_value=1, max_value=4))
    return tuple(draw(operator_rules(i)) for i in range(count))


@st.composite
def overrides(draw: st.DrawFn) -> Overrides:
    """Any configuration ``apply_overrides`` accepts: non-statutory rules off, thresholds
    anywhere, restrictions added."""
    params: dict[str, object] = {}
    for name in ("customer_max_items_per_day", "first_sale_hold_above_value", "scam_age_min"):
        if draw(st.booleans()):
            params[name] = draw(st.integers(min_value=0, max_value=10**7))
    if draw(st.booleans()):
        params["disabled_issuers"] = draw(st.lists(st.sampled_from(ISSUERS), max_size=3))
    return Overrides(
        disabled=frozenset(draw(st.lists(st.sampled_from(NON_STATUTORY), max_size=6))),
        params=params,
        operator_rules=draw(st.lists(operator_rules(99), max_size=1).map(tuple)),
    )


stages = st.sampled_from(list(Stage))


def _decide(rs: RuleSet, it: ItemFacts, c: CustomerFacts, h: History, stage: Stage):
    return evaluate(rs, it, now=NOW, customer=c, history=h, stage=stage, payout=1)


@PROPERTY
@given(items(), customers, histories, stages, operator_rule_lists())
def test_adding_operator_rules_never_makes_a_decision_less_severe(
    it: ItemFacts, c: CustomerFacts, h: History, stage: Stage, ops: tuple[OperatorRule, ...]
) -> None:
    base = _decide(KR, it, c, h, stage)
    more = _decide(apply_overrides(KR, Overrides(operator_rules=ops)), it, c, h, stage)
    assert SEVERITY[more.outcome] >= SEVERITY[base.outcome]
    assert set(more.flags) >= set(base.flags)
    if base.statutory:
        assert (more.outcome, more.code, more.rule_id) == (base.outcome, base.code, base.rule_id)


@PROPERTY
@given(items(), customers, histories, stages, overrides())
def test_no_accepted_configuration_changes_a_statutory_decline(
    it: ItemFacts, c: CustomerFacts, h: History, stage: Stage, ov: Overrides
) -> None:
    base = _decide(KR, it, c, h, stage)
    configured = _decide(apply_overrides(KR, ov), it, c, h, stage)
    if base.outcome is Outcome.DECLINE and base.statutory:
        assert (configured.code, configured.statutory) == (base.code, True)
    # and the statutory verdict follows the effective funding source alone
    prohibited = {
        FundingSource.CARRIER_BILLING: "carrier_billing_prohibited",
        FundingSource.CREDIT_CARD: "credit_card_financing_prohibited",
    }
    assert (configured.code if configured.statutory else None) == prohibited.get(it.funding_source)


@PROPERTY
@given(
    items(), customers, histories, stages, operator_rule_lists(), st.randoms(use_true_random=False)
)
def test_evaluate_does_not_depend_on_rule_order(
    it: ItemFacts,
    c: CustomerFacts,
    h: History,
    stage: Stage,
    ops: tuple[OperatorRule, ...],
    rnd: random.Random,
) -> None:
    rs = apply_overrides(KR, Overrides(operator_rules=ops))
    shuffled = list(rs.rules)
    rnd.shuffle(shuffled)
    again = replace(rs, rules=tuple(shuffled))
    assert _decide(again, it, c, h, stage) == _decide(rs, it, c, h, stage)


@PROPERTY
@given(items(), customers, histories, stages)
def test_a_declined_item_is_never_offered_for_sale_here(
    it: ItemFacts, c: CustomerFacts, h: History, stage: Stage
) -> None:
    d = _decide(KR, it, c, h, stage)
    offered = "sell_here" in {r.route for r in d.routes}
    if d.outcome is Outcome.DECLINE:
        assert not offered
    assert all(r.cash >= 0 and r.value >= r.cash for r in d.routes)
    assert (d.hold_until is not None) == (d.outcome is Outcome.HOLD)
