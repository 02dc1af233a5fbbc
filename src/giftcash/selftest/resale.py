"""Resale runs (issue 15, "Bad input, races and faults"): sellers' resold vouchers are
stocked, verified buyers order them at once (more orders than units), pay by transfer to
the bank simulator's virtual accounts (exact, twice, in another name, short, or not at
all), and the bank's deposit notifications reach ``resale.notifications`` in this process
as the API's endpoint would take them; a few stocked vouchers are spent elsewhere first,
so the pre-delivery check withdraws them and replaces or refunds their orders.

- ``resale-crash``: real ``giftcash worker`` processes do the deliveries, refunds and
  returns and are killed with SIGKILL at random moments meanwhile (crash.WorkerPool).
- ``resale-faults``: an in-process worker, the bank losing, repeating and reordering its
  notifications, failing and timing out on its virtual-account calls (issue, deposits,
  return, close) and losing their answers, and the issuer timing out on the pre-delivery
  balance inquiry. At the end the clock moves past the payment deadline, so the worker's
  inquiry at expiry finds the deposits whose notification was lost.

The end checks (``check_resale``) read both sides: our orders, deposits, units and
ledger, the codes each buyer is shown, and the bank simulator's own accounts, deposits
and returns. The seller side and the ledger are ``checks.check_world``'s."""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, func, select

from giftcash.adapters.db import tables as t
from giftcash.adapters.db.uow import SqlUnitOfWork
from giftcash.adapters.webhooks.signing import new_secret
from giftcash.bootstrap import build_deps, make_engine_from_settings
from giftcash.domain.errors import DomainError
from giftcash.entrypoints.worker import Worker
from giftcash.identity import verification
from giftcash.resale import buying, delivery
from giftcash.resale.buyers import buyer_name
from giftcash.resale.notifications import take_notification
from giftcash.selftest.checks import EndCheck, check_world, unsettled
from giftcash.selftest.crash import WorkerPool, WorkerProcess
from giftcash.selftest.registry import Context, Row
from giftcash.selftest.stack import (
    BANK_CODE,
    BIRTH,
    Customer,
    Simulators,
    buy,
    env_for,
    giftcash_command,
    make_customer,
    provision,
    settings_for,
    submit,
)
from giftcash.service.deps import Deps
from giftcash.service.ports.records import VerifiedPerson

BRAND = "kyobo_gift"  # resold (market.toml), priced by the default resale pricing
FACE = 10_000
PER_SELLER = 5  # a first day of at most 50,000 won (no first-sale hold)
# How each order is paid, with its weight: the exact amount in the buyer's name (kept),
# that twice (the second returned), a stranger's deposit then the buyer's, a short one
# then the exact one, or nothing (the order waits for its deadline).
PAYMENTS = (("exact", 6), ("twice", 2), ("stranger", 1), ("short", 1), ("none", 1))
ORDER_DONE = frozenset({"delivered", "refunded", "expired"})
DEPOSIT_DONE = frozenset({"matched", "returned"})


@dataclass(frozen=True)
class ResalePlan:
    units: int = 20
    spent: int = 3  # stocked vouchers used elsewhere before their delivery
    buyers: int = 10
    orders: int = 30  # more units ordered than stocked: the rest find none
    threads: int = 10  # buyers ordering and paying at once
    settle_s: float = 60.0
    # resale-crash: the worker processes and their kills
    crash: bool = False
    workers: int = 2
    max_kills: int = 12
    kill_phase_s: float = 10.0  # killing goes on at least this long (and while buyers buy)
    kill_after_s: tuple[float, float] = (0.1, 1.2)
    lease_s: int = 2
    latency_ms: tuple[int, int] = (20, 60)
    # resale-faults: the bank's and the issuer's faults
    notification_lost_rate: float = 0.25
    notification_repeat_rate: float = 0.25
    error_rate: float = 0.08
    timeout_rate: float = 0.04
    timeout_after_work_rate: float = 0.05
    lost_answer_rate: float = 0.08
    injected_timeout_ms: int = 1200
    http_timeout_s: float = 0.4
    worker_command: tuple[str, ...] | None = None  # a test's planted worker


@dataclass
class ResaleCheck:
    orders: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    deposits: int = 0
    double_deliveries: int = 0
    double_refunds: int = 0
    lost_won: int = 0
    invariant_breaks: int = 0
    unsettled: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (
            self.double_deliveries
            or self.double_refunds
            or self.lost_won
            or self.invariant_breaks
            or self.unsettled
        )


class Later:
    """The system clock moved on by ``offset`` (set when a run ends)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class Notifications:
    """The bank simulator's sender: each notification taken as ``POST /v1/bank/notifications``
    takes it; any failure is a 500 and the bank sends it again later."""

    def __init__(self) -> None:
        self.deps: Deps | None = None
        self.taken = 0

    def __call__(self, body: bytes, headers: dict[str, str]) -> int:
        d = self.deps
        if d is None or d.virtual_accounts is None:
            return 503
        try:
            take_notification(
                d.uow, d.virtual_accounts, headers, body, buyer_name(d), d.clock.now()
            )
        except DomainError:
            return 404
        except Exception:  # a locked SQLite file, a serialization failure: sent again
            return 500
        self.taken += 1
        return 204


class Courier:
    """The bank simulator's notification outbox delivered every ``poll_s`` (its own
    background loop needs the app's lifespan, which the simulators' servers run without)."""

    def __init__(self, bank_url: str, poll_s: float = 0.05) -> None:
        self.url = f"{bank_url}/sim/notifications/deliver"
        self.poll_s = poll_s
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="selftest-courier", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        with httpx.Client(timeout=30) as http:
            while not self.stop.wait(self.poll_s):
                try:
                    http.post(self.url)
                except httpx.HTTPError:
                    continue  # the simulator is stopping

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


# -- the run's world -------------------------------------------------------------------------


def stock_units(deps: Deps, sims: Simulators, plan: ResalePlan) -> list[dict[str, Any]]:
    """Sellers submit ``plan.units`` resold vouchers; answers the vouchers (the issuer's)."""
    vouchers = buy(sims, BRAND, FACE, plan.units)
    for n in range(0, plan.units, PER_SELLER):
        seller = make_customer(deps, sims, 1 + n // PER_SELLER)
        assert seller is not None, "the 1-won deposit did not arrive"
        submit(deps, seller, vouchers[n : n + PER_SELLER])
    return vouchers


def verified_buyer(deps: Deps, sims: Simulators, n: int) -> Customer:
    """A customer with a bank account at the simulator and a verified identity in the
    name the account holds (the storage step of the identity flow)."""
    c = make_customer(deps, sims, 500 + n)
    assert c is not None, "the 1-won deposit did not arrive"
    person = VerifiedPerson(c.name, BIRTH, "F", "SKT", f"0109{500 + n:07d}", f"ci-{n}", f"di-{n}")
    with deps.uow() as uow:
        verification._store(uow, deps, c.id, f"ci-selftest-{n}", person, deps.clock.now())
        uow.commit()
    return c


def pay(sims: Simulators, number: str, amount: int, payer: Customer, name: str) -> bool:
    """A buyer's transfer; False when the bank refused it (the order's account closed
    after its delivery: the money never left the payer)."""
    r = sims.http.post(
        f"{sims.bank_url}/sim/virtual-accounts/{number}/deposits",
        json={
            "payer_name": name,
            "payer_bank_code": BANK_CODE,
            "payer_account": payer.account_number,
            "amount": amount,
        },
    )
    if r.status_code == 409:
        return False
    r.raise_for_status()
    return True


@dataclass
class Shopping:
    placed: int = 0
    out_of_stock: int = 0
    refused: int = 0  # over a limit, the bank never issuing the account
    deposits: int = 0


def shop(
    deps: Deps, sims: Simulators, plan: ResalePlan, rng: random.Random, buyers: list[Customer]
) -> Shopping:
    """``plan.orders`` orders by ``plan.threads`` buyers at once, each paid as drawn."""
    kinds = [k for k, w in PAYMENTS for _ in range(w)]
    draws = [
        (n, rng.choice(buyers), rng.choice((1, 1, 1, 2)), rng.choice(kinds))
        for n in range(plan.orders)
    ]
    out = Shopping()
    lock = threading.Lock()

    def one(n: int, b: Customer, quantity: int, kind: str) -> None:
        view = None
        for _ in range(20):  # the same key again while the bank does not issue
            try:
                view = buying.place(deps, b.id, f"order-{n}", BRAND, FACE, quantity)
                break
            except buying.VirtualAccountPending:
                time.sleep(0.05)
            except DomainError as e:
                with lock:
                    if e.code == "out_of_stock":
                        out.out_of_stock += 1
                    else:
                        out.refused += 1
                return
        if view is None:
            with lock:
                out.refused += 1
            return
        number, amount = view.order.virtual_account_number, view.order.amount
        assert number is not None
        steps: list[tuple[int, str]] = {
            "exact": [(amount, b.name)],
            "twice": [(amount, b.name), (amount, b.name)],
            "stranger": [(amount, "김사기"), (amount, b.name)],
            "short": [(amount - 100, b.name), (amount, b.name)],
            "none": [],
        }[kind]
        made = sum(pay(sims, number, won, b, name) for won, name in steps)
        with lock:
            out.placed += 1
            out.deposits += made

    with ThreadPoolExecutor(plan.threads) as pool:
        for f in [pool.submit(one, *d) for d in draws]:
            f.result()
    return out


# -- the end checks --------------------------------------------------------------------------


def resale_unsettled(engine: Engine, sims: Simulators, now: datetime) -> int:
    """Orders paid but neither delivered nor refunded, orders past their deadline still
    awaiting payment, orders done whose account is not yet closed (and asked once more),
    deposits not yet kept or returned, notifications the bank still holds to send for
    deposits we have not recorded (not those it lost: the inquiries are for those)."""
    o, d = t.orders.c, t.order_deposits.c
    with SqlUnitOfWork(engine, read_only=True) as uow:
        conn = uow.conn
        n = conn.execute(
            select(func.count()).select_from(t.orders).where(o.status == "paid")
        ).scalar_one()
        deadlines = conn.execute(select(o.deadline).where(o.status == "awaiting_payment")).scalars()
        n += sum(1 for at in deadlines if _aware(at) <= now)
        n += conn.execute(  # done with its account, not yet closed and asked once more
            select(func.count())
            .select_from(t.orders)
            .where(
                o.status.in_(ORDER_DONE),
                o.virtual_account_number.is_not(None),
                o.account_closed_at.is_(None),
            )
        ).scalar_one()
        n += conn.execute(
            select(func.count()).select_from(t.order_deposits).where(d.status.not_in(DEPOSIT_DONE))
        ).scalar_one()
        known = set(conn.execute(select(d.bank_deposit_id)).scalars())
    notices = sims.http.get(f"{sims.bank_url}/sim/notifications").json()["notifications"]
    return int(n) + sum(
        1 for x in notices if x["status"] == "pending" and x["deposit_id"] not in known
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check_resale(engine: Engine, sims: Simulators, deps: Deps) -> ResaleCheck:
    """Both sides of resale at the end of a run (every figure must be zero):

    - double deliveries: a voucher delivered in more than one unit, a code shown to
      more than one order, more units delivered to an order than it bought, units
      delivered to an order that was not delivered (refunded, expired);
    - double refunds: a deposit the bank returned more than once, or asked to return
      under more than one key (the simulator refuses the second, a real bank might
      not), returns under keys we never stored, kept deposits the bank returned;
    - lost won: the money the bank holds from buyers (deposits not returned) against
      what our records account for (kept deposits net of refunds, in the ledger, plus
      deposits recorded and queued for return);
    - invariant breaks: a delivered or paid order without exactly one kept deposit, a
      delivered order with fewer units than bought, a deposit we hold returned that the
      bank still holds, buyers' liabilities that are not their paid orders' amounts."""
    out = ResaleCheck()
    accounts = sims.http.get(f"{sims.bank_url}/sim/virtual-accounts").json()["virtual_accounts"]
    returns = sims.http.get(f"{sims.bank_url}/sim/returns").json()["returns"]
    u, lt, lp = (
        t.inventory_units.c,
        t.ledger_transfers.c,
        t.ledger_postings.c,
    )
    with SqlUnitOfWork(engine, read_only=True) as uow:
        conn = uow.conn
        orders = {r.id: r for r in conn.execute(select(t.orders))}
        ours = {r.bank_deposit_id: r for r in conn.execute(select(t.order_deposits))}
        units = list(conn.execute(select(u.id, u.item_id, u.order_id, u.status)))
        kinds = {
            kind: int(total or 0)
            for kind, total in conn.execute(
                select(lt.kind, func.sum(lp.amount))
                .join(t.ledger_transfers, lt.id == lp.transfer_id)
                .where(lp.amount > 0, lt.kind.in_(("order_paid", "order_refunded")))
                .group_by(lt.kind)
            )
        }
        buyer_balances = {
            acct: int(total or 0)
            for acct, total in conn.execute(
                select(lp.account, func.sum(lp.amount))
                .where(lp.account.like("liabilities:buyer:%"))
                .group_by(lp.account)
            )
        }
        matched = Counter(r.order_id for r in ours.values() if r.status == "matched")
    out.orders = len(orders)
    out.by_status = dict(Counter(r.status for r in orders.values()))
    out.deposits = len(ours)

    # -- double deliveries
    delivered = [x for x in units if x.status in delivery.SHOWN]
    per_item = Counter(x.item_id for x in delivered)
    twice = sum(n - 1 for n in per_item.values() if n > 1)
    per_order = Counter(x.order_id for x in delivered)
    over = sum(max(0, n - orders[oid].quantity) for oid, n in per_order.items() if oid in orders)
    not_delivered = sum(
        n for oid, n in per_order.items() if oid not in orders or orders[oid].status != "delivered"
    )
    shown: Counter[str] = Counter()
    for oid, r in orders.items():
        if r.status == "delivered":
            for c in delivery.delivered_codes(deps, r.customer_id, oid):
                shown[c.code] += 1
    shown_twice = sum(n - 1 for n in shown.values() if n > 1)
    out.double_deliveries = twice + over + not_delivered + shown_twice
    if out.double_deliveries:
        out.notes.append(
            f"{twice} vouchers in two delivered units, {over} units over their orders,"
            f" {not_delivered} units delivered to undelivered orders, {shown_twice} codes"
            " shown to two orders"
        )

    # -- double refunds (the bank's records of returns)
    keys = {r.return_key for r in ours.values() if r.return_key}
    returned: Counter[str] = Counter()
    asked: dict[str, set[str]] = {}
    for r in returns:
        asked.setdefault(r["deposit_id"], set()).add(r["return_key"])
        if r["status"] == "returned":
            returned[r["deposit_id"]] += 1
    repeated = sum(n - 1 for n in returned.values() if n > 1)
    new_keys = sum(len(k) - 1 for k in asked.values() if len(k) > 1)
    foreign = sum(1 for r in returns if r["return_key"] not in keys)
    kept_back = sum(1 for dep in returned if dep in ours and ours[dep].status == "matched")
    out.double_refunds = repeated + new_keys + foreign + kept_back
    if out.double_refunds:
        out.notes.append(
            f"bank: {repeated} deposits returned twice, {new_keys} returns asked under a"
            f" second key, {foreign} under keys we never stored, {kept_back} kept deposits"
            " returned"
        )

    # -- lost won: the money held at the bank for buyers against our records
    bank_deposits = [dep for a in accounts for dep in a["deposits"]]
    held = sum(int(dep["tran_amt"]) for dep in bank_deposits if dep["state"] != "returned")
    unknown = [dep for dep in bank_deposits if dep["deposit_id"] not in ours]
    waiting = sum(int(r.amount) for r in ours.values() if r.status in ("received", "returning"))
    books = kinds.get("order_paid", 0) - kinds.get("order_refunded", 0)
    out.lost_won = abs(held - (books + waiting))
    if out.lost_won or unknown:
        out.notes.append(
            f"bank holds {held:,} won of buyers' deposits ({len(unknown)} we never recorded);"
            f" kept in the books {books:,}, queued for return {waiting:,}"
        )

    # -- invariants
    breaks = 0
    for oid, r in orders.items():
        if r.status in ("paid", "delivered") and matched[oid] != 1:
            breaks += 1
            out.notes.append(f"a {r.status} order holds {matched[oid]} kept deposits")
        if r.status == "delivered" and per_order.get(oid, 0) < r.quantity:
            breaks += 1
            out.notes.append("a delivered order holds fewer units than it bought")
    states = {dep["deposit_id"]: dep["state"] for dep in bank_deposits}
    for dep_id, r in ours.items():
        if r.status == "returned" and states.get(dep_id) != "returned":
            breaks += 1
            out.notes.append("a deposit we hold returned is still at the bank")
    owed: Counter[str] = Counter()
    for r in orders.values():
        if r.status == "paid":
            owed[f"liabilities:buyer:{r.customer_id}"] += int(r.amount)
    for acct in set(owed) | set(buyer_balances):
        if -buyer_balances.get(acct, 0) != owed.get(acct, 0):
            breaks += 1
            out.notes.append(
                f"a buyer's liability {-buyer_balances.get(acct, 0):,} won, paid orders"
                f" {owed.get(acct, 0):,}"
            )
    out.invariant_breaks = breaks
    out.unsettled = resale_unsettled(engine, sims, deps.clock.now())
    if out.unsettled:
        deposits = dict(Counter(r.status for r in ours.values()))
        out.notes.append(
            f"resale unsettled: orders by status {out.by_status}, deposits by status {deposits}"
        )
    return out


# -- the runs --------------------------------------------------------------------------------


def _settled(engine: Engine, sims: Simulators, now: datetime) -> bool:
    with SqlUnitOfWork(engine, read_only=True) as uow:
        if unsettled(uow.conn):
            return False
    return resale_unsettled(engine, sims, now) == 0


def run_resale(ctx: Context, plan: ResalePlan) -> tuple[Row, ResaleCheck, EndCheck]:
    """One run of either kind (``plan.crash``); answers the row and both end checks."""
    name = "resale-crash" if plan.crash else "resale-faults"
    rng = random.Random(ctx.seed)
    root = ctx.workdir
    root.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    secret = new_secret()
    notices = Notifications()
    sims = Simulators(
        root,
        bank_options={
            "notification_secret": secret,
            "notification_sender": notices,
            "notification_backoff_s": 0.1,
            "notification_poll_s": 0.05,
        },
    )
    courier = Courier(sims.bank_url)
    db = engine = None
    world: EndCheck | None = None
    check: ResaleCheck | None = None
    kept = None
    sigkills = exits = faults_total = 0
    bought = Shopping()
    try:
        db = provision(ctx.database_url, root)
        settings = settings_for(
            db,
            sims,
            root / "data",
            http_timeout_s=plan.http_timeout_s if not plan.crash else 5.0,
            bank_notification_secret=secret,
        )
        engine = make_engine_from_settings(settings)
        deps = build_deps(settings, engine=engine, fast_passwords=True)
        clock = Later()
        deps.clock = clock
        deps.limits = dataclasses.replace(
            deps.limits, lease_s=10, backoff_base_s=0.02, backoff_cap_s=0.5
        )
        notices.deps = deps
        vouchers = stock_units(deps, sims, plan)
        buyers = [verified_buyer(deps, sims, n) for n in range(plan.buyers)]
        stocker = Worker(deps, concurrency=8, per_issuer=4, batch=32)
        stocker.drain(timeout_s=60)
        stocker.close()
        for v in rng.sample(vouchers, plan.spent):
            sims.http.post(
                f"{sims.issuer_url}/sim/vouchers/use", json={"brand_id": BRAND, "code": v["code"]}
            ).raise_for_status()
        ctx.progress(f"{name}: {plan.units} units stocked, {plan.spent} spent elsewhere")
        if plan.crash:
            for kind in ("issuer", "bank"):
                sims.faults(
                    kind,
                    latency_ms=plan.latency_ms[0],
                    latency_jitter_ms=plan.latency_ms[1],
                    seed=rng.randrange(2**31),
                )
            sigkills, exits, bought = _crash_phase(
                ctx, plan, rng, deps, engine, sims, settings, buyers
            )
        else:
            bought = _fault_phase(ctx, plan, rng, deps, engine, sims, clock, buyers)
            counts = {k: sims.fault_counts(k) for k in ("issuer", "bank")}
            lost = sims.http.get(f"{sims.bank_url}/sim/faults/notifications").json()
            faults_total = sum(
                n for c in counts.values() for k, n in c.items() if k != "requests"
            ) + sum(int(n) for n in lost.get("counts", {}).values())
            ctx.progress(f"{name}: faults {counts}, notifications {lost.get('counts')}")
        sims.clear_faults()
        sims.http.delete(f"{sims.bank_url}/sim/faults/notifications")
        check = check_resale(engine, sims, deps)
        world = check_world(
            engine, db.url, sims, deps.vault, lease_s=plan.lease_s if plan.crash else None
        )
    finally:
        courier.close()
        if engine is not None:
            engine.dispose()
        sims.stop()
        if db is not None:
            clean = check is not None and world is not None and check.clean and world.clean
            kept = db.finish(keep=not clean)
    assert check is not None and world is not None
    row = Row(
        f"{name} ({ctx.backend})",
        items=world.items + check.orders,
        sigkills=sigkills,
        recovered=world.recovered,
        faults=faults_total,
        double_deliveries=check.double_deliveries,
        double_refunds=check.double_refunds,
        double_redemptions=world.double_redemptions,
        double_payouts=world.double_payouts,
        lost_won=world.lost_won + check.lost_won,
        invariant_breaks=world.invariant_breaks + check.invariant_breaks,
        unsettled=world.unsettled + check.unsettled,
        harness_errors=exits + world.check_errors,
        seconds=time.monotonic() - began,
        notes=[
            f"seed {ctx.seed}",
            f"{bought.placed} orders placed, {bought.out_of_stock} out of stock,"
            f" {bought.refused} refused, {bought.deposits} deposits;"
            f" orders by status {check.by_status}",
            *check.notes,
            *world.notes,
            *([kept] if kept else []),
        ],
    )
    return row, check, world


def _crash_phase(
    ctx: Context,
    plan: ResalePlan,
    rng: random.Random,
    deps: Deps,
    engine: Engine,
    sims: Simulators,
    settings: Any,
    buyers: list[Customer],
) -> tuple[int, int, Shopping]:
    """Buyers order and pay while worker processes are killed; then the workers run on
    unkilled until everything settles. Answers (SIGKILLs, self-exits, shopping)."""
    env = env_for(settings, GIFTCASH_LEASE_S=str(plan.lease_s))
    argv = [
        *(plan.worker_command or (giftcash_command(),)),
        "worker",
        "--lease-s",
        str(plan.lease_s),
        "--batch",
        "4",
        "--concurrency",
        "4",
        "--per-issuer",
        "2",
    ]
    logs = ctx.workdir / "logs"
    logs.mkdir(exist_ok=True)
    pool = WorkerPool(argv, env, logs)
    workers: list[WorkerProcess] = [pool.start() for _ in range(plan.workers)]
    result: dict[str, Shopping] = {}
    shopper = threading.Thread(
        target=lambda: result.setdefault("s", shop(deps, sims, plan, rng, buyers)),
        name="selftest-buyers",
    )
    shopper.start()
    kill_rng = random.Random(rng.randrange(2**31))
    kill_until = time.monotonic() + plan.kill_phase_s
    give_up = kill_until + plan.settle_s + 60
    try:
        while time.monotonic() < give_up:
            now = time.monotonic()
            killing = shopper.is_alive() or now < kill_until
            killing = killing and pool.record.sigkills < plan.max_kills
            for n, w in enumerate(workers):
                if w.proc.poll() is not None:
                    pool.record.exits.append(w.proc.returncode)
                    workers[n] = pool.start()
                    continue
                if killing and w.kill_at is None and w.is_ready():
                    w.kill_at = now + kill_rng.uniform(*plan.kill_after_s)
                if killing and w.kill_at is not None and now >= w.kill_at:
                    w.kill()
                    pool.record.sigkills += 1
                    workers[n] = pool.start()
            if not killing and not shopper.is_alive():
                if _settled(engine, sims, deps.clock.now()):
                    break
                time.sleep(0.2)
            time.sleep(0.02)
    finally:
        shopper.join(timeout=120)
        for w in workers:
            w.stop()
    ctx.progress(f"resale-crash: {pool.record.sigkills} SIGKILLs")
    return pool.record.sigkills, len(pool.record.exits), result.get("s", Shopping())


def _fault_phase(
    ctx: Context,
    plan: ResalePlan,
    rng: random.Random,
    deps: Deps,
    engine: Engine,
    sims: Simulators,
    clock: Later,
    buyers: list[Customer],
) -> Shopping:
    modes = ["status", "drop"]
    rng.shuffle(modes)
    for kind, mode in zip(("issuer", "bank"), modes, strict=True):
        sims.faults(
            kind,
            latency_ms=2,
            latency_jitter_ms=8,
            error_rate=plan.error_rate,
            timeout_rate=plan.timeout_rate,
            timeout_after_work_rate=plan.timeout_after_work_rate,
            lost_answer_rate=plan.lost_answer_rate,
            lost_answer_mode=mode,
            timeout_ms=plan.injected_timeout_ms,
            seed=rng.randrange(2**31),
        )
    sims.http.post(
        f"{sims.bank_url}/sim/faults/notifications",
        json={
            "lost_rate": plan.notification_lost_rate,
            "repeat_rate": plan.notification_repeat_rate,
            "out_of_order": True,
            "seed": rng.randrange(2**31),
        },
    ).raise_for_status()
    worker = Worker(deps, concurrency=8, per_issuer=4, batch=32)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), name="selftest-worker")
    thread.start()
    try:
        bought = shop(deps, sims, plan, rng, buyers)
        # what the notifications said is delivered (or refunded) under the faults; then
        # the deadline passes: the inquiry at expiry takes what the lost ones did not say
        _wait(lambda: _quiet(engine, sims), plan.settle_s / 2)
        clock.offset = timedelta(hours=2)
        _wait(lambda: _settled(engine, sims, clock.now()), plan.settle_s)
    finally:
        stop.set()
        thread.join(timeout=60)
        worker.close()
    return bought


def _quiet(engine: Engine, sims: Simulators) -> bool:
    notices = sims.http.get(f"{sims.bank_url}/sim/notifications").json()["notifications"]
    if any(x["status"] == "pending" for x in notices):
        return False
    with SqlUnitOfWork(engine, read_only=True) as uow:
        paid = uow.conn.execute(
            select(func.count()).select_from(t.orders).where(t.orders.c.status == "paid")
        ).scalar_one()
    return int(paid) == 0


def _wait(done: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if done():
            return True
        time.sleep(0.25)
    return False
