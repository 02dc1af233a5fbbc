"""Redemption, as the worker runs it: admission (the issuer's balance inquiry, then the
policy engine) and capture at the issuer. A resell brand's voucher admitted is not
captured: the inquiry verified it, and it is stocked as a unit of inventory (resale).
The payout steps are ``payouts/sending.py``.

Our own tables are the queue. Each foreign call follows atomic phases:
1. a claim commits the intent (status, idempotency key, lease, attempt count);
2. the call is made outside any transaction;
3. the outcome is committed with its ledger entry, only while the lease is still ours.
A claim that finds an earlier attempt (``attempts > 0``) asks the other side what
happened to that key before calling again: ambiguity is settled by inquiry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from giftcash.abuse import bounds
from giftcash.audit import log as audit
from giftcash.catalogue import live as catalogue
from giftcash.domain import declines as dc
from giftcash.domain import ledger
from giftcash.domain.brands import Disposition
from giftcash.domain.records import BankAccount, Customer
from giftcash.domain.states import ItemStatus as IS
from giftcash.domain.states import Moved, UnitStatus, transition
from giftcash.intake import screening
from giftcash.redemption import evidence
from giftcash.service.backoff import backoff
from giftcash.service.deps import Deps
from giftcash.service.ports import Ambiguous, Redemption, Unavailable, VoucherInfo
from giftcash.service.ports.records import InventoryUnit, IssuerEvidence, LeasedItem
from giftcash.service.ports.uow import UnitOfWork
from giftcash.webhooks import announce


@dataclass(frozen=True, slots=True)
class RedeemClaim:
    item_id: str
    customer_id: str
    issuer: str
    currency: str
    face_value: int
    payout: int
    key: str
    code: str
    pin: str | None
    prior_attempts: int  # calls started before this claim
    stopped: bool = False  # a payment stop covers it: ask about the earlier call only


@dataclass(frozen=True, slots=True)
class RedeemOutcome:
    claim: RedeemClaim
    kind: str  # captured | invalid | retry | held
    redemption: Redemption | None = None
    reason: str = ""
    asked_at: datetime | None = None  # when the issuer was asked and answered (evidence)
    answered_at: datetime | None = None


# -- conversion ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdmitClaim:
    row: LeasedItem  # the claimed item (its code taken out)
    code: str
    pin: str | None


@dataclass(frozen=True, slots=True)
class AdmitOutcome:
    claim: AdmitClaim
    kind: str  # facts | retry
    facts: screening.IssuerFacts | None = None
    reason: str = ""
    # the issuer's answer as it came, and when it was asked and answered (evidence)
    info: VoucherInfo | None = None
    asked_at: datetime | None = None
    answered_at: datetime | None = None


def redeem_key(item_id: str) -> str:
    """The idempotency key of an item's capture at its issuer: one per item, so every
    retry and every inquiry after an ambiguous answer names the same call. Made here,
    stored with the move to ``redeeming``, before the issuer is called."""
    return f"rdm_{item_id}"


def claim_admissions(deps: Deps, worker_id: str, limit: int) -> list[AdmitClaim]:
    """Lease received items for their second look (issuer inquiry, then policy). Items of
    a customer past the bound of unknown codes are let go again in the same transaction."""
    now = deps.clock.now()
    lease_until = now + timedelta(seconds=deps.limits.lease_s)
    with deps.uow() as uow:
        rows = uow.items.claim(IS.RECEIVED, worker_id, now, lease_until, limit)
        rows = _hold_unknown_code_senders(uow, deps, worker_id, rows, now)
        uow.commit()
    out = []
    for r in rows:
        code, pin = _open_code(deps, r)
        out.append(AdmitClaim(replace(r, code_enc=b"", pin_enc=None), code, pin))
    return out


def _hold_unknown_code_senders(
    uow: UnitOfWork, deps: Deps, worker_id: str, rows: list[LeasedItem], now: datetime
) -> list[LeasedItem]:
    """Items of a customer past the bound of unknown codes (abuse/bounds.py) wait, not
    asked about and never declined for it, until the bound lets the issuer be asked."""
    waits = {
        cid: bounds.invalid_codes_hold_s(uow, deps, cid, now)
        for cid in {r.customer_id for r in rows}
    }
    kept = []
    for r in rows:
        wait_s = waits[r.customer_id]
        if wait_s:
            uow.items.release(r.id, worker_id, now + timedelta(seconds=wait_s))
        else:
            kept.append(r)
    return kept


def _claim_items(deps: Deps, status: IS, worker_id: str, limit: int) -> list[LeasedItem]:
    now = deps.clock.now()
    lease_until = now + timedelta(seconds=deps.limits.lease_s)
    with deps.uow() as uow:
        rows = uow.items.claim(status, worker_id, now, lease_until, limit)
        uow.commit()
    return rows


def _open_code(deps: Deps, r: LeasedItem) -> tuple[str, str | None]:
    """The code and PIN of a claimed item, decrypted only for the call that needs them."""
    code = deps.vault.decrypt(r.code_enc, r.key_id, r.id)
    pin = deps.vault.decrypt(r.pin_enc, r.key_id, r.id + ":pin") if r.pin_enc else None
    return code, pin


def inquire(deps: Deps, c: AdmitClaim) -> AdmitOutcome:
    """Phase 2 of admission: what does the issuer say about this voucher? (read-only)"""
    asked_at = deps.clock.now()
    try:
        info = deps.issuer.inquire_balance(c.row.issuer, c.code, c.pin)
    except (Ambiguous, Unavailable) as e:
        return AdmitOutcome(c, "retry", reason=str(e))
    answered_at = deps.clock.now()
    if info is None:  # this issuer offers no inquiry
        return AdmitOutcome(c, "facts", screening.IssuerFacts("active"))
    used = 0
    if info.face_value is not None and info.balance is not None:
        used = max(info.face_value - info.balance, 0)
    return AdmitOutcome(
        c,
        "facts",
        screening.IssuerFacts(
            status=info.status,
            purchase_channel=info.purchase_channel,
            purchased_at=info.purchased_at,
            expires_at=info.expires_at,
            used_value=used,
        ),
        info=info,
        asked_at=asked_at,
        answered_at=answered_at,
    )


def record_admissions(deps: Deps, worker_id: str, outcomes: list[AdmitOutcome]) -> None:
    """Phase 3: decide with the policy engine and move each item on, in one transaction."""
    from giftcash.domain.policy import Outcome

    now = deps.clock.now()
    with deps.uow() as uow:
        rs = screening.ruleset(uow, deps)
        brands = catalogue.live_catalogue_in(uow, deps.brand_catalogue).brands
        people: dict[str, tuple[Customer, BankAccount | None]] = {}
        mismatches: list[tuple[LeasedItem, str | None, str | None]] = []
        batch = screening.BatchFacts()  # forgotten after every decline, failure or failed
        # moved on together after the loop
        admitted: list[tuple[Moved[IS], dict[str, object]]] = []
        stocked: list[tuple[Moved[IS], dict[str, object]]] = []  # resell brands
        stocked_facts: dict[str, AdmitOutcome] = {}
        announced: list[Moved[IS]] = []  # the moves this unit of work made
        unknown: list[bounds.Call] = []  # issuer inquiries that found no live voucher
        answers: list[IssuerEvidence] = []  # kept for the items that move (evidence.py)
        for o in outcomes:
            row = o.claim.row
            if o.info is not None and o.asked_at is not None and o.answered_at is not None:
                answers.append(
                    evidence.of_inquiry(
                        deps.new_id, row.id, row.issuer, o.asked_at, o.answered_at, o.info
                    )
                )
            if o.kind == "retry" or o.facts is None:
                attempts = row.attempts
                if attempts >= deps.limits.max_attempts:
                    _leased(
                        uow,
                        announced,
                        transition(row.id, IS.RECEIVED, IS.FAILED, dc.ISSUER_UNREACHABLE.code),
                        worker_id,
                        now,
                        decline=(dc.ISSUER_UNREACHABLE.code, o.reason[:200]),
                    )
                    batch.forget()
                else:
                    uow.items.release(row.id, worker_id, now + backoff(deps, attempts))
                continue
            if row.customer_id not in people:
                found = uow.customers.get(row.customer_id)
                assert found is not None  # an item's customer is never deleted
                sub = uow.submissions.get(row.submission_id)
                account = uow.bank_accounts.get(sub.bank_account_id) if sub else None
                people[row.customer_id] = (found, account)
            customer, account = people[row.customer_id]
            brand = brands[row.brand_id]
            if brand.disposition is Disposition.RESELL and o.info is None:
                # no balance inquiry at this issuer: a resell voucher cannot be verified
                # without redeeming it, so it is not bought
                refused = dc.COUPON_RESALE_UNAVAILABLE
                _leased(
                    uow,
                    announced,
                    transition(row.id, IS.RECEIVED, IS.DECLINED, refused.code),
                    worker_id,
                    now,
                    decline=(refused.code, refused.text),
                )
                uow.items.release_code(row.id)
                batch.forget()
                continue
            d = screening.screen_before_redemption(
                uow,
                deps,
                rs,
                item=row,
                brand=brand,
                customer=customer,
                account=account,
                issuer_facts=o.facts,
                now=now,
                batch=batch,
            )
            facts: dict[str, object] = {
                "decision": screening.decision_record(d, row.device_key),
                "purchase_channel": o.facts.purchase_channel,
                "issuer_purchased_at": o.facts.purchased_at,
                "issuer_expires_at": o.facts.expires_at,
                "warning": d.warning,
                "flags": sorted({f.code for f in d.flags}) or None,
            }
            if facts["purchase_channel"] is None:  # none reported: keep what is stored
                del facts["purchase_channel"]
            if any(f.code == "declaration_mismatch" for f in d.flags):
                mismatches.append((row, o.facts.purchase_channel, d.code))
            if d.outcome is Outcome.DECLINE:
                assert d.code is not None
                _leased(
                    uow,
                    announced,
                    transition(row.id, IS.RECEIVED, IS.DECLINED, d.code),
                    worker_id,
                    now,
                    decline=(d.code, d.message),
                    facts=facts,
                )
                entry = dc.describe(d.code)
                if entry.retryable or entry.kind is dc.Kind.ISSUER:
                    uow.items.release_code(row.id)
                if entry.counts_as_failure:  # the issuer does not know, or not as sold
                    uow.failures.add(
                        "invalid_code", now, customer_id=row.customer_id, device_key=row.device_key
                    )
                    unknown.append(
                        bounds.Call(
                            bounds.ISSUER_INVALID, person=row.customer_id, address=row.device_key
                        )
                    )
                batch.forget()
            elif d.outcome is Outcome.REVIEW:
                _leased(
                    uow,
                    announced,
                    transition(row.id, IS.RECEIVED, IS.REVIEW),
                    worker_id,
                    now,
                    facts={**facts, "review_reason": f"{d.code}: {d.message}"},
                )
            else:
                earlier = None if row.reviewed_at else row.hold_until
                holds = [h for h in (earlier, d.hold_until) if h is not None]
                if brand.disposition is Disposition.RESELL:
                    # verified by the inquiry above, not redeemed: stocked, its seller
                    # paid once the brand's hold has passed (and any other hold)
                    if brand.resell_hold_s:
                        holds.append(now + timedelta(seconds=brand.resell_hold_s))
                    fields = {**facts, "hold_until": max(holds) if holds else None}
                    stocked.append((transition(row.id, IS.RECEIVED, IS.STOCKED), fields))
                    stocked_facts[row.id] = o
                    continue
                fields = {**facts, "hold_until": max(holds) if holds else None}
                event = transition(row.id, IS.RECEIVED, IS.REDEEMING)
                admitted.append(
                    (event, {**fields, "redeem_key": redeem_key(row.id), "attempts": 0})
                )
        owned = uow.items.transition_leased_many(admitted, worker_id, now)
        announced += [e for e, _ in admitted if e.id in owned]
        kept = uow.items.transition_leased_many(stocked, worker_id, now)
        announced += [e for e, _ in stocked if e.id in kept]
        _stock(uow, deps, [stocked_facts[i] for i in sorted(kept)], now)
        announce.items_moved(uow, announced, now)
        evidence.keep(uow, answers, {e.id for e in announced}, now)
        if unknown:  # counted against the customer's bound; a burst trips the breaker
            bounds.record_many(uow, deps, unknown, now)
        for row, reported, outcome in mismatches:  # a forged declaration: on the record
            audit.record(
                uow,
                "system:policy",
                "item.declaration_mismatch",
                f"item:{row.id}",
                {
                    "declared": row.funding_source,
                    "issuer_reported": reported,
                    "customer_id": row.customer_id,
                    "decision": outcome,
                },
                at=now,
                id=deps.new_id(),
            )
        uow.commit()


def _stock(uow: UnitOfWork, deps: Deps, outcomes: list[AdmitOutcome], now: datetime) -> None:
    """The stocked items' units of inventory and their books, in the transaction that
    moved them: Dr inventory (the brand's, at cost) / Cr the seller's liability, which the
    payout then debits as it does a redeemed item's."""
    units = []
    transfers = []
    for o in outcomes:
        row = o.claim.row
        units.append(
            InventoryUnit(
                id=deps.new_id(),
                item_id=row.id,
                brand_id=row.brand_id,
                currency=row.currency,
                face_value=row.face_value,
                cost=row.payout,
                expires_at=o.facts.expires_at if o.facts else None,
                status=UnitStatus.STOCKED.value,
                created_at=now,
            )
        )
        transfers.append(
            ledger.stocking(
                f"stock:{row.id}",
                brand_id=row.brand_id,
                customer_id=row.customer_id,
                cost=row.payout,
                currency=row.currency,
                ref=row.id,
            )
        )
    uow.inventory.add_many(units, now)
    uow.ledger.post_many(transfers)


def claim_redemptions(deps: Deps, worker_id: str, limit: int) -> list[RedeemClaim]:
    out = []
    for r in _claim_items(deps, IS.REDEEMING, worker_id, limit):
        code, pin = _open_code(deps, r)
        assert r.redeem_key is not None  # set on the move to redeeming
        out.append(
            RedeemClaim(
                item_id=r.id,
                customer_id=r.customer_id,
                issuer=r.issuer,
                currency=r.currency,
                face_value=r.face_value,
                payout=r.payout,
                key=r.redeem_key,
                code=code,
                pin=pin,
                prior_attempts=r.attempts - 1,
                stopped=r.stopped,
            )
        )
    return out


def redeem(deps: Deps, c: RedeemClaim) -> RedeemOutcome:
    """Phase 2: talk to the issuer (no transaction open). Under a payment stop only the
    inquiry about an earlier call: a capture that happened is recorded (held by the
    stop), none is made."""
    asked_at = deps.clock.now()
    try:
        if c.stopped:
            earlier = deps.issuer.redemption_by_key(c.issuer, c.key)
            if earlier is None:
                return RedeemOutcome(c, "held")
            return replace(_classify(c, earlier), asked_at=asked_at, answered_at=deps.clock.now())
        if c.prior_attempts > 0:
            earlier = deps.issuer.redemption_by_key(c.issuer, c.key)
            if earlier is not None:
                return replace(
                    _classify(c, earlier), asked_at=asked_at, answered_at=deps.clock.now()
                )
        answer = _classify(c, deps.issuer.redeem(c.issuer, c.key, c.code, c.pin))
        return replace(answer, asked_at=asked_at, answered_at=deps.clock.now())
    except Ambiguous as e:
        return RedeemOutcome(c, "retry", reason=f"ambiguous: {e}")
    except Unavailable as e:
        return RedeemOutcome(c, "retry", reason=f"unavailable: {e}")


def _classify(c: RedeemClaim, r: Redemption) -> RedeemOutcome:
    if r.outcome == "captured":
        return RedeemOutcome(c, "captured", r)
    return RedeemOutcome(c, "invalid", r, reason=r.outcome)


def record_redemptions(deps: Deps, worker_id: str, outcomes: list[RedeemOutcome]) -> None:
    """Phase 3 for a batch: one transaction, each item only while its lease is ours."""
    now = deps.clock.now()
    with deps.uow() as uow:
        # In order: transfers, and the claims captured in full, which are moved to
        # ``redeemed`` together after the loop (if still ours) and posted in their place.
        transfers: list[ledger.Transfer | RedeemClaim] = []
        announced: list[Moved[IS]] = []  # the moves this unit of work made
        answers: list[IssuerEvidence] = []  # kept for the items that move (evidence.py)
        for o in outcomes:
            c = o.claim
            if o.redemption is not None and o.asked_at and o.answered_at:
                answers.append(
                    evidence.of_redemption(
                        deps.new_id, c.item_id, c.issuer, o.asked_at, o.answered_at, o.redemption
                    )
                )
            if o.kind == "captured":
                r = o.redemption
                assert r is not None
                if r.amount is not None and r.amount != c.face_value:
                    if _leased(
                        uow,
                        announced,
                        transition(c.item_id, IS.REDEEMING, IS.FAILED, dc.AMOUNT_MISMATCH.code),
                        worker_id,
                        now,
                        decline=(dc.AMOUNT_MISMATCH.code, "the issuer captured another amount"),
                    ):
                        transfers.append(
                            ledger.unmatched_capture(
                                f"redeem:{c.item_id}",
                                issuer=c.issuer,
                                amount=r.amount,
                                currency=c.currency,
                                ref=c.item_id,
                            )
                        )
                    continue
                transfers.append(c)
            elif o.kind == "invalid":
                refused = dc.for_issuer_answer(o.reason)  # the issuer refused the capture
                _leased(
                    uow,
                    announced,
                    transition(c.item_id, IS.REDEEMING, IS.INVALID, refused.code),
                    worker_id,
                    now,
                    decline=(refused.code, refused.text),
                )
                uow.failures.add("invalid_code", now, customer_id=c.customer_id)
            elif o.kind == "held":  # nothing captured: asked again now and then, and
                # at once when the stop is released (stops/filing.py)
                again = now + timedelta(seconds=deps.limits.unconfirmed_recheck_s)
                uow.items.release(c.item_id, worker_id, again)
            else:
                attempts = c.prior_attempts + 1
                if attempts >= deps.limits.max_attempts:
                    _leased(
                        uow,
                        announced,
                        transition(c.item_id, IS.REDEEMING, IS.FAILED, dc.ISSUER_UNREACHABLE.code),
                        worker_id,
                        now,
                        decline=(dc.ISSUER_UNREACHABLE.code, o.reason[:200]),
                    )
                else:
                    uow.items.release(c.item_id, worker_id, now + backoff(deps, attempts))
        captured = [x for x in transfers if isinstance(x, RedeemClaim)]
        captures: list[tuple[Moved[IS], Mapping[str, object]]] = [
            (transition(x.item_id, IS.REDEEMING, IS.REDEEMED), {}) for x in captured
        ]
        moved = uow.items.transition_leased_many(captures, worker_id, now, redeemed=True)
        announced += [e for e, _ in captures if e.id in moved]
        announce.items_moved(uow, announced, now)
        evidence.keep(uow, answers, {e.id for e in announced}, now)
        uow.ledger.post_many(
            [
                _redemption_transfer(x) if isinstance(x, RedeemClaim) else x
                for x in transfers
                if not isinstance(x, RedeemClaim) or x.item_id in moved
            ]
        )
        uow.commit()


def _leased(
    uow: UnitOfWork,
    announced: list[Moved[IS]],
    event: Moved[IS],
    worker_id: str,
    now: datetime,
    **fields: Any,
) -> bool:
    """Apply one item's event while our lease holds; what moved is announced."""
    if uow.items.transition_leased(event, worker_id, now, **fields):
        announced.append(event)
        return True
    return False


def _redemption_transfer(c: RedeemClaim) -> ledger.Transfer:
    return ledger.redemption(
        f"redeem:{c.item_id}",
        issuer=c.issuer,
        customer_id=c.customer_id,
        face=c.face_value,
        payout=c.payout,
        currency=c.currency,
        ref=c.item_id,
    )
