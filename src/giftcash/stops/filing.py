"""Filing, reading, releasing and settling payment stops. Each is one unit of work, audited
with its outcome (``audit.changes.audited``), refusals too.

- ``file_stop`` stores the stop and, in the same transaction, locks what it covers now,
  records what it found (``domain.stops.finding``) and freezes every payout the bank has
  not been asked about (``pending`` → ``held``). Its commit is the acknowledgement: from
  then on the worker's claims skip everything it names, future sales too.
- ``release_stop`` lifts it: held payouts no other stop covers go back to ``pending`` and
  are sent once, under the ``bank_tran_id`` they always had; held items go on.
- ``settle_stop`` ends what it holds without paying the customer: items never redeemed
  are declined, redeemed ones are withheld and what we owed the customer for them moves
  to the stop's liability account (``ledger.payment_stop_settled``), held payouts are
  cancelled and their other items go back to be paid by a new payout.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from giftcash.audit.changes import audited
from giftcash.domain import declines as dc
from giftcash.domain import ledger
from giftcash.domain import stops as rules
from giftcash.domain.banks import mask_account, normalise_account_number
from giftcash.domain.brands import mask, normalise
from giftcash.domain.errors import DomainError
from giftcash.domain.states import ItemStatus as IS
from giftcash.domain.states import Moved, transition
from giftcash.domain.states import PayoutStatus as PS
from giftcash.identity import operators
from giftcash.identity.blocks import CustomerNotFound
from giftcash.identity.operators import Operator
from giftcash.payouts import sending
from giftcash.service import errors
from giftcash.service.deps import Deps
from giftcash.service.ports.records import PaymentStop, StopExposure, StopLink
from giftcash.service.ports.uow import UnitOfWork
from giftcash.webhooks import announce

MAX_COVERED = 10_000  # items one stop's transaction locks and records
PAGE_MAX = 200
# Roles: partner banks and investigators file stops with an API key of this role and
# read the stops they filed; finance (and admin) read every stop, release and settle.
REQUESTER_ROLE = "stop_requester"
STAFF = ("finance",)


class StopNotFound(errors.NotFound):
    code = "stop_not_found"


class StopMustWait(DomainError):
    """Settling needs every call it covers answered: an issuer call or a payout the bank
    may have is still open."""

    code = "stop_must_wait"
    kind = "conflict"


@dataclass(frozen=True, slots=True)
class StopRequest:
    """A stop as a bank, the police or our staff ask for it. The scope's own field is
    required: ``customer_id``; ``code``; or ``bank_code`` with ``account_number``."""

    scope: str
    requester: str
    requester_name: str
    requester_contact: str
    reference: str
    reason: str
    customer_id: str | None = None
    code: str | None = None
    bank_code: str | None = None
    account_number: str | None = None


@dataclass(frozen=True, slots=True)
class StopDetail:
    stop: PaymentStop
    links: list[StopLink]

    @property
    def found(self) -> dict[str, int]:
        """Items by what the stop found them doing (held, in_flight, paid_before...)."""
        return dict(sorted(Counter(x.finding for x in self.links).items()))

    @property
    def paid_before(self) -> list[str]:
        """The payouts sent before the stop arrived, for the answer to the bank."""
        return sorted(
            {x.payout_id for x in self.links if x.finding == "paid_before" and x.payout_id}
        )


def _text(value: str | None, limit: int, field: str) -> str:
    text = " ".join((value or "").split())
    if not (1 <= len(text) <= limit):
        raise errors.InvalidInput(f"write 1 to {limit} characters", field=field)
    return text


def _choice(value: str, kind: type[StrEnum], field: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        names = ", ".join(k.value for k in kind)
        raise errors.InvalidInput(f"{field} is one of {names}", field=field) from None


def _subject(
    uow: UnitOfWork, deps: Deps, scope: rules.StopScope, req: StopRequest
) -> tuple[str | None, str | None, str, str | None]:
    """(customer_id, subject_hmac, subject_masked, bank_code) for the stop's scope."""
    if scope is rules.StopScope.CUSTOMER:
        cid = _text(req.customer_id, 64, "customer_id")
        if uow.customers.get(cid) is None:
            raise CustomerNotFound("no such customer")
        return cid, None, cid, None
    if scope is rules.StopScope.CODE:
        code = normalise(_text(req.code, 128, "code"))
        if not code:
            raise errors.InvalidInput("name the voucher code", field="code")
        return None, deps.vault.hmac(code), mask(code), None
    bank_code = _text(req.bank_code, 8, "bank_code")
    number = normalise_account_number(bank_code, _text(req.account_number, 32, "account_number"))
    # an account nobody here has used yet is recorded all the same: it holds future
    # payouts to that account the moment one is made
    return None, deps.vault.hmac(f"account:{bank_code}:{number}"), mask_account(number), bank_code


def file_stop(deps: Deps, op: Operator, req: StopRequest) -> StopDetail:
    scope = _choice(req.scope, rules.StopScope, "scope")
    requester = _choice(req.requester, rules.Requester, "requester")

    stop_id = deps.new_id()  # made first: the audit record names it, refused or not

    def change(uow: UnitOfWork) -> tuple[StopDetail, dict[str, Any]]:
        now = deps.clock.now()
        customer_id, key, masked, bank_code = _subject(uow, deps, scope, req)
        stop = PaymentStop(
            id=stop_id,
            scope=scope.value,
            customer_id=customer_id,
            subject_hmac=key,
            subject_masked=masked,
            bank_code=bank_code,
            requester=requester.value,
            requester_name=_text(req.requester_name, rules.MAX_REQUESTER_NAME, "requester_name"),
            requester_contact=_text(req.requester_contact, rules.MAX_CONTACT, "requester_contact"),
            reference=_text(req.reference, rules.MAX_REFERENCE, "reference"),
            reason=_text(req.reason, rules.MAX_REASON, "reason"),
            state=rules.StopState.ACTIVE.value,
            requested_by=op.actor,
            created_at=now,
        )
        uow.stops.add(stop)
        links = hold_covered(uow, stop, now, unlinked_only=False)
        detail = StopDetail(stop, links)
        return detail, {"found": detail.found}

    detail = {
        "scope": req.scope[:16],
        "requester": req.requester[:16],
        "reference": (req.reference or "")[: rules.MAX_REFERENCE],
    }
    return audited(deps, op, "payment_stop.file", f"payment_stop:{stop_id}", detail, change)


def hold_covered(
    uow: UnitOfWork, stop: PaymentStop, now: datetime, *, unlinked_only: bool
) -> list[StopLink]:
    """Lock what ``stop`` covers, freeze its payouts not yet sent and record what it
    found; answers the new records."""
    exposures = uow.stops.covered(stop, now, unlinked_only=unlinked_only, limit=MAX_COVERED)
    held: list[Moved[PS]] = []
    for pid in _payouts_in(exposures, PS.PENDING):
        event = transition(pid, PS.PENDING, PS.HELD)
        if uow.payouts.transition(event, now):
            held.append(event)
    frozen = {e.id for e in held}
    links = [_link(stop.id, x, frozen, now) for x in exposures]
    uow.stops.link(links)
    announce.payouts_moved(uow, held, now)
    return links


def _payouts_in(exposures: list[StopExposure], status: PS) -> list[str]:
    return sorted({x.payout_id for x in exposures if x.payout_id and x.payout_status == status})


def _link(stop_id: str, x: StopExposure, frozen: set[str], now: datetime) -> StopLink:
    payout = (
        PS.HELD if x.payout_id in frozen else (PS(x.payout_status) if x.payout_status else None)
    )
    found = rules.finding(
        IS(x.item_status), payout, item_leased=x.item_leased, payout_leased=x.payout_leased
    )
    return StopLink(
        stop_id,
        x.item_id,
        x.payout_id,
        found.value,
        x.item_status,
        payout.value if payout else None,
        now,
    )


# -- reads ----------------------------------------------------------------------------------


def visible(op: Operator, stop: PaymentStop | None) -> PaymentStop:
    """A requester (a partner bank's key) sees the stops it filed; staff see all."""
    if stop is None or (op.role == REQUESTER_ROLE and stop.requested_by != op.actor):
        raise StopNotFound("no such payment stop")
    return stop


def get_stop(deps: Deps, op: Operator, stop_id: str) -> StopDetail:
    with deps.reader() as uow:
        stop = visible(op, uow.stops.get(stop_id[:64]))
        return StopDetail(stop, uow.stops.links(stop.id))


def list_stops(
    deps: Deps, op: Operator, *, state: str | None, cursor: str | None, limit: int
) -> list[PaymentStop]:
    if state:
        state = _choice(state, rules.StopState, "state").value
    mine = op.actor if op.role == REQUESTER_ROLE else None  # a requester's own only
    with deps.reader() as uow:
        return uow.stops.page(state or None, cursor, min(limit, PAGE_MAX + 1), requested_by=mine)


# -- release and settlement -------------------------------------------------------------------


def release_stop(deps: Deps, op: Operator, stop_id: str, reason: str) -> StopDetail:
    """Lift the stop: what it held is paid once, by the normal pipeline."""
    operators.check_role(deps, op, STAFF, f"payment_stop.release {stop_id[:64]}")

    def change(uow: UnitOfWork) -> tuple[StopDetail, dict[str, Any]]:
        text = _text(reason, rules.MAX_REASON, "reason")
        now = deps.clock.now()
        stop = _close_at(uow, op, stop_id, rules.StopState.RELEASED, text, now)
        exposures = uow.stops.covered(stop, now, unlinked_only=False, limit=MAX_COVERED)
        resumed: list[Moved[PS]] = []
        for pid in _payouts_in(exposures, PS.HELD):
            if uow.stops.payout_stopped(pid):
                continue  # another active stop still covers it
            event = transition(pid, PS.HELD, PS.PENDING)
            if uow.payouts.transition(event, now):
                resumed.append(event)
        announce.payouts_moved(uow, resumed, now)
        # an item whose earlier issuer call was asked about waits for its next look: now
        uow.stops.make_due([x.item_id for x in exposures if x.item_status == IS.REDEEMING])
        closed = uow.stops.get(stop.id)
        assert closed is not None
        return StopDetail(closed, uow.stops.links(stop.id)), {"payouts_resumed": len(resumed)}

    detail = {"reason": reason[: rules.MAX_REASON]}
    return audited(deps, op, "payment_stop.release", f"payment_stop:{stop_id[:64]}", detail, change)


def _close_at(
    uow: UnitOfWork,
    op: Operator,
    stop_id: str,
    target: rules.StopState,
    reason: str,
    now: datetime,
) -> PaymentStop:
    stop = uow.stops.get(stop_id[:64])
    if stop is None:
        raise StopNotFound("no such payment stop")
    rules.advance(stop.state, target.value)
    if not uow.stops.close(stop.id, stop.state, target.value, op.actor, reason, now):
        raise rules.StopNotActive("the stop changed meanwhile; read it again")
    return stop


def settle_stop(deps: Deps, op: Operator, stop_id: str, reason: str) -> StopDetail:
    """End what the stop holds without paying the customer (the money was returned to
    the victim through the institution that asked); every won moves by a transfer."""
    operators.check_role(deps, op, STAFF, f"payment_stop.settle {stop_id[:64]}")

    def change(uow: UnitOfWork) -> tuple[StopDetail, dict[str, Any]]:
        text = _text(reason, rules.MAX_REASON, "reason")
        now = deps.clock.now()
        stop = _close_at(uow, op, stop_id, rules.StopState.SETTLED, text, now)
        exposures = uow.stops.covered(stop, now, unlinked_only=False, limit=MAX_COVERED)
        moves = {
            x.item_id: rules.settle_move(
                IS(x.item_status),
                PS(x.payout_status) if x.payout_status else None,
                item_leased=x.item_leased,
            )
            for x in exposures
        }
        waiting = sorted(i for i, m in moves.items() if m is rules.SettleMove.WAIT)
        if waiting:
            raise StopMustWait(
                "an issuer call or a payout of this stop is still open; settle it after "
                "the answer (or release the stop)",
                items=len(waiting),
            )
        withheld = _settle(uow, stop, exposures, moves, now)
        closed = uow.stops.get(stop.id)
        assert closed is not None
        return StopDetail(closed, uow.stops.links(stop.id)), {"withheld_won": withheld}

    detail = {"reason": reason[: rules.MAX_REASON]}
    return audited(deps, op, "payment_stop.settle", f"payment_stop:{stop_id[:64]}", detail, change)


def _settle(
    uow: UnitOfWork,
    stop: PaymentStop,
    exposures: list[StopExposure],
    moves: dict[str, rules.SettleMove],
    now: datetime,
) -> int:
    """Apply the settlement's moves; answers the won moved to the stop's liability."""
    SM = rules.SettleMove
    by_id = {x.item_id: x for x in exposures}
    item_events: list[Moved[IS]] = []
    payout_events: list[Moved[PS]] = []
    # the payouts it holds are cancelled first; their items it does not cover go back to
    # be paid by a new payout (unless another stop covers them too)
    for pid in sorted(
        {x.payout_id for x in exposures if x.payout_id and moves[x.item_id] is SM.WITHHOLD}
    ):
        status = PS(next(x.payout_status for x in exposures if x.payout_id == pid) or PS.PENDING)
        for event in _cancel(pid, status):
            moved = uow.payouts.transition(event, now)
            assert moved, event  # locked by ``covered``: nobody moved it since
            payout_events.append(event)
        others = [i for i in uow.items.ids_for_payout(pid) if i not in by_id]
        back = sending.back_from_paying(uow, others)
        assert uow.items.transition(back, now, clear_payout=True) == set(others)
        item_events += back
    declined = [i for i, m in moves.items() if m is SM.DECLINE]
    failed = [i for i, m in moves.items() if m is SM.FAIL]
    withheld = [i for i, m in moves.items() if m is SM.WITHHOLD]
    events = [
        *(
            transition(i, IS(by_id[i].item_status), IS.DECLINED, dc.PAYMENT_STOP.code)
            for i in declined
        ),
        *(transition(i, IS.REDEEMING, IS.FAILED, dc.PAYMENT_STOP_UNRESOLVED.code) for i in failed),
        *(
            transition(i, IS(by_id[i].item_status), IS.WITHHELD, dc.PAYMENT_STOP_SETTLED.code)
            for i in withheld
        ),
    ]
    moved_ids = uow.items.transition(events, now)
    assert moved_ids == {e.id for e in events}  # locked by ``covered``
    item_events += events
    for entry, ids in (
        (dc.PAYMENT_STOP, declined),
        (dc.PAYMENT_STOP_UNRESOLVED, failed),
        (dc.PAYMENT_STOP_SETTLED, withheld),
    ):
        if ids:
            uow.stops.note_outcome(ids, entry.code, entry.text)
    transfers = [
        ledger.payment_stop_settled(
            f"stop-settled:{stop.id}:{i}",
            customer_id=by_id[i].customer_id,
            stop_id=stop.id,
            amount=by_id[i].payout_won,
            currency=by_id[i].currency,
            ref=i,
        )
        for i in withheld
        if by_id[i].payout_won > 0
    ]
    uow.ledger.post_many(transfers)
    announce.items_moved(uow, item_events, now)
    announce.payouts_moved(uow, payout_events, now)
    return sum(by_id[i].payout_won for i in withheld)


def _cancel(payout_id: str, status: PS) -> list[Moved[PS]]:
    if status is PS.PENDING:
        return [
            transition(payout_id, PS.PENDING, PS.HELD),
            transition(payout_id, PS.HELD, PS.CANCELLED),
        ]
    return [transition(payout_id, PS.HELD, PS.CANCELLED)]
