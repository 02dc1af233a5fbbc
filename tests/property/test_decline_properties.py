"""Every outcome the policy engine can reach names a code in the decline registry whose
end state is that outcome's; the issuer's inquiry answer decides before anything else;
and every refusal the issuer can give at redemption has a registry code that leaves the
item invalid."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st
from test_policy_properties import (
    KR,
    NOW,
    PROPERTY,
    customers,
    histories,
    items,
    operator_rules,
)

from giftcash.domain import declines as dc
from giftcash.domain.policy import (
    ItemFacts,
    Outcome,
    Overrides,
    RuleSet,
    Stage,
    apply_overrides,
    evaluate,
)

END_STATE = {
    Outcome.DECLINE: dc.EndState.DECLINED,
    Outcome.REVIEW: dc.EndState.REVIEW,
    Outcome.HOLD: dc.EndState.HELD,
}
STATUSES = st.sampled_from([None, "active", "used", "expired", "not_found"])


@st.composite
def rulesets(draw: st.DrawFn) -> RuleSet:
    ops = tuple(draw(operator_rules(n)) for n in range(draw(st.integers(0, 3))))
    return apply_overrides(KR, Overrides(operator_rules=ops))


@PROPERTY
@given(rulesets(), items(), STATUSES, customers, histories, st.sampled_from(list(Stage)))
def test_every_outcome_names_a_registered_code_with_its_end_state(
    rs: RuleSet, item: ItemFacts, status, customer, history, stage
) -> None:
    item = replace(item, issuer_status=status)
    d = evaluate(rs, item, now=NOW, customer=customer, history=history, stage=stage)
    if d.outcome is Outcome.ACCEPT:
        assert d.code is None
        return
    assert d.code is not None
    if rs.rule(d.rule_id or "").operator:
        entry = dc.REGISTRY.get(d.code) or dc.OPERATOR_ENTRIES[d.outcome.value]
        assert entry.kind is dc.Kind.OPERATOR
    else:
        entry = dc.lookup(d.code)  # a built-in rule only ever names a registered code
    assert entry.end_state is END_STATE[d.outcome]
    for f in d.findings:  # every opinion, not only the winner's
        if f.outcome is not Outcome.ACCEPT and not rs.rule(f.rule_id).operator:
            assert dc.lookup(f.code).end_state is END_STATE[f.outcome]


@PROPERTY
@given(rulesets(), items(), st.sampled_from(["used", "expired", "not_found"]), customers, histories)
def test_the_issuer_s_answer_decides_before_any_other_rule(
    rs: RuleSet, item: ItemFacts, status, customer, history
) -> None:
    item = replace(item, issuer_status=status)
    d = evaluate(rs, item, now=NOW, customer=customer, history=history, stage=Stage.PRE_REDEEM)
    assert (d.outcome, d.code) == (Outcome.DECLINE, dc.ISSUER_ANSWERS[status].code)
    assert dc.lookup(d.code).needs_routes and dc.lookup(d.code).counts_as_failure


@PROPERTY
@given(st.sampled_from(["already_redeemed", "not_found", "expired"]) | st.text(max_size=20))
def test_every_refusal_at_redemption_leaves_the_item_invalid_under_a_registered_code(
    answer: str,
) -> None:
    entry = dc.for_issuer_answer(answer)
    assert dc.REGISTRY[entry.code] is entry
    assert entry.kind is dc.Kind.ISSUER and entry.redeem_end_state is dc.EndState.INVALID
