"""The buyer's guarantee (issue 15 item 5): a buyer claims a delivered unit "doesn't work"
within the guarantee window; the issuer is asked when and where the voucher was spent
(outside any transaction), and the verdict (domain/claims.py) is recorded with all its
effects in one transaction:

- spent before the buyer had it (before delivery, or after it but before the buyer first
  saw the code: domain/claims.py): the unit is refunded, the buyer's money goes back at
  once and the seller owes what we paid them (``assets:receivable:customer:<seller>``,
  netted from their next payouts: payouts/sending.py), the seller is held (a customer
  block: no sign-in, no sale) and a case opened;
- spent once the buyer had it: refused, the issuer's evidence shown, nothing moves;
- anything else: left for review, nothing moves.

How the money goes back: the bank returns a deposit only whole (the virtual-account
port's ``return_deposit``; the simulator refuses a part), so when the unit's price is the
whole kept deposit (a one-unit order) the deposit is queued to be returned exactly as an
undelivered order's is (``send_returns`` sends it once, by the key stored here). Any
other refund is owed on the buyer's customer liability and paid by a payout to their own
verified bank account, made here, sent by the payout worker; without such an account
it stays owed (``refund='owed'``) until the buyer has one: the worker's ``repay_refunds``
then makes the payout. A refund payout the bank returns or rejects is paid again the same
way, to a verified account (the one it bounced from is failed by then), or owed until
there is one.

One claim per unit: a repeat, with any key, answers the claim already recorded and has
no second effect (the claims table's unique unit and the unit's conditional move from
``delivered`` make two racing requests record one)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from giftcash.audit import log as audit
from giftcash.domain import ledger
from giftcash.domain.aml import CaseKind, CaseSignal, Evidence
from giftcash.domain.claims import (
    ClaimVerdict,
    ClaimWindowClosed,
    IssuerFacts,
    judge_claim,
    window_open,
)
from giftcash.domain.errors import DomainError
from giftcash.domain.records import BankAccount
from giftcash.domain.resale import ReturnReason
from giftcash.domain.states import (
    ClaimStatus,
    DepositStatus,
    OrderStatus,
    UnitStatus,
    transition,
)
from giftcash.resale.delivery import OrderNotFound, unit_price_won
from giftcash.resale.deposits import return_key
from giftcash.resale.sellers import hold_seller
from giftcash.review import cases
from giftcash.service import errors
from giftcash.service.deps import Deps
from giftcash.service.ports import Ambiguous, Unavailable
from giftcash.service.ports.records import Claim, InventoryUnit, Order, OrderDeposit, SealedCode
from giftcash.service.ports.uow import UnitOfWork

ACTOR = "system:claims"
HOLD_REASON = "resale claim: a voucher they sold us was spent before its buyer got it"
MAX_REASON = 500
MAX_WHERE = 200


class UnitNotFound(errors.NotFound):
    code = "unit_not_found"


class NotDelivered(DomainError):
    """Only a delivered unit of a delivered order is claimed."""

    code = "not_delivered"
    kind = "conflict"


class IssuerUnanswered(DomainError):
    """The issuer did not answer: nothing is recorded; send the claim again."""

    code = "claim_issuer_unavailable"
    kind = "unavailable"


@dataclass(frozen=True, slots=True)
class Filed:
    claim: Claim
    created: bool  # False: the unit's claim was recorded before; this is it


@dataclass(frozen=True, slots=True)
class Refund:
    how: str  # deposit_return | payout | owed
    deposit: OrderDeposit | None = None
    account: BankAccount | None = None


def file_claim(
    deps: Deps, customer_id: str, order_id: str, unit_id: str, reason: str | None
) -> Filed:
    """The buyer's claim on one unit of their order, judged and recorded once."""
    order, unit, sealed, existing = _look(deps, customer_id, order_id, unit_id)
    if existing is not None:
        return Filed(existing, created=False)
    facts = _ask(deps, sealed)
    assert order.delivered_at is not None
    verdict = judge_claim(facts, order.delivered_at, order.codes_revealed_at)
    now = deps.clock.now()
    with deps.uow() as uow:
        plan = (
            refund_plan(uow, order, unit_price_won(order))
            if verdict is ClaimVerdict.REFUND
            else None
        )
        claim = Claim(
            id=deps.new_id(),
            order_id=order.id,
            unit_id=unit.id,
            customer_id=customer_id,
            seller_id=sealed.seller_id,
            currency=order.currency,
            amount=unit_price_won(order),
            status=_STATUS[verdict].value,
            reason=" ".join(reason.split())[:MAX_REASON] if reason else None,
            issuer_status=facts.status[:16],
            used_at=facts.used_at,
            used_where=facts.used_where[:MAX_WHERE] if facts.used_where else None,
            refund=plan.how if plan else None,
            payout_id=deps.new_id() if plan and plan.how == "payout" else None,
            created_at=now,
        )
        if plan is not None and plan.account is not None:
            refund_payout(uow, deps, claim, plan.account, now)  # before the claim naming it
        if not uow.claims.add(claim, now):  # claimed first by another request: rolled back
            won = uow.claims.for_unit(unit.id)
            assert won is not None
            return Filed(won, created=False)
        claimed = transition(unit.id, UnitStatus.DELIVERED, UnitStatus.CLAIMED)
        moved = uow.inventory.apply([claimed], order.id, now)
        assert moved == [unit.id], unit.id  # its one claim is this one, in this transaction
        if verdict is ClaimVerdict.REFUND:
            assert plan is not None
            where = f" at {claim.used_where}" if claim.used_where else ""
            why = f"claimed by its buyer: the issuer says spent{where} before delivery"
            refund_claimed(uow, deps, order, unit, sealed, claim, plan, why, now)
        elif verdict is ClaimVerdict.REFUSE:
            uphold_claimed(uow, order, unit, now)
        audit.record(
            uow,
            f"customer:{customer_id}",
            "order.claim",
            f"order:{order.id}",
            {"unit": unit.id, "claim": claim.id, "status": claim.status, "refund": claim.refund},
            at=now,
            id=deps.new_id(),
        )
        uow.commit()
    return Filed(claim, created=True)


_STATUS = {
    ClaimVerdict.REFUND: ClaimStatus.REFUNDED,
    ClaimVerdict.REFUSE: ClaimStatus.REFUSED,
    ClaimVerdict.REVIEW: ClaimStatus.REVIEW,
}


def _look(
    deps: Deps, customer_id: str, order_id: str, unit_id: str
) -> tuple[Order, InventoryUnit, SealedCode, Claim | None]:
    now = deps.clock.now()
    with deps.reader() as uow:
        order = uow.orders.get(order_id[:64])
        if order is None or order.customer_id != customer_id:
            raise OrderNotFound("no such order")
        units = [u for u in uow.inventory.of_order(order.id) if u.id == unit_id]
        if not units:
            raise UnitNotFound("no such unit in this order")
        (unit,) = units
        existing = uow.claims.for_unit(unit.id)
        sealed = uow.inventory.sealed([unit.id])[unit.id]
    if existing is not None:
        return order, unit, sealed, existing
    delivered = order.status == OrderStatus.DELIVERED.value and order.delivered_at is not None
    if not delivered or unit.status != UnitStatus.DELIVERED.value:
        raise NotDelivered("only a delivered unit is claimed")
    assert order.delivered_at is not None
    if not window_open(order.delivered_at, now, deps.limits.resale_guarantee_days):
        raise ClaimWindowClosed(
            f"claims are taken for {deps.limits.resale_guarantee_days} days after delivery"
        )
    return order, unit, sealed, None


def _ask(deps: Deps, s: SealedCode) -> IssuerFacts:
    """The issuer's record of the voucher, asked with its code opened only for the call."""
    code = deps.vault.decrypt(s.code_enc, s.key_id, s.item_id)
    pin = deps.vault.decrypt(s.pin_enc, s.key_id, s.item_id + ":pin") if s.pin_enc else None
    try:
        info = deps.issuer.inquire_balance(s.issuer, code, pin)
    except (Ambiguous, Unavailable) as e:
        raise IssuerUnanswered(
            "the issuer did not answer; nothing was recorded: send the claim again"
        ) from e
    if info is None:  # no inquiry at this issuer: an operator looks
        return IssuerFacts("no_inquiry", None, None)
    return IssuerFacts(info.status, info.used_at, info.used_where)


def refund_plan(uow: UnitOfWork, order: Order, amount: int) -> Refund:
    """How a refund of ``amount`` goes back to the buyer (read in the caller's
    transaction): their one kept deposit returned whole when it is exactly that, else a
    payout to their newest verified account, else owed."""
    kept = [d for d in uow.orders.deposits(order.id) if d.status == DepositStatus.MATCHED.value]
    if len(kept) == 1 and kept[0].amount == amount:
        return Refund("deposit_return", deposit=kept[0])
    newest = newest_verified(uow, order.customer_id)
    return Refund("owed") if newest is None else Refund("payout", account=newest)


def refund_claimed(
    uow: UnitOfWork,
    deps: Deps,
    order: Order,
    unit: InventoryUnit,
    sealed: SealedCode,
    claim: Claim,
    plan: Refund,
    why: str,
    now: datetime,
    *,
    actor: str = ACTOR,
) -> None:
    """A claimed unit refunded, by the issuer's verdict at filing or by an operator
    settling a claim in review (resale/claim_review.py): the buyer's money on its way
    back by ``plan`` (its payout, if any, made by ``refund_payout`` before the claim names
    it), the seller's debt booked, the seller held and a case opened (``why``: its note),
    both in the name of ``actor`` (the system's, or the operator who settled it)."""
    _refund(uow, order, unit, claim, plan, now)
    _hold_seller(uow, deps, unit, sealed, claim, why, now, actor)


def uphold_claimed(uow: UnitOfWork, order: Order, unit: InventoryUnit, now: datetime) -> None:
    """A claimed unit upheld: the claim refused, nothing moves."""
    upheld = transition(unit.id, UnitStatus.CLAIMED, UnitStatus.UPHELD)
    assert uow.inventory.apply([upheld], order.id, now) == [unit.id]


def _refund(
    uow: UnitOfWork,
    order: Order,
    unit: InventoryUnit,
    claim: Claim,
    plan: Refund,
    now: datetime,
) -> None:
    """The unit refunded, the buyer's money on its way back, the seller's debt booked."""
    refunded = transition(unit.id, UnitStatus.CLAIMED, UnitStatus.REFUNDED)
    assert uow.inventory.apply([refunded], order.id, now) == [unit.id]
    by_payout = plan.how != "deposit_return"
    transfers = [
        ledger.claim_refund(
            f"claim-refund:{claim.id}",
            customer_id=order.customer_id,
            amount=claim.amount,
            currency=claim.currency,
            ref=claim.id,
            by_payout=by_payout,
        ),
        ledger.resale_clawback(
            f"claim-clawback:{claim.id}",
            customer_id=claim.seller_id,
            cost=unit.cost,
            currency=unit.currency,
            ref=claim.id,
        ),
    ]
    if plan.deposit is not None:
        reason = ReturnReason.CLAIM_REFUNDED.value
        queued = uow.orders.apply_deposit(
            transition(plan.deposit.id, DepositStatus.MATCHED, DepositStatus.RETURNING, reason),
            now,
            return_reason=reason,
            return_key=return_key(plan.deposit.bank_deposit_id),
        )
        assert queued, plan.deposit.id  # read matched in this transaction
        transfers.append(
            ledger.order_refunded(
                f"claim-return:{claim.id}",
                customer_id=order.customer_id,
                amount=claim.amount,
                currency=claim.currency,
                ref=order.id,
            )
        )
    uow.ledger.post_many(transfers)


def refund_payout(
    uow: UnitOfWork, deps: Deps, claim: Claim, account: BankAccount, now: datetime
) -> None:
    """The refund's payout to the buyer's own verified account, sent by the payout worker
    like any other (its ``bank_tran_id`` made now, before any call to the bank)."""
    assert claim.payout_id is not None
    uow.payouts.add(
        id=claim.payout_id,
        customer_id=claim.customer_id,
        bank_account_id=account.id,
        currency=claim.currency,
        amount=claim.amount,
        bank_tran_id=deps.new_bank_tran_id(),
        now=now,
    )


def _hold_seller(
    uow: UnitOfWork,
    deps: Deps,
    unit: InventoryUnit,
    s: SealedCode,
    claim: Claim,
    why: str,
    now: datetime,
    actor: str,
) -> None:
    """The seller is held (blocked: no sign-in, no sale, until an operator lifts it) and a
    case opened on them; the receivable stays until their payouts net it."""
    detail = {"claim": claim.id}
    hold_seller(uow, deps, s.seller_id, reason=HOLD_REASON, actor=actor, now=now, detail=detail)
    evidence = Evidence(
        key=f"claim:{unit.id}",
        at=now,
        amount=unit.face_value,
        item_id=unit.item_id,
        customer_id=s.seller_id,
        masked=s.masked_code,
        note=why,
    )
    signal = CaseSignal(
        CaseKind.RESOLD_SPENT,
        f"customer:{s.seller_id}",
        (s.seller_id,),
        (evidence,),
        unit.face_value,
        unit.currency,
        "a voucher sold to us for resale was found spent before its buyer got it",
    )
    cases.record_signal(uow, deps, signal, actor, now)


@dataclass(frozen=True, slots=True)
class RepayPass:
    paid: int  # payouts made to the buyer's own verified account
    owed: int  # no verified account yet: owed (a bounced payout's claim says so now)


def repay_refunds(deps: Deps, *, limit: int = 100) -> RepayPass:
    """Refunds whose money still waits on the buyer's customer liability (owed, or their
    payout returned or rejected by the bank) get a payout to the buyer's newest verified
    account, each claim in its own transaction. The claim's ``(refund, payout_id)`` read
    is the condition of its change, so two workers make one payout; a claim whose buyer
    has no verified account is (still) owed, which its page says, with the way to add one."""
    with deps.reader() as uow:
        waiting = uow.claims.to_repay(limit)
    paid = owed = 0
    for claim in waiting:
        now = deps.clock.now()
        with deps.uow() as uow:
            account = newest_verified(uow, claim.customer_id)
            was = (claim.refund, claim.payout_id)
            if account is not None:
                again = replace(claim, payout_id=deps.new_id())
                refund_payout(uow, deps, again, account, now)  # before the claim names it
                if uow.claims.set_refund(
                    claim.id, was=was, refund="payout", payout_id=again.payout_id, now=now
                ):
                    uow.commit()
                    paid += 1
            elif claim.refund != "owed":
                if uow.claims.set_refund(claim.id, was=was, refund="owed", payout_id=None, now=now):
                    uow.commit()
                    owed += 1
    return RepayPass(paid, owed)


def newest_verified(uow: UnitOfWork, customer_id: str) -> BankAccount | None:
    verified = [a for a in uow.bank_accounts.for_customer(customer_id) if a.status == "verified"]
    if not verified:
        return None
    return max(verified, key=lambda a: (a.verified_at or a.created_at, a.id))


def order_claims(uow: UnitOfWork, order_id: str) -> list[Claim]:
    return uow.claims.of_order(order_id)
