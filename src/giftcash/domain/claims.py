"""The buyer's guarantee (issue 15 item 5): a delivered unit claimed "doesn't work" within
the guarantee window is judged by the issuer's own record of when the voucher was spent,
against when it was delivered.

Spent before delivery: the seller (or someone with the code before us) spent what we
sold, so the buyer is refunded at once and the seller owes its price. Spent at or after
delivery: the buyer had it; the claim is refused with the issuer's evidence. Anything
the issuer's answer does not settle (unspent, not found, expired, spent with no time)
goes to an operator. An issuer that does not answer decides nothing: the claim is not
recorded and is asked again.

Pure: the caller asks the issuer and passes its facts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from giftcash.domain.errors import DomainError

DEFAULT_GUARANTEE_DAYS = 30


class ClaimVerdict(StrEnum):
    REFUND = "refund"
    REFUSE = "refuse"
    REVIEW = "review"


@dataclass(frozen=True, slots=True)
class IssuerFacts:
    """What the issuer's balance inquiry said about the voucher, kept as evidence."""

    status: str  # active | used | expired | not_found
    used_at: datetime | None
    used_where: str | None


class ClaimWindowClosed(DomainError):
    """The guarantee window (``GIFTCASH_RESALE_GUARANTEE_DAYS`` after delivery) has
    passed: the claim is not taken."""

    code = "claim_window_closed"
    kind = "conflict"


def window_open(delivered_at: datetime, now: datetime, days: int) -> bool:
    """True while a claim is taken: from delivery until ``days`` whole days after it."""
    assert days > 0
    return now <= delivered_at + timedelta(days=days)


def judge_claim(facts: IssuerFacts, delivered_at: datetime) -> ClaimVerdict:
    """Refund when the issuer says the voucher was spent before it was delivered, refuse
    when it was spent at or after delivery, otherwise review."""
    if facts.status != "used" or facts.used_at is None:
        return ClaimVerdict.REVIEW
    if facts.used_at < delivered_at:
        return ClaimVerdict.REFUND
    return ClaimVerdict.REFUSE
