"""Payouts, as the worker runs them: one payout per customer and account carries every
redeemed or stocked (resale) item that is due (``create_payouts``), is sent by a deposit
keyed by its ``bank_tran_id`` (``claim_payouts``, ``send_payout``, ``record_sends``) and
is confirmed or returned by the transfer-result inquiry (``check_payout``,
``record_checks``).

Atomic phases, as in ``redemption/steps.py``: the claim commits the intent, the bank is
called outside any transaction, the outcome commits with its ledger entry only while the
lease is still ours; a payout that may have been sent is asked about before it is sent
again.

Banks' hours (``bank_hours.py``): the claim to send leaves alone the payouts to a bank
in its window, so nobody calls a closed bank; a bank that refuses as closed anyway (a
window we did not know) makes its payout wait until the reopening it announced, the
claim given back (not a failure, no backoff), and the deposit is made once after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from giftcash.domain import ledger
from giftcash.domain.errors import DomainError
from giftcash.domain.states import BankAccountStatus as BAS
from giftcash.domain.states import ItemStatus as IS
from giftcash.domain.states import Moved, allows, transition, transitions
from giftcash.domain.states import PayoutStatus as PS
from giftcash.payouts import bank_hours
from giftcash.service.backoff import backoff
from giftcash.service.deps import Deps
from giftcash.service.ports import Ambiguous, BankClosed, TransferResult, Unavailable
from giftcash.service.ports.uow import UnitOfWork
from giftcash.webhooks import announce


@dataclass(frozen=True, slots=True)
class PayoutClaim:
    payout_id: str
    customer_id: str
    currency: str
    amount: int
    bank_tran_id: str
    bank_code: str
    account_number: str
    holder_name: str
    status: str
    prior_attempts: int
    created_at: datetime
    # the last closure the bank announced by refusing (None: it never refused so)
    bank_closed: tuple[datetime, datetime] | None = None
    stopped: bool = False  # a payment stop covers it: ask the bank, send nothing


@dataclass(frozen=True, slots=True)
class PayoutOutcome:
    claim: PayoutClaim
    kind: str  # sent | rejected | unknown | retry | closed | confirmed | returned | held
    reason: str = ""
    reopens_at: datetime | None = None  # closed: when the bank said it opens again


@dataclass(frozen=True, slots=True)
class PayoutTime:
    """A confirmed payout's time from creation to confirmation, and how much of it its
    bank was closed (the promise of minutes is kept outside the windows)."""

    total_s: float
    bank_window_s: int

    @property
    def outside_window_s(self) -> float:
        return max(self.total_s - self.bank_window_s, 0.0)


SENDING_STATES = frozenset({PS.PENDING, PS.SENDING, PS.UNKNOWN})


class NettingRaced(DomainError):
    """Two workers netted one customer's debt at once: this pass is rolled back (nothing
    made) and the next nets what is left."""

    code = "netting_raced"
    kind = "conflict"


def create_payouts(deps: Deps, limit: int = 200) -> int:
    """One payout per customer and account carries every redeemed or stocked item that
    is due (a stocked one once its brand's resale hold has passed: ``hold_until``).

    What the customer owes us (``assets:receivable:customer:<id>``: a resold voucher
    refunded to its buyer, resale/claims.py) is netted first, by a transfer in this
    transaction: the payout is the rest, never below zero; a debt larger than what is
    due takes it all (the items are paid with no payout) and the rest waits for the
    next. Answers how many payouts were made."""
    now = deps.clock.now()
    made = 0
    with deps.uow() as uow:
        for group in uow.items.payable_groups(now, limit):
            payout_id = deps.new_id()
            owed = uow.ledger.balance(ledger.receivable_account(group.customer_id), group.currency)
            netted = min(max(owed, 0), group.amount)
            if netted:
                uow.ledger.post(
                    ledger.receivable_netted(
                        f"netted:{payout_id}",
                        customer_id=group.customer_id,
                        amount=netted,
                        currency=group.currency,
                        ref=payout_id,
                    )
                )
                # read again under the ledger's lock the post took: below zero, another
                # worker netted the same debt since our read (its items split from ours)
                receivable = ledger.receivable_account(group.customer_id)
                if uow.ledger.balance(receivable, group.currency) < 0:
                    raise NettingRaced("a customer's debt was netted by two payouts at once")
            stocked = uow.inventory.for_items(group.item_ids)
            events = [
                transition(i, IS.STOCKED if i in stocked else IS.REDEEMED, IS.PAYING)
                for i in group.item_ids
            ]
            if netted == group.amount:  # all of it went to the debt: nothing to send
                moved = uow.items.transition(events, now)
                paid = transitions(group.item_ids, IS.PAYING, IS.PAID)
                assert moved == uow.items.transition(paid, now) == set(group.item_ids)
                announce.items_moved(uow, [*events, *paid], now)
                continue
            uow.payouts.add(
                id=payout_id,
                customer_id=group.customer_id,
                bank_account_id=group.bank_account_id,
                currency=group.currency,
                amount=group.amount - netted,
                bank_tran_id=deps.new_bank_tran_id(),
                now=now,
            )
            moved = uow.items.transition(events, now, payout_id=payout_id)
            assert moved == set(group.item_ids)  # locked by payable_groups: none taken since
            announce.items_moved(uow, events, now)
            made += 1
        uow.commit()
    return made


def claim_payouts(
    deps: Deps, worker_id: str, statuses: tuple[PS, ...], limit: int
) -> list[PayoutClaim]:
    now = deps.clock.now()
    lease_until = now + timedelta(seconds=deps.limits.lease_s)
    with deps.uow() as uow:
        # a claim that may deposit skips the banks in their window (no call to them)
        sends = SENDING_STATES.intersection(statuses)
        skip = bank_hours.closed_now(uow, deps, now) if sends else frozenset()
        rows = uow.payouts.claim(statuses, worker_id, now, lease_until, limit, skip_banks=skip)
        for r in rows:
            if r.status == PS.PENDING:
                moved = uow.payouts.transition(transition(r.id, PS.PENDING, PS.SENDING), now)
                assert moved  # claimed under our lease a moment ago
        uow.commit()
    return [
        PayoutClaim(
            payout_id=r.id,
            customer_id=r.customer_id,
            currency=r.currency,
            amount=r.amount,
            bank_tran_id=r.bank_tran_id,
            bank_code=r.bank_code,
            account_number=deps.vault.decrypt(
                r.account_number_enc, r.account_key_id, r.bank_account_id
            ),
            holder_name=r.holder_name,
            status=PS.SENDING if r.status == PS.PENDING else r.status,
            prior_attempts=r.attempts - 1,
            created_at=r.created_at,
            bank_closed=(
                (r.bank_closed_from, r.bank_closed_until)
                if r.bank_closed_from is not None and r.bank_closed_until is not None
                else None
            ),
            stopped=r.stopped,
        )
        for r in rows
    ]


def send_payout(deps: Deps, c: PayoutClaim) -> PayoutOutcome:
    """Phase 2 of a deposit: inquire first when an earlier call may have gone through."""
    if c.stopped:
        return _ask_only(deps, c)
    try:
        if c.prior_attempts > 0 or c.status == PS.UNKNOWN:
            result = deps.bank.transfer_result(c.bank_tran_id, c.amount, c.created_at.date())
            if result.outcome in ("done", "pending", "returned"):
                return PayoutOutcome(c, "sent")
            if result.outcome == "rejected":
                return PayoutOutcome(c, "rejected", "the bank refused the transfer")
        d = deps.bank.deposit(
            c.bank_tran_id,
            c.bank_code,
            c.account_number,
            c.holder_name,
            c.amount,
            memo="giftcash",
        )
        if d.outcome == "done":
            return PayoutOutcome(c, "sent")
        return PayoutOutcome(c, "rejected", d.message[:200])
    except Ambiguous as e:
        return PayoutOutcome(c, "unknown", str(e))
    except BankClosed as e:
        return PayoutOutcome(c, "closed", str(e), reopens_at=e.reopens_at)
    except Unavailable as e:
        return PayoutOutcome(c, "retry", str(e))


def _ask_only(deps: Deps, c: PayoutClaim) -> PayoutOutcome:
    """A payout a payment stop covers that the bank may have (sending, unknown): ask what
    became of the earlier call; one the bank never got is frozen (``held``), not sent."""
    try:
        result = deps.bank.transfer_result(c.bank_tran_id, c.amount, c.created_at.date())
    except (Ambiguous, Unavailable) as e:
        return PayoutOutcome(c, "retry", str(e))
    if result.outcome in ("done", "pending", "returned"):
        return PayoutOutcome(c, "sent")
    if result.outcome == "rejected":
        return PayoutOutcome(c, "rejected", "the bank refused the transfer")
    return PayoutOutcome(c, "held", "payment stop: the bank never got it")


def record_sends(deps: Deps, worker_id: str, outcomes: list[PayoutOutcome]) -> None:
    now = deps.clock.now()
    with deps.uow() as uow:
        transfers = []
        for o in outcomes:
            c = o.claim
            if o.kind == "sent":
                sent = transition(c.payout_id, PS(c.status), PS.SENT)
                if _leased(uow, sent, worker_id, now):
                    transfers.append(
                        ledger.payout_sent(
                            f"payout-sent:{c.payout_id}",
                            customer_id=c.customer_id,
                            amount=c.amount,
                            currency=c.currency,
                            ref=c.payout_id,
                        )
                    )
            elif o.kind == "rejected":
                rejected = transition(c.payout_id, PS(c.status), PS.REJECTED)
                if _leased(uow, rejected, worker_id, now, failure_code=o.reason):
                    _give_back(uow, c.payout_id, now)
            elif o.kind == "held":
                _leased(uow, transition(c.payout_id, PS(c.status), PS.HELD), worker_id, now)
            elif o.kind == "unknown":
                _leased(
                    uow,
                    transition(c.payout_id, PS(c.status), PS.UNKNOWN),
                    worker_id,
                    now,
                    next_attempt_at=now + backoff(deps, c.prior_attempts + 1),
                )
            elif o.kind == "closed":
                uow.payouts.release_closed(c.payout_id, worker_id, now, _reopening(deps, o, now))
            else:
                uow.payouts.release(
                    c.payout_id, worker_id, now + backoff(deps, c.prior_attempts + 1)
                )
        uow.ledger.post_many(transfers)
        uow.commit()


def _reopening(deps: Deps, o: PayoutOutcome, now: datetime) -> datetime:
    """The reopening the bank announced; one it did not give (or gave in the past, or
    absurdly far ahead) is replaced by a later look, ``bank_closed_retry_s`` from now."""
    said = o.reopens_at
    if said is None or said <= now or said > now + timedelta(days=7):
        return now + timedelta(seconds=deps.limits.bank_closed_retry_s)
    return said


def _leased(
    uow: UnitOfWork,
    event: Moved[PS],
    worker_id: str,
    now: datetime,
    *,
    failure_code: str | None = None,
    next_attempt_at: datetime | None = None,
    bank_window_s: int | None = None,
) -> bool:
    """Apply a payout's event while our lease holds; what moved is announced."""
    moved = uow.payouts.transition_leased(
        event,
        worker_id,
        now,
        failure_code=failure_code,
        next_attempt_at=next_attempt_at,
        bank_window_s=bank_window_s,
    )
    if moved:
        announce.payouts_moved(uow, [event], now)
    return moved


def back_from_paying(uow: UnitOfWork, item_ids: list[str]) -> list[Moved[IS]]:
    """Items a payout no longer carries go back to what they were before it took them:
    ``stocked`` for a resell brand's voucher (it has a unit of inventory), else
    ``redeemed``. The units themselves never move with a payout."""
    stocked = uow.inventory.for_items(item_ids)
    return [transition(i, IS.PAYING, IS.STOCKED if i in stocked else IS.REDEEMED) for i in item_ids]


def _give_back(uow: UnitOfWork, payout_id: str, now: datetime) -> None:
    """A payout the bank rejected or returned: its items go back (``back_from_paying``) for a
    new payout to carry, and its account fails (the customer adds an account again)."""
    ids = uow.items.ids_for_payout(payout_id)
    back = back_from_paying(uow, ids)
    moved = uow.items.transition(back, now, clear_payout=True)
    assert moved == set(ids)  # a payout's items move with it alone
    announce.items_moved(uow, back, now)
    payout = uow.payouts.get(payout_id)
    assert payout is not None
    account = uow.bank_accounts.get(payout.bank_account_id)
    assert account is not None
    status = BAS(account.status)
    if allows(status, BAS.FAILED):  # (failed already by an earlier payout: stays so)
        uow.bank_accounts.transition(transition(account.id, status, BAS.FAILED), now)


def check_payout(deps: Deps, c: PayoutClaim) -> PayoutOutcome:
    """Ask the bank whether a sent payout arrived (confirmed) or bounced (returned)."""
    try:
        result: TransferResult = deps.bank.transfer_result(
            c.bank_tran_id, c.amount, c.created_at.date()
        )
    except (Ambiguous, Unavailable) as e:
        return PayoutOutcome(c, "retry", str(e))
    if result.outcome == "done":
        return PayoutOutcome(c, "confirmed")
    if result.outcome == "returned":
        return PayoutOutcome(c, "returned")
    return PayoutOutcome(c, "retry", result.outcome)


def record_checks(deps: Deps, worker_id: str, outcomes: list[PayoutOutcome]) -> list[PayoutTime]:
    """Phase 3 of the checks; answers the times of the payouts confirmed (for metrics)."""
    now = deps.clock.now()
    times: list[PayoutTime] = []
    with deps.uow() as uow:
        transfers = []
        for o in outcomes:
            c = o.claim
            if o.kind == "confirmed":
                confirmed = transition(c.payout_id, PS.SENT, PS.CONFIRMED)
                window_s = bank_hours.window_seconds(
                    uow, deps, c.bank_code, c.created_at, now, c.bank_closed
                )
                if _leased(uow, confirmed, worker_id, now, bank_window_s=window_s):
                    times.append(PayoutTime((now - c.created_at).total_seconds(), window_s))
                    ids = uow.items.ids_for_payout(c.payout_id)
                    paid = transitions(ids, IS.PAYING, IS.PAID)
                    moved = uow.items.transition(paid, now)
                    assert moved == set(ids)  # a payout's items move with it alone
                    announce.items_moved(uow, paid, now)
                    transfers.append(
                        ledger.payout_confirmed(
                            f"payout-confirmed:{c.payout_id}",
                            amount=c.amount,
                            currency=c.currency,
                            ref=c.payout_id,
                        )
                    )
            elif o.kind == "returned":
                returned = transition(c.payout_id, PS.SENT, PS.RETURNED)
                if _leased(uow, returned, worker_id, now):
                    _give_back(uow, c.payout_id, now)
                    transfers.append(
                        ledger.payout_returned(
                            f"payout-returned:{c.payout_id}",
                            customer_id=c.customer_id,
                            amount=c.amount,
                            currency=c.currency,
                            ref=c.payout_id,
                        )
                    )
            elif c.prior_attempts + 1 >= deps.limits.max_attempts:
                # no final answer after many checks: park it for an operator, still asked
                # now and then so a late answer settles it without anyone
                uow.payouts.release(
                    c.payout_id,
                    worker_id,
                    now + timedelta(seconds=deps.limits.unconfirmed_recheck_s),
                    failure_code="unconfirmed",
                )
            else:
                uow.payouts.release(
                    c.payout_id, worker_id, now + backoff(deps, c.prior_attempts + 1)
                )
        uow.ledger.post_many(transfers)
        uow.commit()
    return times
