"""Customer due diligence by amount (고객확인, 특정금융정보법 §5의2): what a customer must
have shown before a sale of a given size.

- Tier 0: a phone only (signed up before identity checks, or where none is configured).
  Where identity checks are in force, a tier-0 customer sells nothing.
- Tier 1: a verified identity (본인인증): sales up to the daily and monthly amounts.
- Tier 2: tier 1 and a genuine ID document (신분증 진위확인): above those amounts.
- Enhanced due diligence (EDD: occupation, source of funds, purpose of the transactions)
  for a one-off sale at or above the 특정금융정보법 threshold (10,000,000 won), or when an
  operator asks it of one customer. It stands beside the tiers, it is not one.

Pure: the facts in, a ``Requirement`` out (the next step the customer must take, or
None). The amounts are the policy's params (``policy.Params``), which operators may lower
but never raise above the statutory floor (the rule ``due_diligence`` is statutory).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

# 특정금융정보법 §5의2 and its decree: a one-off transaction of 10,000,000 won or more
# asks for customer due diligence (the floor; an operator may only lower it).
EDD_ONE_OFF_FLOOR_WON = 10_000_000


class Tier(IntEnum):
    PHONE = 0
    IDENTITY = 1
    DOCUMENT = 2


class Step(StrEnum):
    """What unlocks more: the step the customer takes next."""

    VERIFY_IDENTITY = "verify_identity"
    CHECK_ID_DOCUMENT = "check_id_document"
    ANSWER_EDD = "answer_edd"


@dataclass(frozen=True, slots=True)
class TierFacts:
    """What is known of the customer. ``in_force``: identity checks are configured (where
    they are not, the tiers do not apply and no sale waits for them)."""

    in_force: bool = False
    identity_verified: bool = False
    document_checked: bool = False
    edd_answered: bool = False
    edd_required: bool = False  # an operator asked for it

    @property
    def tier(self) -> Tier:
        if not self.identity_verified:
            return Tier.PHONE
        return Tier.DOCUMENT if self.document_checked else Tier.IDENTITY


@dataclass(frozen=True, slots=True)
class TierLimits:
    """The amounts (won) above which tier 1 is not enough, and the EDD threshold."""

    identity_max_value_per_day: int
    identity_max_value_per_month: int
    edd_one_off_value: int = EDD_ONE_OFF_FLOOR_WON


@dataclass(frozen=True, slots=True)
class Sale:
    """The amounts a sale would bring: the day's and the month's totals with it, and the
    one-off amount (the whole submission)."""

    day_value: int
    month_value: int
    one_off_value: int


@dataclass(frozen=True, slots=True)
class Requirement:
    step: Step
    reason: str  # english, for the operator's record (the customer reads the registry)


def requirement(facts: TierFacts, limits: TierLimits, sale: Sale) -> Requirement | None:
    """The step the customer must take before this sale, or None when they may sell."""
    if not facts.in_force:
        return None
    if facts.tier is Tier.PHONE:
        return Requirement(Step.VERIFY_IDENTITY, "no verified identity")
    if facts.tier is Tier.IDENTITY:
        if sale.day_value > limits.identity_max_value_per_day:
            return Requirement(
                Step.CHECK_ID_DOCUMENT,
                f"{sale.day_value} won today is above {limits.identity_max_value_per_day}",
            )
        if sale.month_value > limits.identity_max_value_per_month:
            return Requirement(
                Step.CHECK_ID_DOCUMENT,
                f"{sale.month_value} won this month is above {limits.identity_max_value_per_month}",
            )
    if facts.edd_answered:
        return None
    if facts.edd_required:
        return Requirement(Step.ANSWER_EDD, "an operator asked for enhanced due diligence")
    if sale.one_off_value >= limits.edd_one_off_value:
        return Requirement(
            Step.ANSWER_EDD,
            f"a one-off sale of {sale.one_off_value} won reaches {limits.edd_one_off_value}",
        )
    return None


@dataclass(frozen=True, slots=True)
class Room:
    """What the customer may still sell without a further step (None: no limit of their
    tier), and the step that unlocks more."""

    tier: Tier
    day_left: int | None
    month_left: int | None
    next_step: Step | None


def room(facts: TierFacts, limits: TierLimits, day_used: int, month_used: int) -> Room:
    """The customer's account page: their tier, what is left today and this month, and
    what unlocks the next tier (EDD when asked or never answered, for the largest sales)."""
    tier = facts.tier
    if tier is Tier.PHONE:
        return Room(tier, 0, 0, Step.VERIFY_IDENTITY)
    if tier is Tier.IDENTITY:
        return Room(
            tier,
            max(limits.identity_max_value_per_day - day_used, 0),
            max(limits.identity_max_value_per_month - month_used, 0),
            Step.CHECK_ID_DOCUMENT,
        )
    edd = facts.edd_required or not facts.edd_answered
    return Room(tier, None, None, Step.ANSWER_EDD if edd and not facts.edd_answered else None)
