"""Law and risk, applied: the facts the policy engine needs, read inside the command's
transaction, and its decisions handed back (``Screening``, ``Decision``) for the caller to
record; nothing here edits an item.

Two moments: at intake (what the customer declared, the day's counts, the registry),
and before redemption, when the issuer's balance inquiry has said how and when the
voucher was bought (its answer overrides the declaration).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from giftcash.catalogue.live import LiveCatalogue, rules_in
from giftcash.domain import ledger
from giftcash.domain.advisor import Route
from giftcash.domain.banks import same_holder
from giftcash.domain.brands import Brand
from giftcash.domain.policy import (
    Batch,
    CustomerFacts,
    Decision,
    History,
    ItemFacts,
    Outcome,
    RuleSet,
    Sighting,
    Stage,
    day_bounds,
    evaluate,
)
from giftcash.domain.records import BankAccount, Customer
from giftcash.domain.tiers import TierFacts
from giftcash.identity import tiers
from giftcash.service.deps import Deps, UnitOfWork
from giftcash.service.ports.records import DecisionRecord, LeasedItem


def ruleset(uow: UnitOfWork, deps: Deps, live: LiveCatalogue | None = None) -> RuleSet:
    return rules_in(uow, deps.brand_catalogue, deps.jurisdiction, live, deps.rule_params)


def route_dicts(d: Decision) -> list[dict[str, Any]]:
    return [
        {
            "route": r.route,
            "cash": r.cash,
            "currency": r.currency,
            "note": r.note,
            "deadline": r.deadline.isoformat() if r.deadline else None,
        }
        for r in d.routes
    ]


class RoutesMemo:
    """The routes of one batch's decisions as dicts, worked out once per distinct routes
    (the policy's ``Batch`` hands the items with the same advice the same tuple); each
    record still gets dicts of its own."""

    def __init__(self) -> None:
        self._seen: dict[int, tuple[tuple[Route, ...], list[dict[str, Any]]]] = {}

    def dicts(self, d: Decision) -> list[dict[str, Any]]:
        hit = self._seen.get(id(d.routes))
        if hit is None or hit[0] is not d.routes:  # kept alive here, so ids stay unique
            hit = self._seen[id(d.routes)] = (d.routes, route_dicts(d))
        return [dict(r) for r in hit[1]]


def decision_record(
    d: Decision, device_key: str | None = None, routes: RoutesMemo | None = None
) -> DecisionRecord:
    """What is kept of a decision with the item (for the customer's answer, the review
    queue and the audit of why)."""
    return {
        "outcome": d.outcome.value,
        "code": d.code,
        "rule_id": d.rule_id,
        "statutory": d.statutory,
        "routes": routes.dicts(d) if routes else route_dicts(d),
        "routes_note": d.routes_note,
        "findings": [
            {"rule_id": f.rule_id, "outcome": f.outcome.value, "code": f.code} for f in d.findings
        ],
        "device_key": device_key,
    }


def customer_facts(
    uow: UnitOfWork,
    customer: Customer,
    account: BankAccount | None,
    device_key: str | None,
    tier_facts: TierFacts | None = None,
) -> CustomerFacts:
    """``tier_facts``: the due diligence done (identity/tiers.py), where a rule reads it."""
    return CustomerFacts(
        id=customer.id,
        birth_date=customer.birth_date,
        created_at=customer.created_at,
        completed_sales=uow.items.count_paid(customer.id),
        holder_name_matches=None
        if account is None
        else same_holder(account.holder_name, customer.name),
        device_key=device_key,
        tiers=tier_facts or TierFacts(),
    )


@dataclass
class Counts:
    customer_items: int
    customer_value: int
    account_items: int
    account_value: int
    customer_failures: int
    device_failures: int
    customer_month_value: int = 0


def counts(
    uow: UnitOfWork,
    rs: RuleSet,
    *,
    customer_id: str,
    account_id: str,
    device_key: str | None,
    now: datetime,
    exclude_submission: str | None = None,
    month: bool = False,
) -> Counts:
    """``month``: also the customer's value this calendar month (due diligence reads it)."""
    start, _ = day_bounds(rs, now)
    window = now - timedelta(minutes=rs.params.failure_window_minutes)
    ci, cv = uow.items.day_totals(
        customer_id=customer_id, since=start, exclude_submission=exclude_submission
    )
    ai, av = uow.items.day_totals(
        account_id=account_id, since=start, exclude_submission=exclude_submission
    )
    return Counts(
        ci,
        cv,
        ai,
        av,
        uow.failures.count(customer_id=customer_id, since=window),
        uow.failures.count(device_key=device_key, since=window) if device_key else 0,
        uow.items.day_totals(
            customer_id=customer_id,
            since=tiers.month_start(rs, now),
            exclude_submission=exclude_submission,
        )[1]
        if month
        else 0,
    )


def issuer_exposure(uow: UnitOfWork, issuer: str, currency: str) -> int:
    return max(uow.ledger.balance(ledger.issuer_account(issuer), currency), 0)


@dataclass(frozen=True, slots=True)
class Candidate:
    """What intake knows of one item that passed the format checks: the facts to judge."""

    brand: Brand
    face_value: int
    funding_source: str
    payout: int
    code_hmac: str
    purchased_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Screening:
    """The policy's answer for one item, for the caller to record with it."""

    decision: Decision
    device_key: str | None
    routes: RoutesMemo | None = field(default=None, compare=False, repr=False)

    @property
    def declined(self) -> bool:
        return self.decision.outcome is Outcome.DECLINE

    @property
    def record(self) -> DecisionRecord:
        return decision_record(self.decision, self.device_key, self.routes)

    @property
    def flags(self) -> list[str] | None:
        return sorted({f.code for f in self.decision.flags}) or None

    @property
    def review_reason(self) -> str | None:
        d = self.decision
        return f"{d.code}: {d.message}" if d.outcome is Outcome.REVIEW else None

    @property
    def hold_until(self) -> datetime | None:
        d = self.decision
        return d.hold_until if d.outcome is Outcome.HOLD else None


def screen_intake(
    uow: UnitOfWork,
    deps: Deps,
    *,
    customer: Customer,
    account: BankAccount,
    candidates: Sequence[Candidate],
    now: datetime,
    device_key: str | None,
    live: LiveCatalogue | None = None,
) -> list[Screening]:
    """Decide every item of a submission, in order: one ``Screening`` per candidate (an
    item declined counts no more towards the day's and the submission's totals).
    ``live``: the catalogue the items were prepared with (the rules use the same)."""
    rs = ruleset(uow, deps, live)
    cf = customer_facts(uow, customer, account, device_key, tiers.facts(uow, deps, customer.id))
    c = counts(
        uow,
        rs,
        customer_id=customer.id,
        account_id=account.id,
        device_key=device_key,
        now=now,
        month=True,
    )
    sightings = uow.items.sightings([k.code_hmac for k in candidates])
    exposure: dict[tuple[str, str], int] = {}
    submission_value = sum(k.face_value for k in candidates)
    before_items = before_value = 0
    screenings: list[Screening] = []
    batch = Batch(rs)  # the active rules and the advisor's routes, shared by the items
    routes = RoutesMemo()
    for k in candidates:
        key = (k.brand.issuer, k.brand.currency)
        if key not in exposure:
            exposure[key] = issuer_exposure(uow, *key)
        item = ItemFacts(k.brand, k.face_value, k.funding_source, purchased_at=k.purchased_at)
        history = History(
            customer_items_today=c.customer_items,
            customer_value_today=c.customer_value,
            customer_value_month=c.customer_month_value,
            account_items_today=c.account_items,
            account_value_today=c.account_value,
            submission_items_before=before_items,
            submission_value_before=before_value,
            submission_value=submission_value,
            customer_failures=c.customer_failures,
            device_failures=c.device_failures,
            issuer_exposure=exposure[key],
            code_sightings=tuple(Sighting(cid, dc) for cid, dc in sightings.get(k.code_hmac, ())),
        )
        d = evaluate(
            rs,
            item,
            now=now,
            customer=cf,
            history=history,
            stage=Stage.INTAKE,
            payout=k.payout,
            batch=batch,
        )
        screenings.append(Screening(d, device_key, routes))
        if d.outcome is not Outcome.DECLINE:
            before_items += 1
            before_value += k.face_value
            exposure[key] += k.face_value
    return screenings


@dataclass(frozen=True, slots=True)
class IssuerFacts:
    """What the issuer's balance inquiry said of a voucher (``active`` when it offers none)."""

    status: str
    purchase_channel: str | None = None
    purchased_at: datetime | None = None
    expires_at: datetime | None = None
    used_value: int = 0


class BatchFacts:
    """The facts that a batch of items reads in one transaction, read once per batch.

    Within one ``record_admissions`` transaction they change only when an item is
    declined (the day's totals and a submission's value skip declined items) or a failure
    is recorded (the failure counts): the caller calls ``forget()`` after either, and
    every other item of the batch reuses the reads instead of repeating them per item.
    Nothing is posted there, so the issuer exposure and the paid count stand still."""

    def __init__(self) -> None:
        self._memo: dict[tuple[Any, ...], Any] = {}

    def get(self, key: tuple[Any, ...], read: Callable[[], Any]) -> Any:
        if key not in self._memo:
            self._memo[key] = read()
        return self._memo[key]

    def forget(self) -> None:
        self._memo.clear()


def screen_before_redemption(
    uow: UnitOfWork,
    deps: Deps,
    rs: RuleSet,
    *,
    item: LeasedItem,
    brand: Brand,
    customer: Customer,
    account: BankAccount | None,
    issuer_facts: IssuerFacts,
    now: datetime,
    batch: BatchFacts | None = None,
) -> Decision:
    """The second look, with what the issuer reported. An item a reviewer approved is not
    sent back to review nor held (declines, the statutory ones above all, still apply).
    ``batch``: reads shared with the other items of the same transaction (see above)."""
    batch = batch or BatchFacts()
    device_key = item.device_key
    account_id = account.id if account else ""
    sub_id = item.submission_id
    cf = batch.get(
        ("customer", customer.id, account_id, device_key),
        lambda: customer_facts(uow, customer, account, device_key),
    )
    c = batch.get(
        ("counts", customer.id, account_id, device_key, sub_id),
        lambda: counts(
            uow,
            rs,
            customer_id=customer.id,
            account_id=account_id,
            device_key=device_key,
            now=now,
            exclude_submission=sub_id,
        ),
    )
    facts = ItemFacts(
        brand,
        item.face_value,
        item.funding_source,
        issuer_channel=issuer_facts.purchase_channel,
        purchased_at=issuer_facts.purchased_at,
        expires_at=issuer_facts.expires_at,
        # the issuer's face may differ from the declared one: never more used than sold
        used_value=min(issuer_facts.used_value, item.face_value),
        issuer_status=issuer_facts.status,
    )
    history = History(
        customer_items_today=c.customer_items,
        customer_value_today=c.customer_value,
        account_items_today=c.account_items,
        account_value_today=c.account_value,
        submission_value=batch.get(
            ("submission_value", sub_id), lambda: uow.items.submission_value(sub_id)
        ),
        customer_failures=c.customer_failures,
        device_failures=c.device_failures,
        issuer_exposure=batch.get(
            ("exposure", brand.issuer, brand.currency),
            lambda: issuer_exposure(uow, brand.issuer, brand.currency),
        ),
    )
    d = evaluate(
        rs,
        facts,
        now=now,
        customer=cf,
        history=history,
        stage=Stage.PRE_REDEEM,
        payout=item.payout,
    )
    if item.reviewed_at is not None and d.outcome in (Outcome.REVIEW, Outcome.HOLD):
        # A reviewer looked at this sale by hand: that replaces both the review and the
        # first-sale timer (the hold exists to give fraud time to surface).
        from dataclasses import replace

        d = replace(d, outcome=Outcome.ACCEPT, code=None, message="", rule_id=None, hold_until=None)
    return d
