"""The purge: the retention schedule (domain/retention.py) applied to the database.

Customers are walked in id order, a batch at a time; each batch is one transaction that
plans every customer in it and applies what is due, with one audit record of its counts
(none when nothing changed). Then the old sign-in records, idempotency keys and access-log
rows go, a bounded batch per transaction. A purge killed at any moment has committed whole
batches only; run again, it finds what is left (the candidates are read from the state,
not from a cursor kept anywhere), and a purge with nothing due changes nothing.

``dry_run`` runs the same batches and rolls each back: the counts are exactly what a real
run would change at that moment.

The ledger and the audit chain are not touched: ledger accounts and audit records name
customers by id only, and the id stays (it is a pseudonym once the row is emptied), so
``ledger check``, ``audit verify`` and the beancount export hold after a purge.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from giftcash.audit import log as audit
from giftcash.domain import retention
from giftcash.domain.retention import Plan, Step
from giftcash.service.deps import Deps
from giftcash.service.ports.privacy import Erased
from giftcash.service.ports.uow import UnitOfWork

BATCH = 200
MAX_BATCHES = 100_000  # a bound on one run: 20 million customers at the default batch
PURGE_ACTION = "privacy.purge"


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


def _apply(uow: UnitOfWork, plan: Plan, now: datetime) -> Erased:
    done = Erased()
    if Step.PSEUDONYMISE in plan.steps:
        done += uow.retention.pseudonymise(plan.customer_id, pseudonym(plan.customer_id), now)
    if Step.DESTROY_PAID_ACCOUNTS in plan.steps:
        done += uow.retention.destroy_accounts(plan.customer_id, now)
    return done


def _finish(uow: UnitOfWork, deps: Deps, done: Erased, actor: str, dry_run: bool) -> None:
    if dry_run:
        uow.rollback()
        return
    if done.total:  # a purge with nothing due leaves no trace, not even in the log
        detail = {k: v for k, v in done.counts().items() if v}
        audit.record(
            uow, actor, PURGE_ACTION, "privacy", detail, at=deps.clock.now(), id=deps.new_id()
        )
    uow.commit()


def purge_customers(
    deps: Deps,
    *,
    dry_run: bool = False,
    batch: int = BATCH,
    actor: str = "system:retention",
    progress: Progress | None = None,
    max_batches: int = MAX_BATCHES,
) -> PurgeReport:
    periods = deps.retention
    now = deps.clock.now()
    inactive_before = now - timedelta(days=periods.inactive_after_days)
    after: str | None = None
    total, scanned, held = Erased(), 0, dict[str, int]()
    for _ in range(max_batches):
        with deps.uow() as uow:
            facts = uow.retention.candidates(
                after_id=after, limit=batch, inactive_before=inactive_before
            )
            if not facts:
                break
            done = Erased()
            for f in facts:
                plan = retention.plan(f, periods, now)
                if plan.held is not None:
                    held[plan.held] = held.get(plan.held, 0) + 1
                done += _apply(uow, plan, now)
            _finish(uow, deps, done, actor, dry_run)
        after = facts[-1].customer_id
        scanned += len(facts)
        total += done
        if progress is not None:
            progress(scanned, total)
    return PurgeReport(total, scanned, held, dry_run)


def purge_old_records(
    deps: Deps,
    *,
    dry_run: bool = False,
    batch: int = BATCH,
    actor: str = "system:retention",
    max_batches: int = MAX_BATCHES,
) -> Erased:
    """Sign-in records, idempotency keys and access-log rows past their periods."""
    periods = deps.retention
    now = deps.clock.now()
    auth_before = now - timedelta(days=periods.auth_records_keep_days)
    access_before = now - timedelta(days=periods.access_log_keep_days)
    total = Erased()
    for _ in range(max_batches):
        with deps.uow() as uow:
            done = uow.retention.delete_old_records(
                auth_before=auth_before, access_before=access_before, limit=batch
            )
            _finish(uow, deps, done, actor, dry_run)
        total += done
        # a dry run deletes nothing, so the next batch would find the same rows
        if dry_run or max(done.counts().values()) < batch:
            break
    return total


def purge(
    deps: Deps,
    *,
    dry_run: bool = False,
    batch: int = BATCH,
    actor: str = "system:retention",
    progress: Progress | None = None,
) -> PurgeReport:
    """Everything the schedule says is due now."""
    report = purge_customers(deps, dry_run=dry_run, batch=batch, actor=actor, progress=progress)
    old = purge_old_records(deps, dry_run=dry_run, batch=batch, actor=actor)
    return PurgeReport(report.erased + old, report.customers_scanned, report.held, dry_run)
