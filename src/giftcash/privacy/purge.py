"""The purge: the retention schedule (domain/retention.py) applied to the database.

Customers are walked in id order, a batch at a time; each batch is one transaction that
plans every customer in it and applies what is due, with one audit record of its counts
(none when nothing changed). Then the old sign-in records, idempotency keys and access-log
rows go, a bounded batch per transaction. A purge killed at any moment has committed whole
batches only; run again, it finds what is left (the candidates are read from the state,
not from a cursor kept anywhere), and a purge with nothing due changes nothing.

``dry_run`` runs the same batches in one transaction and rolls it back: the counts are
exactly what a real run would change at that moment.

Pseudonymising a customer also destroys what identity verification and due diligence
kept of the person (the verified identity with the CI's keyed hash, the identity
verifications of the customer or its phone, the EDD answers): kept whole during the keep
period, so one person still has one customer until then, and nothing of it after. A
customer an active payment stop covers (by customer, account or code) is held, as one
with open sales is, until the stop is released or settled.

The ledger is not touched: its accounts and transfers name customers by id only, and the
id stays (a pseudonym once the row is emptied), so ``ledger check`` and the beancount
export hold. The audit records about a pseudonymised customer (``customer:<id>``: block
reasons, which an operator types) are redacted: sealed records keep a salted digest in
the chain in place of their content (audit/log.py), and the batch's own record names the
records it redacted, so ``audit verify`` still holds and still finds any other change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from giftcash.audit import log as audit
from giftcash.domain import retention
from giftcash.domain.retention import CustomerFacts, Plan, Step
from giftcash.service.deps import Deps
from giftcash.service.ports.privacy import Erased
from giftcash.service.ports.uow import UnitOfWork

BATCH = 200
MAX_BATCHES = 100_000  # a bound on one run: 20 million customers at the default batch
PURGE_ACTION = audit.PURGE_ACTION
# A bound on the audit records redacted for one customer (blocks, unblocks, notes: a
# handful in practice); more than this is a bug to look at, not a loop to run.
REDACT_LIMIT = 10_000
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PurgeReport:
    erased: Erased
    customers_scanned: int
    held: dict[str, int] = field(default_factory=dict)  # why -> customers due but held
    dry_run: bool = False


def pseudonym(customer_id: str) -> str:
    """What replaces the phone: unique per customer (a hash of the id), never a phone
    number (a phone starts with 0), so the number can sign up again."""
    return "~" + hashlib.sha256(customer_id.encode()).hexdigest()[:31]


Progress = Callable[[int, Erased], None]  # (customers scanned so far, erased so far)


def _apply(
    uow: UnitOfWork, f: CustomerFacts, plan: Plan, now: datetime, redacted: list[int]
) -> Erased:
    done = Erased()
    if Step.PSEUDONYMISE in plan.steps:
        done += uow.retention.pseudonymise(
            f.customer_id, pseudonym(f.customer_id), now, seen_by=f.last_active_at
        )
        if not done.customers_pseudonymised:
            return done  # signed in meanwhile, or done by another purge: nothing more
        seqs = uow.audit.redact(f"customer:{plan.customer_id}", now, REDACT_LIMIT)
        redacted += seqs
        done += Erased(audit_details_redacted=len(seqs))
    if Step.CLOSE_TRANSACTION_RECORDS in plan.steps:
        done += uow.retention.close_transactions(plan.customer_id, now)
        # the review decisions' records: an operator's reason can name the person
        seqs = uow.audit.redact_items_of(plan.customer_id, now, REDACT_LIMIT)
        redacted += seqs
        done += Erased(audit_details_redacted=len(seqs))
    return done


class _Batches:
    """Where each batch runs: a transaction of its own, committed (a real purge), or all
    in one transaction rolled back at the end (a dry run: each batch sees what the ones
    before it changed, so the counts are exactly a real run's)."""

    def __init__(self, deps: Deps, actor: str, dry_run: bool) -> None:
        self.deps, self.actor, self.dry_run = deps, actor, dry_run
        self.shared: UnitOfWork | None = None

    def __enter__(self) -> _Batches:
        if self.dry_run:
            self.shared = self.deps.uow().__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.shared is not None:
            self.shared.rollback()
            self.shared.__exit__(*exc)

    def run(self, step: Callable[[UnitOfWork, list[int]], tuple[T, Erased]]) -> tuple[T, Erased]:
        """``step(uow, redacted)`` does one batch and adds the audit records it redacted
        to ``redacted``; the batch's own record names them (audit/log.py)."""
        redacted: list[int] = []
        if self.shared is not None:
            return step(self.shared, redacted)
        with self.deps.uow() as uow:
            result, done = step(uow, redacted)
            if done.total:  # a batch with nothing due leaves no trace, not even in the log
                detail: dict[str, object] = {k: v for k, v in done.counts().items() if v}
                if redacted:
                    detail["redacted_seqs"] = redacted
                now = self.deps.clock.now()
                audit.record(
                    uow, self.actor, PURGE_ACTION, "privacy", detail, at=now, id=self.deps.new_id()
                )
            uow.commit()
        return result, done


def _customers(
    deps: Deps, batches: _Batches, batch: int, progress: Progress | None, max_batches: int
) -> PurgeReport:
    periods = deps.retention
    now = deps.clock.now()
    inactive_before = now - timedelta(days=periods.inactive_after_days)
    after: str | None = None
    total, scanned, held = Erased(), 0, dict[str, int]()

    def step(uow: UnitOfWork, redacted: list[int]) -> tuple[list[CustomerFacts], Erased]:
        facts = uow.retention.candidates(
            after_id=after, limit=batch, inactive_before=inactive_before
        )
        done = Erased()
        for f in facts:
            plan = retention.plan(f, periods, now)
            if plan.held is not None:
                held[plan.held] = held.get(plan.held, 0) + 1
            done += _apply(uow, f, plan, now, redacted)
        return facts, done

    for _ in range(max_batches):
        facts, done = batches.run(step)
        if not facts:
            break
        after = facts[-1].customer_id
        scanned += len(facts)
        total += done
        if progress is not None:
            progress(scanned, total)
    return PurgeReport(total, scanned, held, batches.dry_run)


def _old_records(deps: Deps, batches: _Batches, batch: int, max_batches: int) -> Erased:
    """Sign-in records, idempotency keys, access-log rows, statement lines'
    counterparties and audit records about devices (their address) past their periods, a
    batch of each kind at a time."""
    periods = deps.retention
    now = deps.clock.now()
    auth_before = now - timedelta(days=periods.auth_records_keep_days)
    access_before = now - timedelta(days=periods.access_log_keep_days)
    # a statement line is a transaction record of its own day
    statements_before = retention.add_years(now, -periods.transaction_keep_years).date()
    total = Erased()

    def step(uow: UnitOfWork, redacted: list[int]) -> tuple[None, Erased]:
        done = uow.retention.delete_old_records(
            auth_before=auth_before,
            access_before=access_before,
            statements_before=statements_before,
            limit=batch,
        )
        # an address an operator blocked once, kept as long as the access records
        seqs = uow.audit.redact_old_devices(access_before, now, batch)
        redacted += seqs
        return None, done + Erased(audit_details_redacted=len(seqs))

    for _ in range(max_batches):
        _, done = batches.run(step)
        total += done
        if max(done.counts().values()) < batch:
            break
    return total


def purge(
    deps: Deps,
    *,
    dry_run: bool = False,
    batch: int = BATCH,
    actor: str = "system:retention",
    progress: Progress | None = None,
    max_batches: int = MAX_BATCHES,
) -> PurgeReport:
    """Everything the schedule says is due now; ``dry_run``: counted, nothing changed."""
    with _Batches(deps, actor, dry_run) as batches:
        report = _customers(deps, batches, batch, progress, max_batches)
        old = _old_records(deps, batches, batch, max_batches)
    return PurgeReport(report.erased + old, report.customers_scanned, report.held, dry_run)
