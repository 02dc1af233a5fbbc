"""Jurisdiction packs: a country's rules (statutory and risk), currency, time zone, default
thresholds and consumer refund terms. ``pack("KR")`` is the default; ``pack("US")`` has no
statutory funding-source rules and shows the engine is not Korea-shaped.

Korea (DESIGN "The law is code", DOMAIN-FACTS §0): discount-buying goods a person paid
for with carrier billing or a credit card is lending disguised as trade, and the buyer,
i.e. giftcash, would be the offender. So those vouchers are declined outright, never
priced lower, and the decline lists the lawful routes. The issuer's report of how a
voucher was paid for overrides the customer's declaration; a mismatch is flagged.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from giftcash.domain import declines as dc
from giftcash.domain import tiers
from giftcash.domain.advisor import KR_TERMS, US_TERMS, UnknownJurisdiction
from giftcash.domain.policy import (
    ALL_STAGES,
    RISK_RULES,
    CustomerFacts,
    Finding,
    History,
    ItemFacts,
    Params,
    Rule,
    RuleSet,
    Stage,
    decline,
    mismatch_flags,
    review,
)
from giftcash.domain.quotes import FundingSource

DEFAULT_JURISDICTION = "KR"

CARRIER_BILLING_STATUTE = "정보통신망법 §72①3"
CREDIT_CARD_STATUTE = "여신전문금융업법 §70"


def _statutory_decline(
    item: ItemFacts,
    c: CustomerFacts,
    source: FundingSource,
    entry: dc.DeclineCode,
    what: str,
    statute: str,
) -> Finding | None:
    if item.funding_source is not source:
        return None
    told = ""
    if item.declaration_mismatch:
        told = " This is what the issuer reports, and its report overrides the declaration."
    return decline(
        entry,
        f"This voucher was paid for {what}. Buying it at a discount for cash is lending "
        f"against that bill, which {statute} prohibits, so giftcash cannot buy it.{told} "
        "The lawful ways to get your money back are listed with this answer.",
        flags=mismatch_flags(item, c),
    )


def _carrier_billing(
    item: ItemFacts, c: CustomerFacts, h: History, p: Params, now: datetime
) -> Finding | None:
    return _statutory_decline(
        item,
        c,
        FundingSource.CARRIER_BILLING,
        dc.CARRIER_BILLING_PROHIBITED,
        "with mobile phone billing (휴대폰 소액결제)",
        CARRIER_BILLING_STATUTE,
    )


def _credit_card(
    item: ItemFacts, c: CustomerFacts, h: History, p: Params, now: datetime
) -> Finding | None:
    return _statutory_decline(
        item,
        c,
        FundingSource.CREDIT_CARD,
        dc.CREDIT_CARD_FINANCING_PROHIBITED,
        "with a credit card",
        CREDIT_CARD_STATUTE,
    )


def _unverified_source(
    item: ItemFacts, c: CustomerFacts, h: History, p: Params, now: datetime
) -> Finding | None:
    # Where the issuer reports the channel, the pre-redemption inquiry settles it.
    if item.funding_source is not FundingSource.UNKNOWN or item.brand.reports_purchase_channel:
        return None
    return review(
        dc.FUNDING_SOURCE_UNVERIFIED,
        "How this voucher was paid for is unknown and its issuer does not say; a reviewer "
        "checks the receipt before it is bought.",
    )


CARRIER_BILLING_RULE = Rule(
    "carrier_billing_prohibited",
    True,
    f"{CARRIER_BILLING_STATUTE} (정보통신망 이용촉진 및 정보보호 등에 관한 법률 제72조 "
    "제1항 제3호): whoever lends money by discount-buying goods a user paid for with "
    "carrier billing commits an offence. A voucher paid for by carrier billing (by the "
    "issuer's report where it gives one, else the declaration) is declined.",
    _carrier_billing,
    stages=ALL_STAGES,
)

CREDIT_CARD_RULE = Rule(
    "credit_card_financing_prohibited",
    True,
    f"{CREDIT_CARD_STATUTE} (여신전문금융업법 제70조): lending money through a sham or "
    "discounted credit-card purchase (카드깡) is an offence. A voucher paid for by credit "
    "card (by the issuer's report where it gives one, else the declaration) is declined.",
    _credit_card,
    stages=ALL_STAGES,
)

DUE_DILIGENCE_STATUTE = "특정금융정보법 §5의2"

_STEP_CODES = {
    tiers.Step.VERIFY_IDENTITY: dc.IDENTITY_REQUIRED,
    tiers.Step.CHECK_ID_DOCUMENT: dc.ID_DOCUMENT_REQUIRED,
    tiers.Step.ANSWER_EDD: dc.DUE_DILIGENCE_REQUIRED,
}


def _due_diligence(
    item: ItemFacts, c: CustomerFacts, h: History, p: Params, now: datetime
) -> Finding | None:
    if item.currency != p.currency:
        return None  # the amounts are in the pack's currency
    before = h.submission_value_before + item.face_value  # this submission up to the item
    sale = tiers.Sale(
        day_value=h.customer_value_today + before,
        month_value=h.customer_value_month + before,
        one_off_value=max(h.submission_value, before),
    )
    limits = tiers.TierLimits(
        p.identity_max_value_per_day, p.identity_max_value_per_month, p.edd_one_off_value
    )
    needed = tiers.requirement(c.tiers, limits, sale)
    if needed is None:
        return None
    return decline(_STEP_CODES[needed.step], f"{_STEP_CODES[needed.step].text} ({needed.reason})")


DUE_DILIGENCE_RULE = Rule(
    "due_diligence",
    True,
    f"{DUE_DILIGENCE_STATUTE} (특정 금융거래정보의 보고 및 이용 등에 관한 법률 제5조의2, "
    "고객확인의무): where identity checks are in force, a customer sells only with a "
    "verified identity (본인인증), above the daily and monthly amounts only after an ID "
    "document check (신분증 진위확인), and a one-off sale from 10,000,000 won, or any "
    "sale when an operator asks it, only after enhanced due diligence (occupation, source "
    "of funds, purpose). Operators may lower the amounts, never raise them.",
    _due_diligence,
    params=("identity_max_value_per_day", "identity_max_value_per_month", "edd_one_off_value"),
)

UNVERIFIED_SOURCE_RULE = Rule(
    "funding_source_unverified",
    False,
    "Sends to review a voucher whose funding source is unknown when its issuer does not "
    "report the purchase channel.",
    _unverified_source,
    stages=frozenset({Stage.INTAKE, Stage.PRE_REDEEM}),
)

KR_STATUTORY_RULES: tuple[Rule, ...] = (CARRIER_BILLING_RULE, CREDIT_CARD_RULE, DUE_DILIGENCE_RULE)

KR_PARAMS = Params(currency="KRW", tz=KR_TERMS.tz)

# US thresholds in cents, of the same order as the Korean ones.
US_PARAMS = replace(
    Params(currency="USD", tz=UTC),
    customer_max_value_per_day=300_000,
    account_max_value_per_day=300_000,
    first_sale_hold_above_value=5_000,
    scam_review_above_value=10_000,
)


def kr_pack() -> RuleSet:
    return RuleSet(
        jurisdiction="KR",
        currency="KRW",
        rules=(*KR_STATUTORY_RULES, UNVERIFIED_SOURCE_RULE, *RISK_RULES),
        params=KR_PARAMS,
        terms=KR_TERMS,
    )


def us_pack() -> RuleSet:
    return RuleSet(
        jurisdiction="US",
        currency="USD",
        rules=RISK_RULES,
        params=US_PARAMS,
        terms=US_TERMS,
    )


PACKS = {"KR": kr_pack(), "US": us_pack()}


def pack(jurisdiction: str = DEFAULT_JURISDICTION) -> RuleSet:
    """The jurisdiction's rule set as shipped, before the operator's overrides."""
    try:
        return PACKS[jurisdiction]
    except KeyError:
        raise UnknownJurisdiction(
            f"no jurisdiction {jurisdiction[:8]!r}; known: {', '.join(sorted(PACKS))}",
            jurisdiction=jurisdiction[:8],
        ) from None
