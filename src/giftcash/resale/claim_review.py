"""Claims in review settled by an operator (issue 15 item 5): a claim the issuer's answer
did not settle (unspent, not found, expired, spent with no time: domain/claims.py) waits
in ``review`` with its unit ``claimed`` until an operator (finance or admin: the entry
points check the role) decides:

- ``refund``: exactly the effects of a refund the issuer's answer decided at filing, by
  the same code (resale/claims.py ``refund_claimed``): the buyer's money back by the same
  rules (the kept deposit returned whole, else a payout to their own verified account,
  else owed), the seller's receivable for the unit's cost, the seller held and a case;
- ``refuse``: the unit upheld; no money moves.

One transaction, audited (``claim.resolve`` with the decision, the note and the outcome;
a refusal of the request is audited too: audit/changes.py). A claim is settled once: a
repeat answers the first outcome and changes nothing (the claim's conditional move out of
``review`` makes two racing requests settle it once)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from giftcash.audit.changes import audited
from giftcash.domain.errors import DomainError
from giftcash.domain.states import ClaimStatus, UnitStatus, transition
from giftcash.identity.operators import Operator
from giftcash.resale.claims import refund_claimed, refund_payout, refund_plan, uphold_claimed
from giftcash.service import errors
from giftcash.service.deps import Deps
from giftcash.service.ports.records import Claim
from giftcash.service.ports.uow import UnitOfWork

DECISIONS = ("refund", "refuse")
MAX_NOTE = 500
PAGE_MAX = 200


class ClaimNotFound(errors.NotFound):
    code = "claim_not_found"


class ClaimNotInReview(DomainError):
    """Only a claim in review is settled by an operator; the issuer's answer settled this
    one when it was filed."""

    code = "claim_not_in_review"
    kind = "conflict"


@dataclass(frozen=True, slots=True)
class Resolved:
    claim: Claim
    created: bool  # False: it was settled before; this is how


def list_claims(deps: Deps, *, status: str | None, cursor: str | None, limit: int) -> list[Claim]:
    """Claims by id (of one state, if given), ``limit`` after ``cursor``."""
    if status is not None and status not in {s.value for s in ClaimStatus}:
        states = ", ".join(s.value for s in ClaimStatus)
        raise errors.InvalidInput(f"status is one of {states}", field="status")
    with deps.reader() as uow:
        return uow.claims.page(status, cursor, min(limit, PAGE_MAX + 1))


def resolve_claim(deps: Deps, op: Operator, claim_id: str, decision: str, note: str) -> Resolved:
    """The operator's decision on a claim in review, recorded with its effects once."""
    if decision not in DECISIONS:
        raise errors.InvalidInput("a decision is refund or refuse", field="decision")
    note = " ".join(note.split())[:MAX_NOTE]
    if not note:
        raise errors.InvalidInput("say why in a note", field="note")
    claim_id = claim_id[:64]
    with deps.reader() as uow:
        earlier = uow.claims.get(claim_id)
    if earlier is not None and earlier.resolved_at is not None:
        return Resolved(earlier, created=False)

    def change(uow: UnitOfWork) -> tuple[Resolved, dict[str, Any]]:
        settled = _settle(uow, deps, op, claim_id, decision, note)
        more = {"claim_status": settled.claim.status, "refund": settled.claim.refund}
        return settled, more if settled.created else {**more, "already": True}

    detail = {"decision": decision, "note": note}
    return audited(deps, op, "claim.resolve", f"claim:{claim_id}", detail, change)


def _settle(
    uow: UnitOfWork, deps: Deps, op: Operator, claim_id: str, decision: str, note: str
) -> Resolved:
    now = deps.clock.now()
    claim = uow.claims.get(claim_id)
    if claim is None:
        raise ClaimNotFound("no such claim")
    if claim.resolved_at is not None:
        return Resolved(claim, created=False)
    if claim.status != ClaimStatus.REVIEW.value:
        raise ClaimNotInReview(f"the claim is {claim.status}, not in review")
    order = uow.orders.get(claim.order_id)
    assert order is not None, claim.order_id
    (unit,) = [u for u in uow.inventory.of_order(order.id) if u.id == claim.unit_id]
    assert unit.status == UnitStatus.CLAIMED.value, (unit.id, unit.status)
    plan = refund_plan(uow, order, claim.amount) if decision == "refund" else None
    if plan is not None:
        target = ClaimStatus.REFUNDED
        settled = replace(
            claim,
            status=target.value,
            refund=plan.how,
            payout_id=deps.new_id() if plan.account is not None else None,
        )
        if plan.account is not None:
            refund_payout(uow, deps, settled, plan.account, now)  # before the claim names it
    else:
        target, settled = ClaimStatus.REFUSED, replace(claim, status=ClaimStatus.REFUSED.value)
    event = transition(claim.id, ClaimStatus.REVIEW, target)
    by = op.actor
    if not uow.claims.resolve(
        event, refund=settled.refund, payout_id=settled.payout_id, by=by, note=note, now=now
    ):  # settled first by another request: nothing of this one stays
        uow.rollback()
        won = uow.claims.get(claim.id)
        assert won is not None
        if won.resolved_at is None:
            raise ClaimNotInReview(f"the claim is {won.status}, not in review")
        return Resolved(won, created=False)
    settled = replace(settled, resolved_by=by, resolved_at=now, resolution_note=note)
    if plan is not None:
        sealed = uow.inventory.sealed([unit.id])[unit.id]
        why = f"claimed by its buyer; refunded by {by} after review: {note}"
        refund_claimed(uow, deps, order, unit, sealed, settled, plan, why, now, actor=by)
    else:
        uphold_claimed(uow, order, unit, now)
    return Resolved(settled, created=True)
