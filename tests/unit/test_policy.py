"""The policy engine: statutory rules that cannot be switched off, the issuer's report over
the customer's word, risk controls with their default thresholds, operator rules that can
only add, and the US pack that proves the engine is not Korea-shaped."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from giftcash.domain.advisor import KST, UnknownJurisdiction
from giftcash.domain.brands import CULTURELAND, GOOGLE_PLAY, HAPPYMONEY, MUNHWA, STARBUCKS
from giftcash.domain.errors import CurrencyMismatch, UnknownFundingSource
from giftcash.domain.jurisdictions import (
    CARRIER_BILLING_RULE,
    CREDIT_CARD_RULE,
    KR_STATUTORY_RULES,
    pack,
)
from giftcash.domain.policy import (
    SCAM_WARNING,
    CustomerFacts,
    Flag,
    History,
    InvalidRuleConfig,
    ItemFacts,
    OperatorRule,
    Outcome,
    Overrides,
    Rule,
    RuleNotFound,
    RuleSet,
    Sighting,
    Stage,
    StatutoryRule,
    apply_overrides,
    day_bounds,
    decline,
    evaluate,
    patch_rule,
    rule_table,
)

NOW = datetime(2025, 3, 10, 3, 0, tzinfo=UTC)  # 12:00 in Seoul
KR = pack("KR")
US = pack("US")
RETURNING = CustomerFacts(id="c-returning", completed_sales=3)
NEWBIE = CustomerFacts(id="c-new", completed_sales=0)
USD_BRAND = replace(GOOGLE_PLAY, id="google_play_us", currency="USD")


def item(source: str = "cash", face: int = 50_000, **kw: object) -> ItemFacts:
    kw.setdefault("brand", CULTURELAND)
    return ItemFacts(face_value=face, declared_source=source, **kw)  # type: ignore[arg-type]


def decide(it: ItemFacts, ruleset: RuleSet = KR, **kw: object):
    kw.setdefault("customer", RETURNING)
    kw.setdefault("payout", it.face_value * 9 // 10)
    return evaluate(ruleset, it, now=NOW, **kw)  # type: ignore[arg-type]


def route_ids(decision) -> list[str]:
    return [r.route for r in decision.routes]


# -- KR statutory rules ---------------------------------------------------------------


def test_the_kr_statutory_rules_cite_their_statutes() -> None:
    statutory = {r.id: r for r in KR.rules if r.statutory}
    assert set(statutory) == {
        "carrier_billing_prohibited",
        "credit_card_financing_prohibited",
        "due_diligence",
    }
    assert "정보통신망법 §72①3" in statutory["carrier_billing_prohibited"].description
    assert "여신전문금융업법 §70" in statutory["credit_card_financing_prohibited"].description
    assert "특정금융정보법 §5의2" in statutory["due_diligence"].description
    # the prohibitions apply at every stage, from the first quote on; due diligence when
    # a customer's sale comes in (the quote has no customer, redemption no new amount)
    prohibitions = [r for r in KR_STATUTORY_RULES if r.id != "due_diligence"]
    assert all(r.stages == frozenset(Stage) for r in prohibitions)
    assert statutory["due_diligence"].stages == frozenset({Stage.INTAKE})


@pytest.mark.parametrize(
    ("source", "code", "statute"),
    [
        ("carrier_billing", "carrier_billing_prohibited", "정보통신망법 §72①3"),
        ("credit_card", "credit_card_financing_prohibited", "여신전문금융업법 §70"),
    ],
)
@pytest.mark.parametrize("stage", list(Stage))
def test_a_declared_credit_source_is_declined_with_lawful_routes(
    source: str, code: str, statute: str, stage: Stage
) -> None:
    it = item(source, purchased_at=NOW - timedelta(hours=1))
    d = decide(it, stage=stage)
    assert d.outcome is Outcome.DECLINE
    assert (d.code, d.rule_id, d.statutory) == (code, code, True)
    assert statute in d.message
    # declined, never priced lower: nothing to sell here, the lawful routes instead
    assert "sell_here" not in route_ids(d)
    assert route_ids(d)[:2] == ["cancel_payment", "withdraw_7_days"]
    assert d.flags == ()  # the customer told the truth


def test_the_issuers_report_overrides_a_cash_declaration_and_is_flagged() -> None:
    it = item("cash", issuer_channel="carrier_billing", purchased_at=NOW - timedelta(days=2))
    d = decide(it, customer=replace(RETURNING, id="c7"))
    assert (d.outcome, d.code) == (Outcome.DECLINE, "carrier_billing_prohibited")
    assert Flag("declaration_mismatch", "c7") in d.flags
    assert "issuer reports" in d.message
    assert "cancel_payment" in route_ids(d)


def test_the_issuers_report_of_cash_overrides_a_credit_declaration() -> None:
    it = item("credit_card", issuer_channel="cash")
    d = decide(it)
    assert d.outcome is Outcome.ACCEPT
    assert d.flags == (Flag("declaration_mismatch", RETURNING.id),)
    assert route_ids(d)[0] == "sell_here"


def test_unknown_is_not_a_declaration_so_it_never_mismatches() -> None:
    d = decide(item("unknown", issuer_channel="credit_card"))
    assert d.code == "credit_card_financing_prohibited"
    assert d.flags == ()


def test_a_cash_voucher_is_accepted_with_its_price_first() -> None:
    d = decide(item("cash", purchased_at=NOW - timedelta(days=30)))
    assert (d.outcome, d.code, d.rule_id) == (Outcome.ACCEPT, None, None)
    assert d.routes[0].route == "sell_here"
    assert d.routes[0].cash == 45_000


def test_a_statutory_decline_wins_over_every_other_decline() -> None:
    it = item("carrier_billing")
    hist = History(code_sightings=(Sighting("c-other"),), customer_failures=99)
    d = decide(it, history=hist)
    assert d.code == "carrier_billing_prohibited"
    assert [f.rule_id for f in d.findings][:1] == ["carrier_billing_prohibited"]
    assert {f.code for f in d.findings} >= {"duplicate_code", "too_many_attempts"}
    # the losers' flags still reach the review queue
    assert Flag("duplicate_code", "c-other") in d.flags


def test_a_forged_funding_source_is_refused_by_name() -> None:
    with pytest.raises(UnknownFundingSource):
        item("paypal")
    with pytest.raises(UnknownFundingSource):
        item("cash", issuer_channel="barter")


# -- statutory rules cannot be disabled or relaxed -------------------------------------


def test_disabling_a_statutory_rule_is_refused_as_statutory_rule() -> None:
    for rule in KR_STATUTORY_RULES:
        with pytest.raises(StatutoryRule) as e:
            apply_overrides(KR, Overrides(disabled=frozenset({rule.id})))
        assert e.value.code == "statutory_rule"
        assert e.value.kind == "forbidden"
        assert e.value.context["rule_id"] == rule.id


def test_the_admin_patch_and_the_config_file_refuse_it_too() -> None:
    with pytest.raises(StatutoryRule):
        patch_rule(KR, Overrides(), "carrier_billing_prohibited", enabled=False)
    with pytest.raises(StatutoryRule):  # statutory rules have no threshold to relax
        patch_rule(KR, Overrides(), "credit_card_financing_prohibited", params={"scam_age_min": 0})
    with pytest.raises(StatutoryRule):
        apply_overrides(KR, Overrides.from_dict({"disabled": ["credit_card_financing_prohibited"]}))
    with pytest.raises(StatutoryRule):  # nor can a rule set be built that way
        replace(KR, disabled=frozenset({"carrier_billing_prohibited"}))
    # enabling it is a no-op, not an error
    same = patch_rule(KR, Overrides(), "carrier_billing_prohibited", enabled=True)
    assert same.disabled == frozenset()


def test_an_operator_rule_cannot_take_a_statutory_rules_id() -> None:
    shadow = OperatorRule("carrier_billing_prohibited", Outcome.REVIEW, "shadow")
    with pytest.raises(StatutoryRule):
        apply_overrides(KR, Overrides(operator_rules=(shadow,)))


def _with_statutory_threshold() -> RuleSet:
    """A pack whose statutory rule reads a threshold: it may only tighten."""

    def check(it, c, h, p, now):
        if h.customer_items_today + 1 > p.customer_max_items_per_day:
            return decline("statutory_cap", "statutory cap")
        return None

    rule = Rule(
        "statutory_cap",
        True,
        "a cap set by law",
        check,
        params=("customer_max_items_per_day",),
    )
    return replace(KR, rules=(*KR.rules, rule))


def test_a_statutory_threshold_moves_only_towards_stricter() -> None:
    rs = _with_statutory_threshold()
    base = rs.params.customer_max_items_per_day
    tighter = apply_overrides(rs, Overrides(params={"customer_max_items_per_day": base - 1}))
    assert tighter.params.customer_max_items_per_day == base - 1
    with pytest.raises(StatutoryRule):
        apply_overrides(rs, Overrides(params={"customer_max_items_per_day": base + 1}))
    with pytest.raises(StatutoryRule):
        patch_rule(rs, Overrides(), "statutory_cap", params={"customer_max_items_per_day": 999})
    ok = patch_rule(rs, Overrides(), "statutory_cap", params={"customer_max_items_per_day": 1})
    assert ok.params == {"customer_max_items_per_day": 1}


def test_an_operator_may_disable_a_risk_rule_and_the_table_shows_it() -> None:
    ov = patch_rule(KR, Overrides(), "first_sale_hold", enabled=False)
    rs = apply_overrides(KR, ov)
    table = {r.id: r for r in rule_table(rs)}
    assert table["first_sale_hold"].enabled is False
    assert table["carrier_billing_prohibited"].enabled is True
    assert [r.statutory for r in rule_table(rs)][:2] == [True, True]
    big_first_sale = item(face=200_000)
    assert decide(big_first_sale, customer=NEWBIE).outcome is Outcome.HOLD
    assert decide(big_first_sale, rs, customer=NEWBIE).outcome is Outcome.ACCEPT
    again = patch_rule(KR, ov, "first_sale_hold", enabled=True)
    assert again.disabled == frozenset()


@pytest.mark.parametrize(
    "overrides",
    [
        {"params": {"no_such_threshold": 1}},
        {"params": {"currency": "USD"}},
        {"params": {"customer_max_items_per_day": -1}},
        {"params": {"customer_max_items_per_day": True}},
        {"params": {"customer_max_items_per_day": "5"}},
        {"params": {"customer_max_items_per_day": None}},
        {"params": {"disabled_issuers": "happymoney"}},
        {"params": {"issuer_exposure_caps": {"munhwa": -5}}},
        {"surprise": 1},
        {"operator_rules": [{"id": "r1", "outcome": "accept", "message": "let it through"}]},
        {"operator_rules": [{"id": "r1", "outcome": "hold", "message": "no hours"}]},
        {"operator_rules": [{"id": "R 1", "outcome": "review", "message": "bad id"}]},
        {"operator_rules": [{"id": "r1", "outcome": "review", "message": "x", "colour": 1}]},
        {"operator_rules": [{"id": "duplicate_code", "outcome": "review", "message": "x"}]},
    ],
)
def test_bad_configuration_is_refused_with_invalid_rule_config(overrides: dict) -> None:
    with pytest.raises(InvalidRuleConfig) as e:
        apply_overrides(KR, Overrides.from_dict(overrides))
    assert e.value.code == "invalid_rule_config"


def test_an_unknown_rule_is_not_found() -> None:
    with pytest.raises(RuleNotFound):
        apply_overrides(KR, Overrides(disabled=frozenset({"nope"})))
    with pytest.raises(RuleNotFound):
        patch_rule(KR, Overrides(), "nope", enabled=False)


def test_a_patch_may_only_touch_its_own_rules_thresholds() -> None:
    with pytest.raises(InvalidRuleConfig):
        patch_rule(KR, Overrides(), "first_sale_hold", params={"scam_age_min": 60})
    ov = patch_rule(KR, Overrides(), "scam_victim_guard", params={"scam_age_min": 60})
    assert apply_overrides(KR, ov).params.scam_age_min == 60


def test_overrides_survive_a_round_trip_through_storage() -> None:
    ov = Overrides(
        disabled=frozenset({"velocity_account"}),
        params={"disabled_issuers": ["happymoney"], "issuer_exposure_caps": {"munhwa": 10}},
        operator_rules=(
            OperatorRule(
                "big_google",
                Outcome.DECLINE,
                "no large Google codes",
                brand_ids=frozenset({"google_play_kr"}),
                min_face_value=100_000,
            ),
        ),
    )
    back = Overrides.from_dict(ov.to_dict())
    assert back.to_dict() == ov.to_dict()
    rs = apply_overrides(KR, back)
    assert rs.params.disabled_issuers == frozenset({"happymoney"})
    assert rs.params.exposure_cap("munhwa") == 10


# -- operator rules only add ------------------------------------------------------------


def test_operator_rules_decline_review_and_hold() -> None:
    rules = (
        OperatorRule(
            "no_big_munhwa",
            Outcome.DECLINE,
            "We do not buy 문화상품권 above 50,000 won.",
            code="brand_value_cap",
            brand_ids=frozenset({"munhwa"}),
            min_face_value=50_001,
        ),
        OperatorRule(
            "review_large", Outcome.REVIEW, "Large items are checked.", min_face_value=300_000
        ),
        OperatorRule(
            "hold_starbucks",
            Outcome.HOLD,
            "Held a day.",
            issuers=frozenset({"starbucks_kr"}),
            hold_hours=24,
        ),
    )
    rs = apply_overrides(KR, Overrides(operator_rules=rules))
    d = decide(item(brand=MUNHWA, face=100_000), rs, stage=Stage.QUOTE)
    assert (d.outcome, d.code, d.rule_id) == (Outcome.DECLINE, "brand_value_cap", "no_big_munhwa")
    assert decide(item(brand=MUNHWA, face=50_000), rs).outcome is Outcome.ACCEPT
    d = decide(item(face=300_000), rs)
    assert (d.outcome, d.code) == (Outcome.REVIEW, "operator_review")
    d = decide(item(brand=STARBUCKS, face=10_000), rs)
    assert (d.outcome, d.hold_until) == (Outcome.HOLD, NOW + timedelta(hours=24))


def test_an_operator_rule_can_never_turn_a_statutory_decline_into_accept() -> None:
    # The strongest thing an operator can write is another decline; there is no accept.
    with pytest.raises(InvalidRuleConfig):
        OperatorRule("allow_phone_bills", Outcome.ACCEPT, "let them through")
    everything = tuple(
        OperatorRule(f"op_{o}", o, "restrict", hold_hours=1 if o is Outcome.HOLD else 0)
        for o in (Outcome.DECLINE, Outcome.REVIEW, Outcome.HOLD)
    )
    rs = apply_overrides(KR, Overrides(operator_rules=everything))
    d = decide(item("carrier_billing"), rs)
    assert (d.outcome, d.code, d.statutory) == (
        Outcome.DECLINE,
        "carrier_billing_prohibited",
        True,
    )
    # the operator's decline is seen, and loses to the statute
    assert {f.rule_id for f in d.findings} >= {"op_decline", "op_review", "op_hold"}


# -- risk controls --------------------------------------------------------------------


def test_a_code_seen_before_is_declined_and_both_customers_flagged() -> None:
    d = decide(
        item(),
        customer=replace(RETURNING, id="c2"),
        history=History(code_sightings=(Sighting("c1"),)),
    )
    assert (d.outcome, d.code) == (Outcome.DECLINE, "duplicate_code")
    assert set(d.flags) == {Flag("duplicate_code", "c1"), Flag("duplicate_code", "c2")}


def test_a_code_declined_only_for_now_may_come_back() -> None:
    again = History(code_sightings=(Sighting("c1", "limit_exceeded"),))
    assert decide(item(), history=again).outcome is Outcome.ACCEPT
    after_statutory = History(code_sightings=(Sighting("c1", "carrier_billing_prohibited"),))
    assert decide(item(), history=after_statutory).code == "duplicate_code"


def test_velocity_per_customer_counts_items_and_value_per_day() -> None:
    p = KR.params
    full = History(customer_items_today=p.customer_max_items_per_day - 1)
    assert decide(item(face=1_000), history=full).outcome is Outcome.ACCEPT
    over = replace(full, submission_items_before=1)
    d = decide(item(face=1_000), history=over)
    assert (d.code, d.rule_id) == ("limit_exceeded", "velocity_customer")
    at_value = History(customer_value_today=p.customer_max_value_per_day - 50_000)
    assert decide(item(), history=at_value).outcome is Outcome.ACCEPT
    assert decide(item(face=51_000), history=at_value).code == "limit_exceeded"


def test_velocity_per_bank_account() -> None:
    p = KR.params
    h = History(account_value_today=p.account_max_value_per_day)
    d = decide(item(face=1_000), history=h)
    assert (d.code, d.rule_id) == ("limit_exceeded", "velocity_account")


@pytest.mark.parametrize(
    ("history", "declined"),
    [
        (History(customer_failures=4), False),
        (History(customer_failures=5), True),
        (History(device_failures=9), False),
        (History(device_failures=10), False),  # shared address: review (below)
    ],
)
def test_the_brute_force_guard_counts_failures(history: History, declined: bool) -> None:
    d = decide(item(), history=history)
    assert (d.code == "too_many_attempts") is declined


def test_failures_from_a_shared_address_send_to_review_never_decline() -> None:
    """Customers behind one carrier NAT share an address: its failures are not theirs."""
    d = decide(item(), history=History(device_failures=50))
    assert (d.outcome, d.code) == (Outcome.REVIEW, "shared_address_check")
    mine = decide(item(), history=History(device_failures=50, customer_failures=5))
    assert (mine.outcome, mine.code) == (Outcome.DECLINE, "too_many_attempts")


def test_defaults_let_a_first_sale_of_50000_won_through() -> None:
    just = item(face=50_000, purchased_at=NOW - timedelta(minutes=5))
    d = decide(just, customer=NEWBIE, history=History(submission_value=50_000))
    assert (d.outcome, d.hold_until, d.warning) == (Outcome.ACCEPT, None, None)


def test_a_larger_first_sale_is_held() -> None:
    d = decide(item(face=50_000), customer=NEWBIE, history=History(submission_value=60_000))
    assert (d.outcome, d.code) == (Outcome.HOLD, "first_sale_hold")
    assert d.hold_until == NOW + timedelta(hours=24)
    assert "sell_here" in route_ids(d)
    assert decide(item(face=50_000), history=History(submission_value=60_000)).outcome is (
        Outcome.ACCEPT
    )


def test_a_first_seller_with_300000_won_bought_five_minutes_ago_is_reviewed() -> None:
    six = [item(face=50_000, purchased_at=NOW - timedelta(minutes=5)) for _ in range(6)]
    for n, it in enumerate(six):
        h = History(
            submission_value=300_000, submission_items_before=n, submission_value_before=50_000 * n
        )
        d = decide(it, customer=NEWBIE, history=h)
        assert (d.outcome, d.code, d.rule_id) == (Outcome.REVIEW, "scam_check", "scam_victim_guard")
        assert d.warning == SCAM_WARNING
        assert "someone" in d.warning and "112" in d.warning
        assert d.hold_until is None  # the reviewer decides, not the timer
        assert {f.code for f in d.findings} == {"scam_check", "first_sale_hold"}


def test_the_scam_guard_needs_a_recent_purchase_and_a_first_sale() -> None:
    old = item(face=50_000, purchased_at=NOW - timedelta(hours=4))
    big = History(submission_value=300_000)
    assert decide(old, customer=NEWBIE, history=big).outcome is Outcome.HOLD
    fresh = item(face=50_000, purchased_at=NOW - timedelta(minutes=5))
    assert decide(fresh, history=big).outcome is Outcome.ACCEPT  # a returning seller


def test_the_operator_age_band_sends_a_first_sale_to_review() -> None:
    rs = apply_overrides(KR, Overrides(params={"scam_age_min": 65}))
    senior = replace(NEWBIE, birth_date=date(1955, 3, 10))  # 70 on the day (KST)
    adult = replace(NEWBIE, birth_date=date(1985, 1, 1))
    d = decide(item(face=10_000), rs, customer=senior)
    assert (d.outcome, d.warning) == (Outcome.REVIEW, SCAM_WARNING)
    assert decide(item(face=10_000), rs, customer=adult).outcome is Outcome.ACCEPT
    assert decide(item(face=10_000), KR, customer=senior).outcome is Outcome.ACCEPT
    turns_65_tomorrow = replace(NEWBIE, birth_date=date(1960, 3, 11))
    assert decide(item(face=10_000), rs, customer=turns_65_tomorrow).outcome is Outcome.ACCEPT


def test_payouts_go_only_to_the_customers_own_name() -> None:
    d = decide(item(), customer=replace(RETURNING, holder_name_matches=False))
    assert d.code == "account_holder_mismatch"
    assert decide(item(), customer=replace(RETURNING, holder_name_matches=True)).code is None


@pytest.mark.parametrize("stage", list(Stage))
def test_the_issuer_kill_switch_declines_at_every_stage(stage: Stage) -> None:
    rs = apply_overrides(KR, Overrides(params={"disabled_issuers": ["cultureland"]}))
    d = decide(item(), rs, stage=stage)
    assert (d.outcome, d.code) == (Outcome.DECLINE, "issuer_disabled")
    assert decide(item(brand=MUNHWA), rs, stage=stage).outcome is Outcome.ACCEPT


def test_a_disabled_brand_is_declined() -> None:
    assert decide(item(brand=HAPPYMONEY, face=10_000)).code == "brand_disabled"


def test_the_issuer_exposure_cap() -> None:
    rs = apply_overrides(KR, Overrides(params={"issuer_exposure_caps": {"cultureland": 1_000_000}}))
    h = History(issuer_exposure=950_000)
    assert decide(item(face=50_000), rs, history=h).outcome is Outcome.ACCEPT
    d = decide(
        item(face=50_000), rs, history=replace(h, issuer_exposure=950_001), stage="pre_redeem"
    )
    assert d.code == "issuer_exposure_cap"
    assert decide(item(brand=MUNHWA), rs, history=replace(h, issuer_exposure=10**9)).code is None


def test_an_unverifiable_unknown_source_goes_to_review() -> None:
    google = item("unknown", brand=GOOGLE_PLAY, face=50_000)
    assert decide(google).code == "funding_source_unverified"
    # Cultureland reports its channel: the pre-redemption inquiry will settle it
    assert decide(item("unknown")).outcome is Outcome.ACCEPT


def test_a_quote_runs_only_quote_stage_rules() -> None:
    seen = History(code_sightings=(Sighting("c1"),))
    assert decide(item(), history=seen, stage=Stage.QUOTE).outcome is Outcome.ACCEPT
    assert decide(item(), history=seen, stage=Stage.INTAKE).code == "duplicate_code"


# -- jurisdictions --------------------------------------------------------------------


def test_the_us_pack_quotes_carrier_billed_vouchers() -> None:
    assert not any(r.statutory for r in US.rules)
    assert US.currency == "USD"
    it = item("carrier_billing", brand=USD_BRAND, face=5_000)
    d = decide(it, US, payout=4_100)
    assert d.outcome is Outcome.ACCEPT
    assert [r.route for r in d.routes] == ["sell_here", "keep"]
    assert d.routes[0].currency == "USD"
    # the same voucher in Korea is declined
    assert decide(item("carrier_billing", face=5_000)).code == "carrier_billing_prohibited"


def test_amount_thresholds_refuse_another_currency() -> None:
    with pytest.raises(CurrencyMismatch):
        decide(item("cash"), US)  # a KRW voucher against USD thresholds
    # a quote in the US pack needs no amount thresholds, so it still answers
    assert decide(item("carrier_billing"), US, stage=Stage.QUOTE).outcome is Outcome.ACCEPT


def test_packs_by_name() -> None:
    assert pack() is KR
    assert CARRIER_BILLING_RULE in KR.rules and CREDIT_CARD_RULE in KR.rules
    with pytest.raises(UnknownJurisdiction):
        pack("XX")


def test_today_is_the_korean_calendar_day() -> None:
    late = datetime(2025, 3, 10, 16, 0, tzinfo=UTC)  # 01:00 on 11 March in Seoul
    start, end = day_bounds(KR, late)
    assert start == datetime(2025, 3, 11, tzinfo=KST)
    assert end - start == timedelta(days=1)
    assert day_bounds(US, late)[0] == datetime(2025, 3, 10, tzinfo=UTC)
