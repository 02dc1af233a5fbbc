"""The policy engine: rules are pure functions of an item, its customer, their history and
the jurisdiction's thresholds, and the most severe finding decides.

- A rule returns a ``Finding`` (accept, hold, review or decline, with a code and a plain
  message) or ``None`` (no opinion). ``evaluate`` runs every active rule of a ``RuleSet``
  for a stage, and the winner is the most severe finding: decline > review > hold >
  accept; among equals a statutory rule wins, then the smaller rule id. The result never
  depends on the order the rules are listed in.
- *Statutory* rules put a statute into code. They cannot be disabled, and a threshold
  they read may only move in the stricter direction: ``apply_overrides`` and
  ``patch_rule`` refuse with ``StatutoryRule`` (code ``statutory_rule``, kind
  ``forbidden``), whether the change comes from the admin API, the CLI or configuration.
- *Operator* rules are data (``OperatorRule``) and can only decline, review or hold, so
  adding one can only make a decision more severe (a property test checks it).
- Every finding keeps its flags (e.g. ``declaration_mismatch`` for the review queue), and
  the decision carries them all, whichever finding won.

The jurisdiction packs (the rules of a country, its currency and default thresholds) are
in ``jurisdictions``; the routes a decision lists come from ``advisor``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from giftcash.domain import declines as dc
from giftcash.domain.advisor import (
    KR_TERMS,
    Advice,
    RefundTerms,
    Route,
    advise,
    local_date,
    start_of,
)
from giftcash.domain.brands import Brand
from giftcash.domain.brands import Kind as BrandKind
from giftcash.domain.coupons import days_left
from giftcash.domain.errors import CurrencyMismatch, DomainError
from giftcash.domain.money import DEFAULT_CURRENCY, Money
from giftcash.domain.quotes import FundingSource, funding_source, source_of
from giftcash.domain.tiers import EDD_ONE_OFF_FLOOR_WON, TierFacts

# -- errors ---------------------------------------------------------------------------


class StatutoryRule(DomainError):
    """An attempt to disable or relax a rule that puts a statute into code."""

    code = "statutory_rule"
    kind = "forbidden"


class RuleNotFound(DomainError):
    code = "rule_not_found"
    kind = "not_found"


class InvalidRuleConfig(DomainError):
    code = "invalid_rule_config"


# -- outcomes, findings, decisions -----------------------------------------------------


class Outcome(StrEnum):
    ACCEPT = "accept"
    HOLD = "hold"
    REVIEW = "review"
    DECLINE = "decline"


SEVERITY: Mapping[Outcome, int] = {
    Outcome.ACCEPT: 0,
    Outcome.HOLD: 1,
    Outcome.REVIEW: 2,
    Outcome.DECLINE: 3,
}


class Stage(StrEnum):
    QUOTE = "quote"  # a price is asked for: no code, no customer history yet
    INTAKE = "intake"  # a code is submitted
    PRE_REDEEM = "pre_redeem"  # the issuer has answered the balance inquiry


ALL_STAGES = frozenset(Stage)
INTAKE_ONLY = frozenset({Stage.INTAKE})

# Declines that say "not now" rather than "never": the same code may be submitted again
# later without counting as a duplicate (the registry's ``retryable`` entries).
RETRYABLE_DECLINES = dc.RETRYABLE


@dataclass(frozen=True, slots=True, order=True)
class Flag:
    """Something for the review queue or a customer's record; not a verdict."""

    code: str
    customer_id: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    outcome: Outcome
    code: str
    message: str
    hold_until: datetime | None = None  # for a hold: the payout waits until then
    warning: str | None = None  # text the customer must see (e.g. the scam warning)
    flags: tuple[Flag, ...] = ()
    rule_id: str = ""  # filled in by ``evaluate``
    statutory: bool = False  # filled in by ``evaluate``


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    code: str | None
    message: str
    rule_id: str | None
    statutory: bool = False
    routes: tuple[Route, ...] = ()
    hold_until: datetime | None = None  # set only when the outcome is hold
    warning: str | None = None
    flags: tuple[Flag, ...] = ()
    findings: tuple[Finding, ...] = ()  # every rule that had an opinion, winner first
    routes_note: str | None = None

    @property
    def declined(self) -> bool:
        return self.outcome is Outcome.DECLINE


# -- the facts a rule sees ------------------------------------------------------------


def _source_or_none(value: FundingSource | str | None) -> FundingSource | None:
    return None if value is None else funding_source(value)


@dataclass(frozen=True, slots=True)
class ItemFacts:
    brand: Brand
    face_value: int  # minor units of brand.currency
    declared_source: FundingSource | str
    issuer_channel: FundingSource | str | None = None  # what the issuer reported, if it did
    purchased_at: datetime | None = None
    expires_at: datetime | None = None
    used_value: int = 0  # face value minus the issuer's balance
    # The issuer's inquiry answer: active | used | expired | not_found (None: not asked)
    issuer_status: str | None = None

    def __post_init__(self) -> None:
        # str in, enum stored; an unknown value raises ``unknown_funding_source``
        object.__setattr__(self, "declared_source", funding_source(self.declared_source))
        object.__setattr__(self, "issuer_channel", _source_or_none(self.issuer_channel))

    @property
    def brand_id(self) -> str:
        return self.brand.id

    @property
    def issuer(self) -> str:
        return self.brand.issuer

    @property
    def currency(self) -> str:
        return self.brand.currency

    @property
    def funding_source(self) -> FundingSource:
        """The issuer's answer where it gave one; otherwise the customer's declaration."""
        if self.issuer_channel is not None:
            return source_of(self.issuer_channel)
        return source_of(self.declared_source)

    @property
    def declaration_mismatch(self) -> bool:
        """The customer declared one source and the issuer reports another. ``unknown``
        is not a declaration, so it never mismatches."""
        declared = source_of(self.declared_source)
        return (
            self.issuer_channel is not None
            and declared is not FundingSource.UNKNOWN
            and declared != self.issuer_channel
        )


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    id: str = ""
    birth_date: date | None = None
    created_at: datetime | None = None
    completed_sales: int = 0  # items paid out before
    holder_name_matches: bool | None = None  # payout account holder == verified name
    device_key: str | None = None  # device / IP key the failure counts are kept under
    tiers: TierFacts = field(default_factory=TierFacts)  # due diligence (domain/tiers.py)

    @property
    def first_sale(self) -> bool:
        return self.completed_sales == 0

    def age_on(self, day: date) -> int | None:
        if self.birth_date is None:
            return None
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))


@dataclass(frozen=True, slots=True)
class Sighting:
    """An earlier item with the same code (found by keyed hash)."""

    customer_id: str
    decline_code: str | None = None  # None: accepted, redeemed or paid


@dataclass(frozen=True, slots=True)
class History:
    """Counts and sums the service reads before it asks. "Today" is the calendar day in
    the pack's time zone (``day_bounds``); the failure counts cover the last
    ``Params.failure_window_minutes``. Items of the same submission are evaluated in
    order: ``submission_*_before`` count its earlier items that were not declined, and
    the ``*_today`` fields count what came before the submission."""

    customer_items_today: int = 0
    customer_value_today: int = 0
    customer_value_month: int = 0  # this calendar month, before the submission
    account_items_today: int = 0  # the bank account this submission pays into
    account_value_today: int = 0
    submission_items_before: int = 0
    submission_value_before: int = 0
    submission_value: int = 0  # face value of the whole submission (0: this item only)
    customer_failures: int = 0  # invalid codes, bad logins, bad SMS codes in the window
    device_failures: int = 0  # the same, for the device / IP key
    issuer_exposure: int = 0  # value held at this item's issuer, not yet settled
    code_sightings: tuple[Sighting, ...] = ()

    def selling_value(self, item: ItemFacts) -> int:
        """What the customer is selling today including the whole of this submission."""
        submission = max(self.submission_value, self.submission_value_before + item.face_value)
        return self.customer_value_today + submission


# -- thresholds -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Params:
    """Every threshold a rule reads. Amounts are minor units of ``currency``.

    ``currency`` and ``tz`` belong to the pack and cannot be overridden. The defaults
    let a first sale of up to 50,000 won through without review or hold."""

    currency: str = DEFAULT_CURRENCY
    tz: tzinfo = KR_TERMS.tz
    # velocity, per calendar day
    customer_max_items_per_day: int = 30
    customer_max_value_per_day: int = 3_000_000
    account_max_items_per_day: int = 30
    account_max_value_per_day: int = 3_000_000
    # brute-force guard: failed attempts in a window lock submissions
    failure_window_minutes: int = 15
    customer_max_failures: int = 5
    device_max_failures: int = 10
    # first-sale hold
    first_sale_hold_above_value: int = 50_000
    first_sale_hold_hours: int = 24
    # scam-victim guard
    scam_review_above_value: int = 100_000
    scam_recent_purchase_minutes: int = 180
    scam_age_min: int | None = None  # an age band the operator sets (None: none)
    scam_age_max: int | None = None
    # issuers
    disabled_issuers: frozenset[str] = frozenset()
    issuer_exposure_caps: tuple[tuple[str, int], ...] = ()  # (issuer, cap), sorted
    default_issuer_exposure_cap: int | None = None  # None: no cap
    # due diligence by amount (domain/tiers.py): a verified identity sells up to these a
    # day and a month, an ID document check above; EDD from the one-off amount
    identity_max_value_per_day: int = 1_000_000
    identity_max_value_per_month: int = 5_000_000
    edd_one_off_value: int = EDD_ONE_OFF_FLOOR_WON
    # resale (domain/resale.py BuyerLimits): the most one buyer orders a day and a
    # calendar month (open and paid orders)
    buyer_max_value_per_day: int = 1_000_000
    buyer_max_value_per_month: int = 3_000_000

    def exposure_cap(self, issuer: str) -> int | None:
        return dict(self.issuer_exposure_caps).get(issuer, self.default_issuer_exposure_cap)


# How each threshold tightens: "lower" (a smaller number is stricter; None = no limit),
# "higher" (a larger number is stricter; None = nothing), "more" (a superset is stricter),
# "caps" (per-issuer caps, each lower is stricter).
PARAM_DIRECTION: Mapping[str, str] = {
    "customer_max_items_per_day": "lower",
    "customer_max_value_per_day": "lower",
    "account_max_items_per_day": "lower",
    "account_max_value_per_day": "lower",
    "failure_window_minutes": "higher",
    "customer_max_failures": "lower",
    "device_max_failures": "lower",
    "first_sale_hold_above_value": "lower",
    "first_sale_hold_hours": "higher",
    "scam_review_above_value": "lower",
    "scam_recent_purchase_minutes": "higher",
    "scam_age_min": "lower",
    "scam_age_max": "higher",
    "disabled_issuers": "more",
    "issuer_exposure_caps": "caps",
    "default_issuer_exposure_cap": "lower",
    "identity_max_value_per_day": "lower",
    "identity_max_value_per_month": "lower",
    "edd_one_off_value": "lower",
    "buyer_max_value_per_day": "lower",
    "buyer_max_value_per_month": "lower",
}
_OPTIONAL = {"scam_age_min", "scam_age_max", "default_issuer_exposure_cap"}
assert set(PARAM_DIRECTION) == {f.name for f in fields(Params)} - {"currency", "tz"}


def _same_currency(item: ItemFacts, p: Params) -> None:
    """Amount thresholds mean nothing in another currency: refuse rather than compare."""
    if item.currency != p.currency:
        raise CurrencyMismatch(
            f"the thresholds are in {p.currency}; the item is in {item.currency}",
            left=p.currency,
            right=item.currency,
        )


# -- rules ----------------------------------------------------------------------------

Check = Callable[[ItemFacts, CustomerFacts, History, Params, datetime], Finding | None]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    statutory: bool
    description: str  # a statutory rule's description cites its statute
    check: Check
    stages: frozenset[Stage] = INTAKE_ONLY
    params: tuple[str, ...] = ()  # the Params fields it reads
    operator: bool = False  # added by the operator's configuration


def decline(entry: dc.DeclineCode, message: str, **kw: Any) -> Finding:
    assert entry.end_state is dc.EndState.DECLINED, f"{entry.code} does not decline"
    return Finding(Outcome.DECLINE, entry.code, message, **kw)


def review(entry: dc.DeclineCode, message: str, **kw: Any) -> Finding:
    assert entry.end_state is dc.EndState.REVIEW, f"{entry.code} does not review"
    return Finding(Outcome.REVIEW, entry.code, message, **kw)


def hold(entry: dc.DeclineCode, message: str, until: datetime, **kw: Any) -> Finding:
    assert entry.end_state is dc.EndState.HELD, f"{entry.code} does not hold"
    return Finding(Outcome.HOLD, entry.code, message, hold_until=until, **kw)


def mismatch_flags(item: ItemFacts, customer: CustomerFacts) -> tuple[Flag, ...]:
    if not item.declaration_mismatch:
        return ()
    return (Flag("declaration_mismatch", customer.id or None),)


def _declaration_mismatch(
    item: ItemFacts, c: CustomerFacts, h: History, p: Params, now: datetime
) -> Finding | None:
    if not item.declaration_mismatch:
        return None
    return Finding(
        Outcome.ACCEPT,
        "declaration_mismatch",
        f"declared {item.declared_source}, the issuer reports {item.issuer_channel}",
        flags=mismatch_flags(item, c),
    )


def _duplicate_code(
    item: ItemFacts, c: CustomerFacts, h: History, p: Params, now: datetime
) -> Finding | None:
    earlier = [s for s in h.code_sightings if s.decline_code not in RETRYABLE_DECLINES]
    if not earlier:
        return None
    who = sorted({s.customer_id for s in earlier} | ({c.id} if c.id else set()))
    return decline(
        dc.DUPLICATE_CODE,
        "This code was already submitted to giftcash; a code can be sold only once.",
        flags=tuple(Flag("duplicate_code", cid) for cid in who),
    )


def _brute_force(
    item: ItemFacts, c: CustomerFacts, h: History, p: Params, now: datetime
) -> Finding | None:
    """Keyed on the customer, the guard declines (it is their own failures); keyed on the
    device / address alone, which customers behind one carrier NAT or load balancer share,
    it sends the item to a person: it never finally declines someone else's voucher."""
    if h.customer_failures >= p.customer_max_failures:
        return decline(
            dc.TOO_MANY_ATTEMPTS,
            "Too many invalid codes or failed checks in a short time; submissions are "
            f"paused for up to {p.failure_window_minutes} minutes.",
        )
    if h.device_failures >= p.device_max_failures:
        return review(
            dc.SHARED_ADDRESS_CHECK,
            f"{h.device_failures} failed attempts from this device or address in "
            f"{p.failure_window_minutes} minutes (not by this customer).",
        )
    return None


def _velocity(prefix: str, who: str) -> Check:
    def check(
        item: ItemFacts, c: CustomerFacts, h: History, p: Params, now: datetime
    ) -> Finding | None:
        _same_currency(item, p)
        items = getattr(h, f"{prefix}_items_today") + h.submission_items_before + 1
        value = getattr(h, f"{prefix}_value_today") + h.submission_value_before + item.face_value
        max_items = getattr(p, f"{prefix}_max_items_per_day")
        max_value = getattr(p, f"{prefix}_max_value_per_day")
        if items > max_items:
            return decline(dc.LIMIT_EXCEEDED, f"{who} can sell at most {max_items} items a day.")
        if value > max_value:
            return decline(
                dc.LIMIT_EXCEEDED,
                f"{who} can sell at most {Money(max_value, p.currency)} a day.",
            )
        return None

    return check


def _first_sale_hold(
    item: ItemFacts, c: CustomerFacts, h: History, p: Params, now: datetime
) -> Finding | None:
    _same_currency(item, p)
    if not c.first_sale or h.selling_value(item) <= p.first_sale_hold_above_value:
        return None
    until = now + timedelta(hours=p.first_sale_hold_hours)
    return hold(
        dc.FIRST_SALE_HOLD,
        f"A first sale above {Money(p.first_sale_hold_above_value, p.currency)} is paid "
        f"{p.first_sale_hold_hours} hours after redemption.",
        until,
    )


SCAM_WARNING = (
    "Did someone ask you to buy these vouchers and send or sell them? Police, "
    "prosecutors, banks and government offices never ask for payment in gift vouchers, "
    "and a family member texting from a new number may not be who they say. If someone "
    "told you to buy these, stop and call 112 (police) or 1332 (Financial Supervisory "
    "Service) before you go on."
)


def _scam_victim(
    item: ItemFacts, c: CustomerFacts, h: History, p: Params, now: datetime
) -> Finding | None:
    _same_currency(item, p)
    if not c.first_sale:
        return None
    recent = item.purchased_at is not None and now - item.purchased_at <= timedelta(
        minutes=p.scam_recent_purchase_minutes
    )
    large = h.selling_value(item) > p.scam_review_above_value
    age = c.age_on(local_date(now, p.tz))
    in_band = (
        age is not None
        and (p.scam_age_min is not None or p.scam_age_max is not None)
        and (p.scam_age_min is None or age >= p.scam_age_min)
        and (p.scam_age_max is None or age <= p.scam_age_max)
    )
    if not ((recent and large) or in_band):
        return None
    why = "vouchers bought minutes ago" if recent and large else "the seller's age band"
    return review(
        dc.SCAM_CHECK,
        f"A first sale with {why}: a reviewer checks it before anything is paid.",
        warning=SCAM_WARNING,
    )


def _holder_name(
    item: ItemFacts, c: CustomerFacts, h: History, p: Params, now: datetime
) -> Finding | None:
    if c.holder_name_matches is not False:
        return None
    return decline(
        dc.ACCOUNT_HOLDER_MISMATCH,
        "giftcash pays only into an account in your own verified name.",
    )


def _issuer_disabled(
    item: ItemFacts, c: CustomerFacts, h: History, p: Params, now: datetime
) -> Finding | None:
    if item.issuer not in p.disabled_issuers:
        return None
    return decline(dc.ISSUER_DISABLED, f"Vouchers of {item.issuer} are not being bought now.")


def _brand_disabled(
    item: ItemFacts, c: CustomerFacts, h: History, p: Params, now: datetime
) -> Finding | None:
    if item.brand.enabled:
        return None
    return decline(dc.BRAND_DISABLED, f"{item.brand.name} is not being bought now.")


def _coupon_near_expiry(
    item: ItemFacts, c: CustomerFacts, h: History, p: Params, now: datetime
) -> Finding | None:
    # The expiry is the issuer's (its inquiry answer), so this is judged before redemption;
    # the customer's own reading of the picture never decides it. Under the brand's minimum
    # days left nobody can use the coupon in time after us: not bought, issuer's routes.
    if item.brand.kind is not BrandKind.PRODUCT or item.expires_at is None:
        return None
    days = days_left(item.expires_at, now)
    if days >= item.brand.min_days_left:
        return None
    return decline(
        dc.COUPON_NEAR_EXPIRY,
        f"{dc.COUPON_NEAR_EXPIRY.text} (the issuer's expiry leaves {days} days; "
        f"{item.brand.name} is bought from {item.brand.min_days_left} days)",
    )


def _exposure_cap(
    item: ItemFacts, c: CustomerFacts, h: History, p: Params, now: datetime
) -> Finding | None:
    _same_currency(item, p)
    cap = p.exposure_cap(item.issuer)
    if cap is None or h.issuer_exposure + item.face_value <= cap:
        return None
    return decline(
        dc.ISSUER_EXPOSURE_CAP,
        f"giftcash is holding as much of {item.issuer}'s value as it will; try again later.",
    )


# The issuer's inquiry answer as facts: each answer that rules a voucher out is judged
# here and nowhere else (an issuer without an inquiry leaves ``issuer_status`` None).
INQUIRY_ANSWERS = ("not_found", "used", "expired")


def _issuer_says(status: str) -> Check:
    entry = dc.ISSUER_ANSWERS[status]

    def check(
        item: ItemFacts, c: CustomerFacts, h: History, p: Params, now: datetime
    ) -> Finding | None:
        if item.issuer_status != status:
            return None
        return decline(entry, f"{entry.text} (the issuer's inquiry answer: {status})")

    return check


_PRE = frozenset({Stage.INTAKE, Stage.PRE_REDEEM})
_INQUIRY = frozenset({Stage.PRE_REDEEM})

ISSUER_RULES: tuple[Rule, ...] = tuple(
    Rule(
        dc.ISSUER_ANSWERS[status].code,
        False,
        f"Declines a voucher whose issuer answers the balance inquiry '{status}'.",
        _issuer_says(status),
        stages=_INQUIRY,
    )
    for status in INQUIRY_ANSWERS
)

RISK_RULES: tuple[Rule, ...] = (
    Rule(
        "declaration_mismatch",
        False,
        "Flags an item whose declared funding source differs from the issuer's report.",
        _declaration_mismatch,
        stages=_PRE,
    ),
    Rule(
        "duplicate_code",
        False,
        "Declines a code submitted before (keyed-hash registry) and flags every customer "
        "who submitted it; 'not now' declines do not count.",
        _duplicate_code,
    ),
    Rule(
        "brute_force_guard",
        False,
        "Declines submissions after too many failed attempts (bad codes, logins, SMS "
        "codes) by the customer in the window; failures from a shared device / IP send "
        "the item to review instead (never a final decline of someone else's voucher).",
        _brute_force,
        params=("failure_window_minutes", "customer_max_failures", "device_max_failures"),
    ),
    Rule(
        "velocity_customer",
        False,
        "Limits the items and value a customer sells per day.",
        _velocity("customer", "A customer"),
        params=("customer_max_items_per_day", "customer_max_value_per_day"),
    ),
    Rule(
        "velocity_account",
        False,
        "Limits the items and value paid into one bank account per day.",
        _velocity("account", "One bank account"),
        params=("account_max_items_per_day", "account_max_value_per_day"),
    ),
    Rule(
        "first_sale_hold",
        False,
        "Holds a new customer's payout for some hours when the first sale is large.",
        _first_sale_hold,
        params=("first_sale_hold_above_value", "first_sale_hold_hours"),
    ),
    Rule(
        "scam_victim_guard",
        False,
        "Sends a first sale to review, with a warning for the customer, when the vouchers "
        "were bought minutes ago and add up to a large sum, or the seller is in the age "
        "band the operator set.",
        _scam_victim,
        # Also before redemption: the issuer's inquiry tells when the vouchers were bought.
        stages=_PRE,
        params=(
            "scam_review_above_value",
            "scam_recent_purchase_minutes",
            "scam_age_min",
            "scam_age_max",
        ),
    ),
    Rule(
        "account_holder_match",
        False,
        "Declines when the payout account's holder is not the verified customer.",
        _holder_name,
    ),
    Rule(
        "issuer_disabled",
        False,
        "Kill switch: declines every item of a disabled issuer before redemption.",
        _issuer_disabled,
        stages=ALL_STAGES,
        params=("disabled_issuers",),
    ),
    Rule(
        "brand_disabled",
        False,
        "Declines items of a brand that is switched off in the catalogue.",
        _brand_disabled,
        stages=ALL_STAGES,
    ),
    Rule(
        "coupon_near_expiry",
        False,
        "Declines a product coupon whose issuer-reported expiry leaves fewer days than its "
        "brand's minimum (min_days_left), with the issuer's routes.",
        _coupon_near_expiry,
        stages=_INQUIRY,
    ),
    Rule(
        "issuer_exposure_cap",
        False,
        "Declines an item that would take the value held at its issuer above the cap.",
        _exposure_cap,
        stages=_PRE,
        params=("issuer_exposure_caps", "default_issuer_exposure_cap"),
    ),
    *ISSUER_RULES,
)


# -- operator rules -------------------------------------------------------------------

_CODE = re.compile(r"^[a-z][a-z0-9_]{2,63}$")
_OPERATOR_OUTCOMES = (Outcome.DECLINE, Outcome.REVIEW, Outcome.HOLD)


@dataclass(frozen=True, slots=True)
class OperatorRule:
    """A restriction the operator adds: when every condition given holds, the item is
    declined, reviewed or held. It has no way to accept, so it only ever adds."""

    id: str
    outcome: Outcome
    message: str
    code: str = ""  # default: operator_<outcome>
    brand_ids: frozenset[str] = frozenset()  # empty: any brand
    issuers: frozenset[str] = frozenset()
    funding_sources: frozenset[FundingSource] = frozenset()  # the effective source
    min_face_value: int | None = None  # matches face_value >= this
    hold_hours: int = 0

    def __post_init__(self) -> None:
        try:
            outcome = Outcome(self.outcome)
        except ValueError:
            outcome = None
        if outcome not in _OPERATOR_OUTCOMES:
            raise InvalidRuleConfig("an operator rule can only decline, review or hold")
        object.__setattr__(self, "outcome", outcome)
        object.__setattr__(self, "code", self.code or dc.OPERATOR_ENTRIES[outcome].code)
        object.__setattr__(
            self, "funding_sources", frozenset(funding_source(s) for s in self.funding_sources)
        )
        object.__setattr__(self, "brand_ids", frozenset(self.brand_ids))
        object.__setattr__(self, "issuers", frozenset(self.issuers))
        if not _CODE.match(self.id) or not _CODE.match(self.code):
            raise InvalidRuleConfig("rule ids and codes are 3-64 characters of a-z, 0-9 and _")
        taken = dc.REGISTRY.get(self.code)
        if taken is not None and taken.kind is not dc.Kind.OPERATOR:
            raise InvalidRuleConfig(f"code {self.code!r} is giftcash's own ({taken.kind})")
        if not self.message.strip() or len(self.message) > 500:
            raise InvalidRuleConfig("an operator rule needs a message of at most 500 characters")
        if self.min_face_value is not None and (
            type(self.min_face_value) is not int or self.min_face_value < 0
        ):
            raise InvalidRuleConfig("min_face_value must be a whole number ≥ 0")
        if type(self.hold_hours) is not int or self.hold_hours < 0:
            raise InvalidRuleConfig("hold_hours must be a whole number ≥ 0")
        if (outcome is Outcome.HOLD) != (self.hold_hours > 0):
            raise InvalidRuleConfig("hold_hours is required by, and only by, a hold rule")

    def matches(self, item: ItemFacts, p: Params) -> bool:
        if self.brand_ids and item.brand_id not in self.brand_ids:
            return False
        if self.issuers and item.issuer not in self.issuers:
            return False
        if self.funding_sources and item.funding_source not in self.funding_sources:
            return False
        if self.min_face_value is not None:
            _same_currency(item, p)
            if item.face_value < self.min_face_value:
                return False
        return True

    def check(
        self, item: ItemFacts, c: CustomerFacts, h: History, p: Params, now: datetime
    ) -> Finding | None:
        if not self.matches(item, p):
            return None
        until = now + timedelta(hours=self.hold_hours) if self.hold_hours else None
        return Finding(Outcome(self.outcome), self.code, self.message, hold_until=until)

    def to_rule(self) -> Rule:
        return Rule(
            self.id,
            False,
            f"Operator rule: {self.outcome} ({self.code}). {self.message}",
            self.check,
            stages=ALL_STAGES,
            operator=True,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "outcome": str(self.outcome),
            "message": self.message,
            "code": self.code,
            "brand_ids": sorted(self.brand_ids),
            "issuers": sorted(self.issuers),
            "funding_sources": sorted(str(s) for s in self.funding_sources),
            "min_face_value": self.min_face_value,
            "hold_hours": self.hold_hours,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OperatorRule:
        known = {f.name for f in fields(cls)}
        extra = set(data) - known
        if extra:
            raise InvalidRuleConfig(f"unknown operator rule fields: {', '.join(sorted(extra))}")
        missing = {"id", "outcome", "message"} - set(data)
        if missing:
            raise InvalidRuleConfig(f"operator rule needs: {', '.join(sorted(missing))}")
        kw = dict(data)
        for key in ("brand_ids", "issuers", "funding_sources"):
            if key in kw:
                if isinstance(kw[key], str) or not isinstance(kw[key], Iterable):
                    raise InvalidRuleConfig(f"{key} must be a list")
                kw[key] = frozenset(kw[key])
        return cls(**kw)


# -- rule sets and overrides ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A jurisdiction's rules, thresholds and refund terms, plus the operator's changes."""

    jurisdiction: str
    currency: str
    rules: tuple[Rule, ...]
    params: Params
    terms: RefundTerms
    disabled: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        ids = [r.id for r in self.rules]
        assert len(ids) == len(set(ids)), f"duplicate rule ids in {self.jurisdiction}"
        assert self.params.currency == self.currency, "params in another currency"
        unknown = self.disabled - set(ids)
        if unknown:
            raise RuleNotFound(f"no rule {sorted(unknown)[0]!r}", rule_id=sorted(unknown)[0])
        for r in self.rules:
            if r.statutory and r.id in self.disabled:
                raise StatutoryRule(_cannot_disable(r), rule_id=r.id)

    @property
    def tz(self) -> tzinfo:
        return self.terms.tz

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise RuleNotFound(f"no rule {rule_id[:64]!r}", rule_id=rule_id[:64])

    def active(self, stage: Stage) -> tuple[Rule, ...]:
        live = (r for r in self.rules if r.id not in self.disabled and stage in r.stages)
        return tuple(sorted(live, key=lambda r: r.id))


def _cannot_disable(r: Rule) -> str:
    return f"rule {r.id} is statutory and cannot be disabled or relaxed: {r.description}"


@dataclass(frozen=True)
class Overrides:
    """The operator's configuration of a pack: rules switched off, thresholds changed,
    restrictions added. Stored as ``to_dict()``; read with ``from_dict``."""

    disabled: frozenset[str] = frozenset()
    params: Mapping[str, Any] = field(default_factory=dict)
    operator_rules: tuple[OperatorRule, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        params = dict(self.params)
        for k, v in params.items():
            if isinstance(v, frozenset):
                params[k] = sorted(v)
            elif isinstance(v, tuple):
                params[k] = dict(v)
        return {
            "disabled": sorted(self.disabled),
            "params": params,
            "operator_rules": [r.to_dict() for r in self.operator_rules],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Overrides:
        extra = set(data) - {"disabled", "params", "operator_rules"}
        if extra:
            raise InvalidRuleConfig(f"unknown override keys: {', '.join(sorted(extra))}")
        disabled = data.get("disabled", [])
        params = data.get("params", {})
        rules = data.get("operator_rules", [])
        if isinstance(disabled, str) or not isinstance(disabled, Iterable):
            raise InvalidRuleConfig("disabled must be a list of rule ids")
        if not isinstance(params, Mapping):
            raise InvalidRuleConfig("params must be a mapping")
        if isinstance(rules, str) or not isinstance(rules, Iterable):
            raise InvalidRuleConfig("operator_rules must be a list")
        return cls(
            frozenset(str(d) for d in disabled),
            dict(params),
            tuple(OperatorRule.from_dict(r) for r in rules),
        )


def _coerce_param(name: str, value: Any) -> Any:
    kind = PARAM_DIRECTION[name]
    if kind == "more":
        if isinstance(value, str) or not isinstance(value, Iterable):
            raise InvalidRuleConfig(f"{name} must be a list of issuer ids")
        return frozenset(str(v) for v in value)
    if kind == "caps":
        if not isinstance(value, Mapping):
            raise InvalidRuleConfig(f"{name} must map issuer ids to amounts")
        for v in value.values():
            if type(v) is not int or v < 0:
                raise InvalidRuleConfig(f"{name}: caps are whole numbers ≥ 0")
        return tuple(sorted((str(k), v) for k, v in value.items()))
    if value is None and name in _OPTIONAL:
        return None
    if type(value) is not int or value < 0:
        raise InvalidRuleConfig(f"{name} must be a whole number ≥ 0")
    return value


def is_stricter_or_equal(name: str, old: Any, new: Any) -> bool:
    """Whether ``new`` restricts at least as much as ``old`` for threshold ``name``."""
    kind = PARAM_DIRECTION[name]
    if kind == "more":
        return bool(new >= old)
    if kind == "caps":
        old_caps, new_caps = dict(old), dict(new)
        return all(i in new_caps and new_caps[i] <= cap for i, cap in old_caps.items())
    if kind == "lower":  # None: no limit at all, the loosest
        return old is None or (new is not None and new <= old)
    return new is not None and (old is None or new >= old)  # higher; None: nothing


def _statutory_params(ruleset: RuleSet) -> dict[str, Rule]:
    return {name: r for r in ruleset.rules if r.statutory for name in r.params}


def apply_overrides(ruleset: RuleSet, overrides: Overrides) -> RuleSet:
    """The rule set with the operator's configuration applied, or a refusal:
    ``StatutoryRule`` for any attempt to disable or relax a statutory rule,
    ``RuleNotFound`` / ``InvalidRuleConfig`` for the rest."""
    guarded = _statutory_params(ruleset)
    changes: dict[str, Any] = {}
    for name in sorted(overrides.params):
        if name in ("currency", "tz"):
            raise InvalidRuleConfig(f"{name} belongs to the jurisdiction and cannot change")
        if name not in PARAM_DIRECTION:
            raise InvalidRuleConfig(f"no threshold {name[:64]!r}")
        value = _coerce_param(name, overrides.params[name])
        old = getattr(ruleset.params, name)
        if name in guarded and not is_stricter_or_equal(name, old, value):
            raise StatutoryRule(_cannot_disable(guarded[name]), rule_id=guarded[name].id)
        changes[name] = value
    taken = {r.id: r for r in ruleset.rules}
    added: list[Rule] = []
    for op in overrides.operator_rules:
        clash = taken.get(op.id)
        if clash is not None and clash.statutory:
            raise StatutoryRule(_cannot_disable(clash), rule_id=clash.id)
        if clash is not None:
            raise InvalidRuleConfig(f"rule id {op.id!r} is taken", rule_id=op.id)
        rule = op.to_rule()
        taken[op.id] = rule
        added.append(rule)
    for rule_id in sorted(overrides.disabled):
        r = taken.get(rule_id)
        if r is None:
            raise RuleNotFound(f"no rule {rule_id[:64]!r}", rule_id=rule_id[:64])
        if r.statutory:
            raise StatutoryRule(_cannot_disable(r), rule_id=r.id)
    return replace(
        ruleset,
        rules=ruleset.rules + tuple(added),
        params=replace(ruleset.params, **changes),
        disabled=ruleset.disabled | overrides.disabled,
    )


def patch_rule(
    base: RuleSet,
    current: Overrides,
    rule_id: str,
    *,
    enabled: bool | None = None,
    params: Mapping[str, Any] | None = None,
) -> Overrides:
    """What ``PATCH /v1/admin/rules/{id}`` stores: the operator's overrides with one rule
    switched on or off or its thresholds changed, checked against the base pack.

    Refuses with ``StatutoryRule`` to disable a statutory rule or to change a threshold
    of one other than towards stricter (the KR statutory rules have none)."""
    rule = apply_overrides(base, current).rule(rule_id)
    params = dict(params or {})
    if rule.statutory:
        if enabled is False:
            raise StatutoryRule(_cannot_disable(rule), rule_id=rule.id)
        for name, value in params.items():
            if name not in rule.params:
                raise StatutoryRule(_cannot_disable(rule), rule_id=rule.id)
            old = getattr(base.params, name)
            if not is_stricter_or_equal(name, old, _coerce_param(name, value)):
                raise StatutoryRule(_cannot_disable(rule), rule_id=rule.id)
    foreign = sorted(set(params) - set(rule.params))
    if foreign:
        raise InvalidRuleConfig(f"rule {rule.id} has no threshold {foreign[0][:64]!r}")
    disabled = set(current.disabled)
    if enabled is False:
        disabled.add(rule.id)
    elif enabled is True:
        disabled.discard(rule.id)
    new = Overrides(frozenset(disabled), {**current.params, **params}, current.operator_rules)
    apply_overrides(base, new)  # the whole configuration must still hold
    return new


@dataclass(frozen=True, slots=True)
class RuleInfo:
    id: str
    statutory: bool
    enabled: bool
    description: str
    operator: bool
    stages: tuple[str, ...]
    params: Mapping[str, Any]


def rule_table(ruleset: RuleSet) -> list[RuleInfo]:
    """What ``GET /v1/admin/rules`` lists: statutory rules first, then by id."""
    out = []
    for r in sorted(ruleset.rules, key=lambda r: (not r.statutory, r.operator, r.id)):
        out.append(
            RuleInfo(
                r.id,
                r.statutory,
                r.id not in ruleset.disabled,
                r.description,
                r.operator,
                tuple(sorted(str(s) for s in r.stages)),
                {name: getattr(ruleset.params, name) for name in r.params},
            )
        )
    return out


# -- evaluation -----------------------------------------------------------------------


# The issuer's terms for a kind of coupon, not its answer about this voucher.
_ISSUER_TERMS = frozenset({dc.COUPON_NEAR_EXPIRY.code, dc.COUPON_RESALE_UNAVAILABLE.code})


def _rank(f: Finding) -> tuple[int, bool, bool, str, str]:
    """Most severe first; among equals the issuer's answer (a voucher it does not know,
    used or expired cannot be sold whatever else holds), then a statute, then rule id."""
    # a statute outranks the issuer's terms (_ISSUER_TERMS), not its answers
    issuer = dc.describe(f.code).kind is dc.Kind.ISSUER and f.code not in _ISSUER_TERMS
    return (-SEVERITY[f.outcome], not issuer, not f.statutory, f.rule_id, f.code)


def day_bounds(ruleset: RuleSet, now: datetime) -> tuple[datetime, datetime]:
    """The calendar day (pack's time zone) that ``History``'s "today" counts cover, UTC."""
    today = local_date(now, ruleset.tz)
    return start_of(today, ruleset.tz), start_of(today + timedelta(days=1), ruleset.tz)


class Batch:
    """What ``evaluate`` shares between the items of one batch decided against one rule
    set: the rule set's active rules per stage (a function of the rule set alone), and
    the liquidity advisor's answer per distinct set of its inputs (``advise`` is a pure
    function of its arguments: brand, face value, funding source, moment, purchase and
    expiry dates, used value, payout, the pack's refund terms). Every rule still checks
    every item: their inputs (the history's running totals, sightings) differ per item."""

    __slots__ = ("_active", "_advice", "ruleset")

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self._active: dict[Stage, tuple[Rule, ...]] = {}
        self._advice: dict[tuple[Any, ...], tuple[Brand, Advice]] = {}

    def active(self, stage: Stage) -> tuple[Rule, ...]:
        rules = self._active.get(stage)
        if rules is None:
            rules = self._active[stage] = self.ruleset.active(stage)
        return rules

    def advise(self, item: ItemFacts, now: datetime, payout: int | None) -> Advice:
        key = (
            id(item.brand),
            item.face_value,
            item.funding_source,
            now,
            item.purchased_at,
            item.expires_at,
            item.used_value,
            payout,
        )
        hit = self._advice.get(key)
        if hit is not None and hit[0] is item.brand:
            return hit[1]
        advice = _advise(item, now, payout, self.ruleset)
        self._advice[key] = (item.brand, advice)
        return advice


def _advise(item: ItemFacts, now: datetime, payout: int | None, ruleset: RuleSet) -> Advice:
    return advise(
        item.brand,
        item.face_value,
        funding_source=item.funding_source,
        now=now,
        purchased_at=item.purchased_at,
        expires_at=item.expires_at,
        used_value=item.used_value,
        payout=payout,
        jurisdiction=ruleset.terms,
    )


def evaluate(
    ruleset: RuleSet,
    item: ItemFacts,
    *,
    now: datetime,
    customer: CustomerFacts | None = None,
    history: History | None = None,
    stage: Stage | str = Stage.INTAKE,
    payout: int | None = None,
    batch: Batch | None = None,
) -> Decision:
    """Run every active rule of ``stage`` and decide. ``payout`` (what giftcash would
    pay) puts ``sell_here`` among the routes unless the item is declined. ``batch``:
    what the other items of the same batch already worked out (see ``Batch``)."""
    assert now.tzinfo is not None, "now must be timezone-aware"
    assert batch is None or batch.ruleset is ruleset, "a batch of another rule set"
    stage = stage if isinstance(stage, Stage) else Stage(stage)
    customer = customer or CustomerFacts()
    history = history or History()
    found: list[Finding] = []
    for rule in batch.active(stage) if batch else ruleset.active(stage):
        f = rule.check(item, customer, history, ruleset.params, now)
        if f is not None:
            found.append(replace(f, rule_id=rule.id, statutory=rule.statutory))
    found.sort(key=_rank)
    flags = tuple(sorted({flag for f in found for flag in f.flags}))
    warning = next((f.warning for f in found if f.warning), None)
    win = found[0] if found and found[0].outcome is not Outcome.ACCEPT else None
    outcome = win.outcome if win else Outcome.ACCEPT
    hold_until = None
    if outcome is Outcome.HOLD:
        hold_until = max(f.hold_until for f in found if f.hold_until is not None)
    offered = None if outcome is Outcome.DECLINE else payout
    advice = batch.advise(item, now, offered) if batch else _advise(item, now, offered, ruleset)
    return Decision(
        outcome=outcome,
        code=win.code if win else None,
        message=win.message if win else "",
        rule_id=win.rule_id if win else None,
        statutory=win.statutory if win else False,
        routes=advice.routes,
        hold_until=hold_until,
        warning=warning,
        flags=flags,
        findings=tuple(found),
        routes_note=advice.note,
    )
