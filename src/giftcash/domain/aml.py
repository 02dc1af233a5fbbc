"""Money-laundering patterns: pure detectors over plain facts, and the life of a case.

특정금융정보법 asks for a suspicious-transaction report on reasonable suspicion, whatever the
amount (DOMAIN-FACTS §2); gift cards are the currency of phone scams and mule schemes
(§5). Each detector reads facts the service gathered (sales, bank-account links, invalid
code attempts) and answers zero or more ``CaseSignal``: a kind, a subject (who or what the
pattern is about), the customers involved and the evidence. The service turns signals into
cases, one active case per (kind, subject), adding new evidence to it.

Evidence names items by id and codes by their masked form only; a code's keyed hash
appears only shortened, as the subject of a duplicate ring. Amounts are minor units of one
currency (``AmlParams.currency``): the service hands over facts in that currency only.
A case's amount is the sum of its evidence's amounts (value submitted, not value paid).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta, timezone, tzinfo
from enum import StrEnum
from itertools import pairwise
from statistics import median_low
from typing import TypeVar

from giftcash.domain.errors import DomainError, IllegalTransition
from giftcash.domain.money import DEFAULT_CURRENCY

T = TypeVar("T")

KST = timezone(timedelta(hours=9), "KST")  # Korea keeps no daylight-saving time


class CaseKind(StrEnum):
    DUPLICATE_RING = "duplicate_ring"  # one code submitted by several customers
    SHARED_ACCOUNT = "shared_account"  # one bank account added by several customers
    STRUCTURING = "structuring"  # many sales just under a review or hold threshold
    VELOCITY_SPIKE = "velocity_spike"  # a day far above the customer's usual
    PIN_TESTING = "pin_testing"  # many invalid codes from one customer or device
    DECLARATION_CONTRADICTED = "declaration_contradicted"  # issuer says credit, twice+
    # a voucher the seller sold us for resale was found spent before its buyer got it
    RESOLD_SPENT = "resold_spent"


class CaseStatus(StrEnum):
    OPEN = "open"
    UNDER_REVIEW = "under_review"
    REPORTED = "reported"  # an STR went to the bank's compliance team
    DISMISSED = "dismissed"


CASE_TRANSITIONS: Mapping[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.OPEN: frozenset({CaseStatus.UNDER_REVIEW}),
    CaseStatus.UNDER_REVIEW: frozenset({CaseStatus.REPORTED, CaseStatus.DISMISSED}),
    CaseStatus.REPORTED: frozenset(),
    CaseStatus.DISMISSED: frozenset(),
}
# A case in one of these takes new evidence; once closed, new evidence opens a new case.
ACTIVE_STATUSES = frozenset({CaseStatus.OPEN, CaseStatus.UNDER_REVIEW})


class UnknownCaseStatus(DomainError):
    code = "unknown_case_status"


def case_status(value: str) -> CaseStatus:
    try:
        return CaseStatus(value)
    except ValueError:
        raise UnknownCaseStatus(
            f"a case status is one of {', '.join(s.value for s in CaseStatus)}"
        ) from None


def advance_case(current: CaseStatus | str, target: CaseStatus | str) -> CaseStatus:
    """The one place a case's status changes; an impossible step raises (409)."""
    now, to = case_status(str(current)), case_status(str(target))
    if to not in CASE_TRANSITIONS[now]:
        raise IllegalTransition(f"a case cannot go from {now} to {to}", current=now, target=to)
    return to


def active_key(kind: str, subject: str) -> str:
    """What makes a case unique while it is active: its kind and subject."""
    return f"{kind}|{subject}"


# -- thresholds -----------------------------------------------------------------------------


class InvalidAmlParams(DomainError):
    code = "invalid_aml_params"


@dataclass(frozen=True, slots=True)
class AmlParams:
    """Every threshold a detector reads. Amounts are minor units of ``currency``; day
    boundaries are calendar days in ``tz``."""

    currency: str = DEFAULT_CURRENCY
    tz: tzinfo = KST
    # how far back a scan looks when it is not told
    lookback_days: int = 7
    # duplicate ring: customers who submitted one code
    ring_min_customers: int = 2
    # shared account: customers who added one account number
    shared_account_min_customers: int = 2
    # structuring: sales (submissions) worth between threshold − band and the threshold,
    # for each threshold; the KR pack holds a first sale above 50,000 and reviews one
    # above 100,000, and the service adds the live rule set's values to these
    structuring_thresholds: tuple[int, ...] = (50_000, 100_000)
    structuring_band_bps: int = 1_000  # 10% under the threshold
    structuring_min_per_day: int = 3  # in any 24 hours
    structuring_min_per_week: int = 6  # in any 7 days
    # velocity spike: a day's value against the median of the customer's earlier days
    spike_factor: int = 5
    spike_baseline_days: int = 28
    spike_min_baseline_days: int = 3  # days with sales in the baseline
    spike_min_value: int = 500_000
    # PIN testing: invalid codes in any window, per customer and per device / IP
    pin_window_minutes: int = 24 * 60
    pin_min_invalid: int = 10
    # declarations the issuer contradicted (declared cash, bought on credit)
    contradiction_min_items: int = 2

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("currency", "tz"):
                continue
            if f.name == "structuring_thresholds":
                ok = bool(value) and all(type(v) is int and v > 0 for v in value)
                object.__setattr__(self, f.name, tuple(sorted(set(value))))
            else:
                ok = type(value) is int and value >= 1
            if not ok:
                raise InvalidAmlParams(f"{f.name} must be a whole number ≥ 1", field=f.name)
        if self.structuring_band_bps >= 10_000:
            raise InvalidAmlParams("structuring_band_bps must be below 10000")

    def band(self, threshold: int) -> tuple[int, int]:
        """The values "just under" ``threshold``, both ends included (a policy threshold
        is passed at its value and acts above it). Rounds the band's width toward zero."""
        return threshold - threshold * self.structuring_band_bps // 10_000, threshold


# -- facts ----------------------------------------------------------------------------------

# Items in these states were never bought: they do not count as value sold.
NOT_SOLD = frozenset({"declined", "invalid"})
LAWFUL_DECLARATIONS = frozenset({"cash", "debit_card", "bank_transfer", "gift"})
CREDIT_CHANNELS = frozenset({"carrier_billing", "credit_card"})


@dataclass(frozen=True, slots=True)
class Sale:
    """One submitted item."""

    item_id: str
    customer_id: str
    submission_id: str
    bank_account_id: str
    at: datetime
    face_value: int
    masked_code: str
    code_key: str  # the code's keyed hash (never the code)
    declared_source: str = "cash"
    issuer_channel: str | None = None
    status: str = "received"

    @property
    def sold(self) -> bool:
        return self.status not in NOT_SOLD

    @property
    def contradicted(self) -> bool:
        return self.declared_source in LAWFUL_DECLARATIONS and self.issuer_channel in (
            CREDIT_CHANNELS
        )


@dataclass(frozen=True, slots=True)
class AccountLink:
    """A customer added a bank account (found by the keyed hash of its number)."""

    bank_account_id: str
    customer_id: str
    account_key: str
    masked_account: str
    at: datetime


@dataclass(frozen=True, slots=True)
class InvalidAttempt:
    """An invalid code (bad format, or unknown, used or expired at the issuer)."""

    id: str
    at: datetime
    customer_id: str | None
    device_key: str | None


@dataclass(frozen=True, slots=True)
class Facts:
    """What a scan looks at. ``sales`` holds whole submissions (every item of each)."""

    sales: tuple[Sale, ...] = ()
    links: tuple[AccountLink, ...] = ()
    attempts: tuple[InvalidAttempt, ...] = ()


# -- signals --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Evidence:
    """One fact behind a signal. ``key`` is stable ("item:<id>", "account:<id>",
    "attempt:<id>"), so the same fact found again is not added twice."""

    key: str
    at: datetime
    amount: int = 0
    item_id: str | None = None
    customer_id: str | None = None
    masked: str | None = None  # a masked code or account number
    note: str = ""


@dataclass(frozen=True, slots=True)
class CaseSignal:
    kind: CaseKind
    subject: str
    customer_ids: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    amount: int
    currency: str = DEFAULT_CURRENCY
    summary: str = ""


def _signal(
    kind: CaseKind, subject: str, evidence: Iterable[Evidence], p: AmlParams, summary: str
) -> CaseSignal:
    unique = {e.key: e for e in evidence}
    ev = tuple(sorted(unique.values(), key=lambda e: (e.at, e.key)))
    customers = tuple(sorted({e.customer_id for e in ev if e.customer_id}))
    return CaseSignal(kind, subject, customers, ev, sum(e.amount for e in ev), p.currency, summary)


def _sale_evidence(s: Sale, note: str = "") -> Evidence:
    return Evidence(
        key=f"item:{s.item_id}",
        at=s.at,
        amount=s.face_value,
        item_id=s.item_id,
        customer_id=s.customer_id,
        masked=s.masked_code,
        note=note,
    )


def _group(xs: Iterable[T], key: Callable[[T], str | None]) -> dict[str, list[T]]:
    out: dict[str, list[T]] = defaultdict(list)
    for x in xs:
        k = key(x)
        if k is not None:
            out[k].append(x)
    return dict(sorted(out.items()))


def dense(times: Sequence[datetime], window: timedelta, min_count: int) -> list[int]:
    """Indices of the (sorted) ``times`` that lie in some span shorter than ``window``
    holding at least ``min_count`` of them."""
    assert all(a <= b for a, b in pairwise(times)), "times must be sorted"
    marked: list[int] = []
    j = 0
    for i, start in enumerate(times):
        j = max(j, i)
        while j < len(times) and times[j] - start < window:
            j += 1
        if j - i >= min_count:
            first = max(i, marked[-1] + 1 if marked else 0)
            marked.extend(range(first, j))
    return marked


def short_key(keyed_hash: str) -> str:
    """A keyed hash shortened for a subject: enough to tell subjects apart."""
    return keyed_hash[:16]


# -- the detectors --------------------------------------------------------------------------


def duplicate_rings(sales: Iterable[Sale], p: AmlParams) -> list[CaseSignal]:
    """The same code submitted by several customers (a code sold twice, or passed around)."""
    out = []
    for code_key, group in _group(sales, lambda s: s.code_key).items():
        customers = {s.customer_id for s in group}
        if len(customers) < p.ring_min_customers:
            continue
        out.append(
            _signal(
                CaseKind.DUPLICATE_RING,
                f"code:{short_key(code_key)}",
                (_sale_evidence(s, f"status {s.status}") for s in group),
                p,
                f"code {group[0].masked_code} submitted {len(group)} times by "
                f"{len(customers)} customers",
            )
        )
    return out


def shared_accounts(
    links: Iterable[AccountLink],
    sales: Iterable[Sale],
    p: AmlParams,
    *,
    since: datetime | None = None,
) -> list[CaseSignal]:
    """One bank account (by the keyed hash of its number) added by several customers: a
    mule account. The evidence is each link and every sale paid into the account (since
    ``since``)."""
    recent = (s for s in sales if since is None or s.at >= since)
    by_account = _group(recent, lambda s: s.bank_account_id)
    out = []
    for account_key, group in _group(links, lambda link: link.account_key).items():
        customers = {link.customer_id for link in group}
        if len(customers) < p.shared_account_min_customers:
            continue
        evidence = [
            Evidence(
                key=f"account:{link.bank_account_id}",
                at=link.at,
                customer_id=link.customer_id,
                masked=link.masked_account,
                note="account added",
            )
            for link in group
        ]
        for link in group:
            evidence += [_sale_evidence(s) for s in by_account.get(link.bank_account_id, [])]
        out.append(
            _signal(
                CaseKind.SHARED_ACCOUNT,
                f"account:{short_key(account_key)}",
                evidence,
                p,
                f"account {group[0].masked_account} added by {len(customers)} customers",
            )
        )
    return out


def _submissions(sales: Iterable[Sale]) -> list[tuple[datetime, int, list[Sale]]]:
    """Each submission's sold items: (its first item's time, their value, the items)."""
    out = []
    for group in _group((s for s in sales if s.sold), lambda s: s.submission_id).values():
        out.append((min(s.at for s in group), sum(s.face_value for s in group), group))
    return sorted(out, key=lambda x: (x[0], x[2][0].item_id))


def structuring(
    sales: Iterable[Sale], p: AmlParams, *, since: datetime | None = None
) -> list[CaseSignal]:
    """Many sales (since ``since``) by one customer each worth just under a review or hold
    threshold, in any 24 hours or any 7 days: splitting to stay below a limit."""
    out = []
    for customer_id, group in _group(sales, lambda s: s.customer_id).items():
        subs = [x for x in _submissions(group) if since is None or x[0] >= since]
        hits: dict[int, list[tuple[datetime, int, list[Sale]]]] = {}
        for threshold in p.structuring_thresholds:
            lo, hi = p.band(threshold)
            near = [x for x in subs if lo <= x[1] <= hi]
            times = [x[0] for x in near]
            marked = set(dense(times, timedelta(days=1), p.structuring_min_per_day))
            marked |= set(dense(times, timedelta(days=7), p.structuring_min_per_week))
            if marked:
                hits[threshold] = [near[i] for i in sorted(marked)]
        if not hits:
            continue
        evidence = [
            _sale_evidence(s, f"sale of {value} just under {threshold}")
            for threshold, found in hits.items()
            for _, value, items in found
            for s in items
        ]
        described = ", ".join(f"{len(found)} just under {t}" for t, found in hits.items())
        out.append(
            _signal(
                CaseKind.STRUCTURING, f"customer:{customer_id}", evidence, p, f"sales: {described}"
            )
        )
    return out


def _local_day(at: datetime, tz: tzinfo) -> date:
    return at.astimezone(tz).date()


def velocity_spikes(sales: Iterable[Sale], p: AmlParams, *, since: datetime) -> list[CaseSignal]:
    """A day (from ``since`` on) on which a customer sold at least ``spike_factor`` times
    the median of their earlier days with sales (``spike_baseline_days`` back), and at
    least ``spike_min_value``. A customer without enough history is not judged here (the
    first-sale rules watch them)."""
    first_day = _local_day(since, p.tz)
    out = []
    for customer_id, group in _group((s for s in sales if s.sold), lambda s: s.customer_id).items():
        days = _group(group, lambda s: _local_day(s.at, p.tz).isoformat())
        totals = {date.fromisoformat(d): sum(s.face_value for s in xs) for d, xs in days.items()}
        evidence: list[Evidence] = []
        spikes = []
        for day, value in sorted(totals.items()):
            if day < first_day or value < p.spike_min_value:
                continue
            start = day - timedelta(days=p.spike_baseline_days)
            baseline = [v for d, v in totals.items() if start <= d < day]
            if len(baseline) < p.spike_min_baseline_days:
                continue
            usual = median_low(baseline)
            if value < p.spike_factor * usual:
                continue
            spikes.append(f"{day.isoformat()}: {value} against a usual {usual}")
            note = f"day total {value}, usual {usual}"
            evidence += [_sale_evidence(s, note) for s in days[day.isoformat()]]
        if spikes:
            out.append(
                _signal(
                    CaseKind.VELOCITY_SPIKE,
                    f"customer:{customer_id}",
                    evidence,
                    p,
                    "daily value far above usual: " + "; ".join(spikes),
                )
            )
    return out


def pin_testing(attempts: Iterable[InvalidAttempt], p: AmlParams) -> list[CaseSignal]:
    """Many invalid codes from one customer, or from one device / IP across customers,
    within ``pin_window_minutes``: someone guessing PINs and using us as the oracle."""
    attempts = sorted(attempts, key=lambda a: (a.at, a.id))
    window = timedelta(minutes=p.pin_window_minutes)
    out = []
    for label, key in (("customer", lambda a: a.customer_id), ("device", lambda a: a.device_key)):
        for who, group in _group(attempts, key).items():
            marked = dense([a.at for a in group], window, p.pin_min_invalid)
            if not marked:
                continue
            evidence = [
                Evidence(
                    key=f"attempt:{group[i].id}",
                    at=group[i].at,
                    customer_id=group[i].customer_id,
                    note="invalid code",
                )
                for i in marked
            ]
            out.append(
                _signal(
                    CaseKind.PIN_TESTING,
                    f"{label}:{who}",
                    evidence,
                    p,
                    f"{len(marked)} invalid codes from one {label} within "
                    f"{p.pin_window_minutes} minutes",
                )
            )
    return out


def contradicted_declarations(sales: Iterable[Sale], p: AmlParams) -> list[CaseSignal]:
    """A customer who declared a lawful funding source (cash, debit card...) for vouchers
    the issuer says were bought by carrier billing or credit card, more than once."""
    out = []
    found = (s for s in sales if s.contradicted)
    for customer_id, group in _group(found, lambda s: s.customer_id).items():
        if len(group) < p.contradiction_min_items:
            continue
        out.append(
            _signal(
                CaseKind.DECLARATION_CONTRADICTED,
                f"customer:{customer_id}",
                (
                    _sale_evidence(s, f"declared {s.declared_source}, issuer {s.issuer_channel}")
                    for s in group
                ),
                p,
                f"{len(group)} declarations contradicted by the issuer",
            )
        )
    return out


def detect(facts: Facts, p: AmlParams, *, since: datetime) -> list[CaseSignal]:
    """Every detector over ``facts``; ``since`` is where the scanned period starts (facts
    before it are history, e.g. a velocity baseline)."""
    return [
        *duplicate_rings(facts.sales, p),
        *shared_accounts(facts.links, facts.sales, p, since=since),
        *structuring(facts.sales, p, since=since),
        *velocity_spikes(facts.sales, p, since=since),
        *pin_testing(facts.attempts, p),
        *contradicted_declarations(facts.sales, p),
    ]


# -- the report -----------------------------------------------------------------------------

# Two-syllable Korean family names; every other Korean name starts with a one-syllable one.
KOREAN_COMPOUND_SURNAMES = frozenset(
    {"남궁", "황보", "제갈", "사공", "선우", "서문", "독고", "동방", "어금", "망절"}
)


def _hangul(ch: str) -> bool:
    return "\uac00" <= ch <= "\ud7a3"


def mask_name(name: str) -> str:
    """The family name and ``*``: "홍길동" → "홍*", "남궁민수" → "남궁*", "Jane Doe" →
    "Doe *" (a spaced name is taken as given names then family name)."""
    name = " ".join(name.split())
    if not name:
        return "*"
    if " " not in name and all(_hangul(ch) for ch in name):
        family = name[:2] if name[:2] in KOREAN_COMPOUND_SURNAMES and len(name) > 2 else name[0]
        return family + "*"
    if " " in name:
        return name.rsplit(" ", 1)[1] + " *"
    return name[0] + "*"


def evidence_summary(
    kind: str, evidence_count: int, customer_count: int, amount: int, currency: str
) -> str:
    """One line for the report: what, how much, how many."""
    return (
        f"{kind}: {evidence_count} evidence record(s), {customer_count} customer(s), "
        f"{amount:,} {currency}"
    )
