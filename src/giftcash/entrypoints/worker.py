"""The pipeline runner: claims work from our own tables, overlaps the foreign calls in
bounded thread pools (the issuers', with a bound per issuer, and the bank's), and commits
outcomes in batches.

Threads rather than asyncio: the database layer and the HTTP clients are synchronous,
the calls are I/O-bound (the GIL is released while waiting), and a bounded pool gives the
same overlap with one programming model.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from giftcash.adapters.observability import metrics
from giftcash.adapters.webhooks import signing
from giftcash.adapters.webhooks.sender import HttpWebhookSender
from giftcash.domain.errors import DomainError
from giftcash.domain.states import PayoutStatus as PS
from giftcash.identity import bank_accounts
from giftcash.ops import health
from giftcash.payouts import notices, sending
from giftcash.privacy import purge
from giftcash.redemption import steps as redemption
from giftcash.resale import buying, delivery
from giftcash.resale import claims as resale_claims
from giftcash.resale import worker as resale
from giftcash.resale.buyers import buyer_name
from giftcash.review import cases
from giftcash.service.deps import Deps
from giftcash.service.outbound import OutboundPolicy
from giftcash.stops import holds as stops
from giftcash.webhooks import delivery as webhooks

log = logging.getLogger("giftcash.worker")

# Items claimed per issuer step, in rounds of the calls in flight (64 -> 256) and never
# fewer than ``batch``: enough that a pass's fixed work is spread thin, few enough that
# several workers with few calls in flight each take a share of a batch.
ISSUER_ROUNDS = 4

C = TypeVar("C")
R = TypeVar("R")


@dataclass
class WorkerStats:
    loops: int = 0
    admitted: int = 0
    redeemed: int = 0
    payouts_created: int = 0
    payouts_sent: int = 0
    payouts_checked: int = 0
    deposits_returned: int = 0
    orders_expired: int = 0
    accounts_closed: int = 0
    errors: int = 0


@dataclass
class Worker:
    deps: Deps
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    # None: the deps' limits (``Limits.worker_*``, from GIFTCASH_WORKER_* settings).
    concurrency: int | None = None
    per_issuer: int | None = None
    batch: int | None = None
    # Items claimed per issuer step (the balance inquiries, the redemptions): more than
    # ``batch``, so a pass's fixed work (its claims, its transactions, the payout steps)
    # is spread over more items and the calls in flight stay busy longer per pass.
    # None: ``batch`` when that is given, else the deps' limits, else ``ISSUER_ROUNDS``
    # rounds of ``concurrency`` (at least ``batch``).
    issuer_batch: int | None = None
    idle_sleep_s: float | None = None
    stats: WorkerStats = field(default_factory=WorkerStats)
    # None: an HTTP sender refusing, beside private networks, ``deps.outbound_denied``
    webhook_sender: webhooks.Sender | None = None
    cases_every_s: float | None = 60.0  # the AML detectors (review/cases.py); None: never
    # The retention schedule (privacy/purge.py): what is due is little in a day, and a
    # purge with nothing due changes nothing, so every worker may run it; None: never.
    retention_every_s: float | None = 3600.0
    # A heartbeat is a commit, and every commit is synced to disk (engine.py, durability):
    # beating every pass cost an idle worker ten syncs a second. Readiness calls a worker
    # stale only after max(2 leases, 30 s) (ops/health.py).
    heartbeat_every_s: float | None = None

    def __post_init__(self) -> None:
        limits = self.deps.limits
        self.concurrency = self.concurrency or limits.worker_concurrency
        self.per_issuer = self.per_issuer or limits.worker_per_issuer
        given = self.batch
        self.batch = self.batch or limits.worker_batch
        self.issuer_batch = (
            self.issuer_batch
            or given
            or limits.worker_issuer_batch
            or max(self.batch, ISSUER_ROUNDS * self.concurrency)
        )
        if self.idle_sleep_s is None:
            self.idle_sleep_s = limits.worker_idle_sleep_s
        if self.heartbeat_every_s is None:
            self.heartbeat_every_s = limits.worker_heartbeat_s
        if self.webhook_sender is None:
            policy = OutboundPolicy.of(denied=self.deps.outbound_denied)
            self.webhook_sender = HttpWebhookSender(policy=policy)
        self._cases_due = time.monotonic() + (self.cases_every_s or 0.0)
        self._retention_due = time.monotonic() + (self.retention_every_s or 0.0)
        self._beat_due = 0.0  # the first pass beats
        self.pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="gc-call")
        # the bank's calls have their own threads, so they never queue behind the issuers'
        self.bank_pool = ThreadPoolExecutor(
            max(2, self.concurrency // 4), thread_name_prefix="gc-bank"
        )
        self._issuer_slots: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.bank_pool.shutdown(wait=True)

    def _slot(self, issuer: str) -> threading.BoundedSemaphore:
        with self._lock:
            if issuer not in self._issuer_slots:
                self._issuer_slots[issuer] = threading.BoundedSemaphore(self.per_issuer)
            return self._issuer_slots[issuer]

    def _submit(
        self, fn: Callable[[C], R], claims: Sequence[C], key: Callable[[C], str]
    ) -> list[Future[R]]:
        """Start ``fn`` for every claim on the issuers' pool, within each issuer's bound."""

        def call(c: C) -> R:
            with self._slot(key(c)):
                return fn(c)

        return [self.pool.submit(call, c) for c in claims]

    def _bank_calls(self, fn: Callable[[C], R], claims: Sequence[C]) -> list[R]:
        return list(self.bank_pool.map(fn, claims))

    # -- one pass over every step -------------------------------------------------------
    def run_once(self) -> int:
        """One pass. The issuer's calls of both steps (balance inquiries before
        admission, redemptions) go out together; while they are in flight this thread does
        the bank's steps (their calls on a pool of their own), then records both. The
        issuer's latency is spent once per pass, not once per step, and the payouts'
        database work hides behind it. An item admitted in this pass is redeemed in the
        next; a redeemed one is paid out in the next."""
        d, w = self.deps, self.worker_id
        # the claims below skip what an active payment stop covers whatever this does;
        # this records what the stops cover and freezes their payouts, visibly
        stops.freeze(d)
        assert self.issuer_batch is not None
        admissions = redemption.claim_admissions(d, w, self.issuer_batch)
        claims = redemption.claim_redemptions(d, w, self.issuer_batch)
        looks = self._submit(lambda c: redemption.inquire(d, c), admissions, lambda c: c.row.issuer)
        redemptions = self._submit(lambda c: redemption.redeem(d, c), claims, lambda c: c.issuer)
        done = 0
        try:
            done += self._payout_steps()
        finally:
            # recorded whatever happened above: the issuer has answered these calls
            if admissions:
                redemption.record_admissions(d, w, [f.result() for f in looks])
                metrics.count_claimed("admit", len(admissions))
                self.stats.admitted += len(admissions)
            if claims:
                outcomes = [f.result() for f in redemptions]
                redemption.record_redemptions(d, w, outcomes)
                metrics.count_claimed("redeem", len(claims))
                metrics.count_redemptions(o.kind for o in outcomes)
                self.stats.redeemed += sum(o.kind == "captured" for o in outcomes)
        done += len(admissions) + len(claims)
        done += bank_accounts.settle_verifications(d, limit=self.batch)
        done += webhooks.deliver(d, signing, self.webhook_sender, w, limit=self.batch)
        done += notices.deliver(d, limit=self.batch)
        done += self._resale_steps()
        if time.monotonic() >= self._beat_due:
            self._beat_due = time.monotonic() + self.heartbeat_every_s
            health.heartbeat(d, w)
        self.stats.loops += 1
        if self.cases_every_s is not None and time.monotonic() >= self._cases_due:
            self._cases_due = time.monotonic() + self.cases_every_s
            cases.scan(d)  # now and then, not every pass: it reads a week of facts
        if self.retention_every_s is not None and time.monotonic() >= self._retention_due:
            self._retention_due = time.monotonic() + self.retention_every_s
            report = purge.purge(d, batch=self.batch or purge.BATCH)
            if report.erased.total:
                log.info("retention purge", extra={"counts": report.erased.counts()})
        return done

    def _payout_steps(self) -> int:
        d, w = self.deps, self.worker_id
        done = made = sending.create_payouts(d, limit=self.batch)
        self.stats.payouts_created += made

        sends = sending.claim_payouts(d, w, (PS.PENDING, PS.SENDING, PS.UNKNOWN), self.batch)
        if sends:
            outs = self._bank_calls(lambda c: sending.send_payout(d, c), sends)
            sending.record_sends(d, w, outs)
            metrics.count_claimed("send", len(sends))
            metrics.count_payouts(o.kind for o in outs)
            self.stats.payouts_sent += sum(o.kind == "sent" for o in outs)
            done += len(sends)

        checks = sending.claim_payouts(d, w, (PS.SENT,), self.batch)
        if checks:
            outs = self._bank_calls(lambda c: sending.check_payout(d, c), checks)
            times = sending.record_checks(d, w, outs)
            metrics.observe_payout_times((t.outside_window_s, t.bank_window_s) for t in times)
            metrics.count_claimed("check", len(checks))
            metrics.count_payouts(o.kind for o in outs)
            self.stats.payouts_checked += len(checks)
            done += len(checks)
        return done

    def _resale_steps(self) -> int:
        """Resale's steps against the bank's virtual accounts, when they are configured:
        the unpaid orders at their deadline, the accounts of expired orders to close, the
        paid orders to deliver, the payouts of refunds still owed, then the queued returns.
        Each step leaves what the bank did not answer for the next pass; a step that fails
        otherwise is logged by its error's type only (a bank's message may carry an account
        number) and does not stop the others or the pass."""
        d = self.deps
        port = d.virtual_accounts
        if port is None:
            return 0
        batch = self.batch or 100
        names = buyer_name(d)
        done = 0

        def step(name: str, run: Callable[[], int]) -> None:
            nonlocal done
            try:
                n = run()
            except Exception as e:  # the other steps and the rest of the pass go on
                self.stats.errors += 1
                log.warning("resale step %s failed: %s", name, type(e).__name__)
                return
            metrics.count_claimed(name, n)
            done += n

        def returns() -> int:
            sent = resale.send_returns(d.uow, port, d.clock.now(), limit=batch)
            self.stats.deposits_returned += sent.returned
            return sent.returned

        def expiry() -> int:
            expired = resale.expire_unpaid(d.uow, port, names, d.clock.now(), limit=batch)
            self.stats.orders_expired += len(expired)
            return len(expired)

        def closing() -> int:
            closed = resale.close_expired_accounts(d.uow, port, names, d.clock.now(), batch)
            self.stats.accounts_closed += closed.closed
            return closed.closed

        def deliveries() -> int:
            prices = buying.pricing_lookup(d)
            return delivery.deliver_paid(d, self.worker_id, limit=batch, pricing_for=prices)

        def refunds() -> int:  # owed or bounced refunds, once the buyer has an account
            return resale_claims.repay_refunds(d, limit=batch).paid

        # the returns last: what the expiry's, the close's and the refunds' steps queued
        # goes now
        step("resale_expire", expiry)
        step("resale_close", closing)
        step("resale_deliver", deliveries)
        step("resale_repay", refunds)
        step("resale_return", returns)
        return done

    def run(self, stop: threading.Event, *, max_loops: int | None = None) -> WorkerStats:
        log.info("worker %s started", self.worker_id)
        loops = 0
        while not stop.is_set() and (max_loops is None or loops < max_loops):
            loops += 1
            try:
                done = self.run_once()
                metrics.count_pass(ok=True)
            except DomainError as e:  # a race lost to another worker: the next pass retries
                self.stats.errors += 1
                metrics.count_pass(ok=False)
                log.warning("worker pass stopped: %s", e.code)
                done = 0
            except Exception:  # a database hiccup must not end the worker
                self.stats.errors += 1
                metrics.count_pass(ok=False)
                log.exception("worker pass failed")
                stop.wait(1.0)
                continue
            if done == 0:
                stop.wait(self.idle_sleep_s)
        log.info("worker %s stopped", self.worker_id)
        return self.stats

    def drain(self, timeout_s: float = 60.0) -> None:
        """Run passes until two passes in a row find nothing to do (tests and benchmarks).

        The pause between the two is short (at most 10 ms): what it lets in is work that a
        pass's last foreign answer made due at once, not a timer; the running worker's
        ``idle_sleep_s`` is a cost saving that a drain need not pay."""
        deadline = time.monotonic() + timeout_s
        pause_s = min(self.idle_sleep_s or 0.0, 0.01)
        idle = 0
        while time.monotonic() < deadline:
            if self.run_once() == 0:
                idle += 1
                if idle >= 2:
                    return
                time.sleep(pause_s)
            else:
                idle = 0
        raise TimeoutError("the pipeline did not drain in time")
