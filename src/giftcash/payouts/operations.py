"""The operators' hands on one payout: ask the bank about it (``payouts inquire``) and
send a waiting payout again now (``payouts retry``). Asking changes nothing; a retry is
audited.

A retry never makes a second transfer: the payout keeps its ``bank_tran_id``, and the
worker asks the bank about that id before it sends anything again (atomic phases)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from giftcash.audit import log as audit
from giftcash.domain.errors import DomainError
from giftcash.domain.states import PAYOUT_TERMINAL
from giftcash.service import errors
from giftcash.service.deps import Deps
from giftcash.service.ports import Ambiguous, Unavailable
from giftcash.service.ports.records import RowView

RETRYABLE = ("pending", "sending", "unknown", "sent")


class PayoutNotRetryable(DomainError):
    code = "payout_not_retryable"
    kind = "conflict"


def public_payout(p: RowView) -> dict[str, Any]:
    keep = (
        "id",
        "status",
        "amount",
        "currency",
        "bank_tran_id",
        "attempts",
        "created_at",
        "sent_at",
        "confirmed_at",
        "failure_code",
        "next_attempt_at",
        "lease_owner",
    )
    return {k: p.get(k) for k in keep}


@dataclass(frozen=True)
class PayoutInquiry:
    payout: dict[str, Any]
    bank_outcome: str  # done | pending | returned | rejected | not_found | unreachable
    bank_amount: int | None
    agrees: bool
    advice: str


# What our status should be for each answer of the bank.
_AGREES = {
    "done": {"sent", "confirmed"},
    "pending": {"sent", "sending", "unknown"},
    "returned": {"returned"},
    "rejected": {"rejected"},
    "not_found": {"pending", "sending", "unknown", "rejected"},
}


def inquire_payout(deps: Deps, payout_id: str) -> PayoutInquiry:
    """Ask the bank what happened to this payout's ``bank_tran_id``; change nothing."""
    with deps.reader() as uow:
        payout = uow.support.payout(payout_id)
    if payout is None:
        raise errors.PayoutNotFound("no such payout")
    try:
        result = deps.bank.transfer_result(
            payout["bank_tran_id"], payout["amount"], payout["created_at"].date()
        )
        outcome, amount = result.outcome, result.amount
    except (Ambiguous, Unavailable):
        outcome, amount = "unreachable", None
    status = payout["status"]
    agrees = status in _AGREES.get(outcome, set())
    if outcome == "unreachable":
        advice = "the bank did not answer; ask again later"
    elif agrees:
        advice = "the bank and our books agree"
    elif outcome == "returned":
        advice = (
            "the bank returned it: if the worker does not see it (the payout is "
            f"{status}), record the return by hand and let the items be paid again"
        )
    elif outcome == "done":
        advice = "the money arrived: the worker will confirm it (payouts retry makes it now)"
    else:
        advice = f"our books say {status}; the worker settles this by inquiry (payouts retry)"
    if amount is not None and amount != payout["amount"]:
        agrees = False
        advice = f"the bank moved {amount}, our books say {payout['amount']}: investigate"
    return PayoutInquiry(public_payout(payout), outcome, amount, agrees, advice)


def retry_payout(deps: Deps, payout_id: str, *, actor: str) -> dict[str, Any]:
    """Make a waiting payout due now (its backoff and lease cleared); audited."""
    now = deps.clock.now()
    with deps.uow() as uow:
        payout = uow.support.payout(payout_id)
        if payout is None:
            raise errors.PayoutNotFound("no such payout")
        status = payout["status"]
        if status in {s.value for s in PAYOUT_TERMINAL}:
            why = {
                "confirmed": "it is paid",
                "returned": "its items went back to redeemed and a new payout carries them",
                "rejected": "its items went back to redeemed and a new payout carries them",
            }.get(status, "it is finished")
            raise PayoutNotRetryable(f"the payout is {status}: {why}", current=status)
        if status == "held":  # only the stop's release sends it (stops/filing.py)
            raise PayoutNotRetryable(
                "the payout is held by a payment stop: release the stop to send it",
                current=status,
            )
        if not uow.support.make_payout_due(payout_id, RETRYABLE, now):
            raise PayoutNotRetryable("the payout changed meanwhile; look again", current=status)
        audit.record(
            uow,
            actor,
            "payout.retry",
            f"payout:{payout_id[:64]}",
            {"status": status, "attempts": payout["attempts"]},
            at=now,
            id=deps.new_id(),
        )
        uow.commit()
        return public_payout({**payout, "next_attempt_at": None, "lease_owner": None})
