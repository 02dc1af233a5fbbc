"""The review queue: items the policy sent to a person (``send_to_review``), what the
reviewer sees beside each (``review_queue``; with the policy's findings and the issuer's
facts, ``review_cases``), and the reviewer's decision (``approve``:
back to ``received`` for the worker, ``decline``: ``declined_by_review``), audited with
its reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from giftcash.audit.changes import audited
from giftcash.domain import declines as dc
from giftcash.domain.banks import same_holder
from giftcash.domain.errors import IllegalTransition
from giftcash.domain.records import Item
from giftcash.domain.states import ItemStatus, transition, transitions
from giftcash.identity.operators import Operator
from giftcash.service import errors
from giftcash.service.deps import Deps
from giftcash.service.ports.uow import UnitOfWork
from giftcash.webhooks import announce

REVIEW_DECLINE_CODE = dc.DECLINED_BY_REVIEW.code
REVIEW_DECLINE_MESSAGE = dc.DECLINED_BY_REVIEW.text
MAX_REASON = 500


class ItemNotFound(errors.NotFound):
    code = "item_not_found"


def _reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not (1 <= len(reason) <= MAX_REASON):
        raise errors.InvalidInput(
            f"a reason of 1 to {MAX_REASON} characters is needed", field="reason"
        )
    return reason


@dataclass(frozen=True, slots=True)
class ReviewEntry:
    item: dict[str, Any]  # masked code only
    customer: dict[str, Any]
    account: dict[str, Any]
    reason: str | None
    flags: list[str]


def age_band(birth_date: date, today: date) -> str:
    """A decade band ("20s", "60s", "80+"): enough for a reviewer, less than a birthday."""
    age = (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )
    return "80+" if age >= 80 else f"{age // 10 * 10}s"


def review_queue(deps: Deps, *, cursor: str | None, limit: int) -> list[ReviewEntry]:
    now = deps.clock.now()
    with deps.reader() as uow:
        rows = uow.review.waiting(cursor, limit)
        sales = uow.review.prior_sales([r["customer_id"] for r in rows])
    out = []
    for r in rows:
        paid_items, paid_total = sales.get(r["customer_id"], (0, 0))
        out.append(
            ReviewEntry(
                item={
                    "id": r["id"],
                    "submission_id": r["submission_id"],
                    "brand_id": r["brand_id"],
                    "issuer": r["issuer"],
                    "masked_code": r["masked_code"],
                    "face_value": r["face_value"],
                    "payout": r["payout"],
                    "currency": r["currency"],
                    "funding_source": r["funding_source"],
                    "purchase_channel": r["purchase_channel"],
                    "created_at": r["created_at"],
                    "waiting_since": r["updated_at"],
                },
                customer={
                    "id": r["customer_id"],
                    "name": r["customer_name"],
                    "age_band": age_band(r["birth_date"], now.date()),
                    "account_age_days": max((now - r["customer_since"]).days, 0),
                    "prior_sales": paid_items,
                    "prior_payout": paid_total,
                },
                account={
                    "bank_code": r["bank_code"],
                    "account_number_masked": r["account_number_masked"],
                    "holder_name": r["holder_name"],
                    "status": r["account_status"],
                },
                reason=r["review_reason"],
                flags=list(r["flags"] or []),
            )
        )
    return out


def send_to_review(
    deps: Deps, item_ids: list[str], *, reason: str, flags: list[str] | None = None
) -> None:
    """received → review with the reason and flags the reviewer sees (the pipeline's
    policy step calls this; so do tests until it does)."""
    now = deps.clock.now()
    with deps.uow() as uow:
        events = transitions(item_ids, ItemStatus.RECEIVED, ItemStatus.REVIEW)
        if uow.items.transition(events, now) != set(item_ids):
            raise IllegalTransition("an item is no longer received", target="review")
        announce.items_moved(uow, events, now)
        uow.review.note_reason(item_ids, reason, flags or [])
        uow.commit()


def _decide(deps: Deps, op: Operator, item_id: str, reason: str, approve: bool) -> Item:
    action = "item.approve" if approve else "item.decline"

    def change(uow: UnitOfWork) -> tuple[Item, dict[str, Any]]:
        note = _reason(reason)
        item = uow.items.get(item_id)
        if item is None:
            raise ItemNotFound("no such item")
        now = deps.clock.now()
        target = ItemStatus.RECEIVED if approve else ItemStatus.DECLINED
        decided = transition(item_id, ItemStatus.REVIEW, target)
        if not uow.items.transition([decided], now):  # decided already (a replay): 409
            raise IllegalTransition(
                "the item is no longer in review", current=item.status, target=target.value
            )
        announce.items_moved(uow, [decided], now)
        decline = None if approve else (REVIEW_DECLINE_CODE, REVIEW_DECLINE_MESSAGE)
        uow.review.record_decision(item_id, by=op.actor, at=now, note=note, decline=decline)
        moved = uow.items.get(item_id)
        assert moved is not None  # just moved in this transaction
        return moved, {"status": target.value}

    detail = {"reason": reason[:MAX_REASON]}
    return audited(deps, op, action, f"item:{item_id[:64]}", detail, change)


def approve(deps: Deps, op: Operator, item_id: str, reason: str) -> Item:
    """review → received: the worker then redeems it."""
    return _decide(deps, op, item_id, reason, approve=True)


def decline(deps: Deps, op: Operator, item_id: str, reason: str) -> Item:
    """review → declined (``declined_by_review``)."""
    return _decide(deps, op, item_id, reason, approve=False)


# -- what the console shows beside each item ---------------------------------------------


@dataclass(frozen=True)
class ReviewCase:
    """One item in review with everything a reviewer weighs (masked code only)."""

    entry: ReviewEntry
    findings: list[dict[str, Any]]  # rule_id, outcome, code: every rule that had a say
    decision_code: str | None
    warning: str | None  # what the customer was shown
    purchased_at: datetime | None  # as the issuer reports it
    bought_minutes_before: int | None  # purchase to submission
    holder_matches: bool
    condition: str | None = None  # the one condition that matched (``review_condition``)
    phone: str = ""  # the customer's, to call

    @property
    def item(self) -> dict[str, Any]:
        return self.entry.item


def review_cases(deps: Deps, *, cursor: str | None, limit: int) -> list[ReviewCase]:
    entries = review_queue(deps, cursor=cursor, limit=limit)
    with deps.reader() as uow:
        evidence = uow.review.review_evidence([e.item["id"] for e in entries])
        phones = uow.console_search.phones([e.customer["id"] for e in entries])
    out = []
    for e in entries:
        ev = evidence.get(e.item["id"], {})
        decision = ev.get("decision") or {}
        bought = ev.get("issuer_purchased_at")
        before = None
        if bought is not None:
            before = max(int((e.item["created_at"] - bought).total_seconds() // 60), 0)
        out.append(
            ReviewCase(
                entry=e,
                findings=list(decision.get("findings") or []),
                decision_code=decision.get("code"),
                warning=ev.get("warning"),
                purchased_at=bought,
                bought_minutes_before=before,
                holder_matches=same_holder(e.account["holder_name"], e.customer["name"]),
                condition=review_condition(e.reason),
                phone=phones.get(e.customer["id"], ""),
            )
        )
    return out


# The policy's message names which of its conditions matched (domain/policy.py writes "a
# first sale with vouchers bought minutes ago" or "... with the seller's age band"); the
# stored reason is "code: message".
_SCAM_CONDITIONS = (("vouchers bought minutes ago", "recent_and_large"), ("age band", "age_band"))


def review_condition(reason: str | None) -> str | None:
    """The exact condition that sent an item to review, from its stored reason: the code,
    and for the scam check which of its two conditions (``scam_check:age_band``)."""
    code, _, message = (reason or "").partition(":")
    if not code:
        return None
    if code == "scam_check":
        for phrase, condition in _SCAM_CONDITIONS:
            if phrase in message:
                return f"{code}:{condition}"
    return code


def recent_decisions(deps: Deps, *, limit: int = 10) -> list[dict[str, Any]]:
    """Items operators decided, latest first, with where each is now."""
    with deps.reader() as uow:
        rows = uow.review.recently_reviewed(limit)
        names = uow.customer_lookup.customer_names([r["customer_id"] for r in rows])
    return [{**r, "customer_name": names.get(r["customer_id"], "")} for r in rows]
