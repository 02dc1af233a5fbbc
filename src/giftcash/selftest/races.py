"""Races, on SQLite and on PostgreSQL (a real engine pool), over the simulators:

1. one code, 50 customers, 50 threads released at once into intake: exactly one item is
   accepted, 49 are declined ``duplicate_code``, the registry holds one row, and the
   issuer captures the code once;
2. concurrent replays of one ``Idempotency-Key`` (same body) against the API served by
   uvicorn: one submission, one bank account with one 1-won deposit, and every answer the
   same status and the same bytes;
3. several ``Worker`` threads creating and sending payouts for one customer while more
   of their vouchers arrive and the bank hangs, loses answers and times out (leases
   shorter than a hung call, so a second worker takes a payout over mid-call): never more
   paid than owed (the bank's total to the customer equals the payouts of their paid
   items; a customer's liability never becomes a debit at any point of the ledger).

Then the end checks of ``checks.run_checks`` from both sides. Each figure is a count that
must be zero."""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, func, select

from giftcash.adapters.db import tables as t
from giftcash.domain import ledger
from giftcash.selftest.checks import EndCheck, check_world, unsettled_now
from giftcash.selftest.registry import Context, Row
from giftcash.selftest.stack import (
    BANK_CODE,
    PASSWORD,
    Customer,
    Database,
    Simulators,
    buy,
    buy_all,
    customer_vouchers,
    make_customer,
    provision,
    settings_for,
)


@dataclass(frozen=True)
class RacePlan:
    submitters: int = 50
    replays: int = 20
    payout_workers: int = 4
    payout_items: int = 12
    payout_waves: int = 4
    lease_s: float = 0.5  # shorter than a hung bank call: leases run out mid-call
    http_timeout_s: float = 0.6
    settle_s: float = 90.0


@dataclass
class RaceReport:
    submitters: int = 0
    accepted: int = 0  # of the one code's submissions
    duplicates: int = 0
    registry_rows: int = 0
    thread_errors: list[str] = field(default_factory=list)  # would have been 500s
    replay_statuses: Counter[int] = field(default_factory=Counter)
    replay_bodies: int = 0  # distinct answer bodies per replayed key, summed
    replay_submissions: int = 0
    replay_accounts: int = 0
    replay_deposits: int = 0
    paid_to_customer: int = 0  # won the bank moved to the payout customer
    owed_paid_items: int = 0  # their paid items' payouts
    liability_debits: int = 0  # moments a customer liability was a debit
    check: EndCheck = field(default_factory=EndCheck)
    items: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def replay_effects_extra(self) -> int:
        return (
            max(self.replay_submissions - 1, 0)
            + max(self.replay_accounts - 1, 0)
            + max(self.replay_deposits - 1, 0)
        )


def _all_at_once(n: int, work: Callable[[int], Any]) -> tuple[list[Any], list[str]]:
    """Run ``work(i)`` in ``n`` threads released together; answers and exceptions."""
    barrier = threading.Barrier(n)
    out: list[Any] = [None] * n
    errors: list[str] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            out[i] = work(i)
        except Exception as e:  # a thread's exception is the finding, not a crash
            errors.append(f"{type(e).__name__}: {str(e)[:200]}")

    threads = [threading.Thread(target=run, args=(i,), name=f"race-{i}") for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    return out, errors


def _spellings(code: str) -> list[str]:
    """One code as customers type it: plain, grouped with dashes or spaces, padded."""
    groups = [code[i : i + 4] for i in range(0, len(code), 4)]
    return [code, "-".join(groups), " ".join(groups), f"  {code} ", "".join(groups)]


# -- 1. one code, many sellers --------------------------------------------------------------


def race_one_code(deps: Any, sims: Simulators, people: list[Customer], out: RaceReport) -> str:
    from giftcash.intake import submissions

    voucher = buy(sims, "cultureland", 10_000, 1)[0]
    spellings = _spellings(voucher["code"])

    def submit(i: int) -> Any:
        c = people[i]
        view = submissions.submit(
            deps,
            c.id,
            bank_account_id=c.account_id,
            items=[
                submissions.ItemIn(
                    "cultureland", spellings[i % len(spellings)], 10_000, "cash", voucher["pin"]
                )
            ],
            device_key=f"198.51.100.{i}",
        )
        return view.items[0]

    out.submitters = len(people)
    items, errors = _all_at_once(len(people), submit)
    out.thread_errors += errors
    done = [it for it in items if it is not None]
    out.accepted = sum(it.status != "declined" for it in done)
    out.duplicates = sum(it.decline_code == "duplicate_code" for it in done)
    others = Counter(it.decline_code for it in done if it.status == "declined")
    others.pop("duplicate_code", None)
    if others:
        out.notes.append(f"one code: other declines {dict(others)}")
    code_hmac = deps.vault.hmac(voucher["code"])
    with deps.uow() as uow:
        out.registry_rows = int(
            uow.conn.execute(
                select(func.count())
                .select_from(t.code_registry)
                .where(t.code_registry.c.code_hmac == code_hmac)
            ).scalar_one()
        )
    out.notes.append(
        f"one code x {len(people)}: {out.accepted} accepted, {out.duplicates} duplicate_code,"
        f" {out.registry_rows} registry row, {len(errors)} errors"
    )
    return voucher["code"]


# -- 2. replays of one Idempotency-Key ------------------------------------------------------


def race_replays(
    deps: Any, sims: Simulators, c: Customer, phone: str, n: int, out: RaceReport
) -> None:
    from giftcash.entrypoints.api.app import create_app
    from giftcash.entrypoints.servers import ServerThread, free_port
    from giftcash.identity import customers

    token = customers.issue_token(deps, phone=phone, password=PASSWORD)
    headers = {"Authorization": f"Bearer {token}"}
    voucher = buy(sims, "cultureland", 5_000, 1)[0]
    number = "99" + c.account_number[2:]
    sims.http.post(
        f"{sims.bank_url}/sim/accounts",
        json={
            "bank_code": BANK_CODE,
            "account_number": number,
            "holder_name": c.name,
            "birth_date": "1988-04-12",
        },
    ).raise_for_status()
    posts = {
        "/v1/submissions": {
            "bank_account_id": c.account_id,
            "items": [
                {
                    "brand_id": "cultureland",
                    "code": voucher["code"],
                    "pin": voucher["pin"],
                    "face_value": 5_000,
                    "funding_source": "cash",
                }
            ],
        },
        "/v1/bank-accounts": {
            "bank_code": BANK_CODE,
            "account_number": number,
            "holder_name": c.name,
        },
    }
    server = ServerThread(create_app(deps), "127.0.0.1", free_port(), "race-api").start()
    try:
        for path, body in posts.items():
            key = f"replay-{path.rsplit('/', 1)[-1]}"
            with httpx.Client(base_url=server.url, timeout=60) as http:

                def post(_: int, path: str = path, body: dict = body, key: str = key) -> Any:
                    r = http.post(path, json=body, headers={**headers, "Idempotency-Key": key})
                    return r.status_code, r.content

                answers, errors = _all_at_once(n, post)
            out.thread_errors += errors
            got = [a for a in answers if a is not None]
            out.replay_statuses.update(s for s, _ in got)
            out.replay_bodies += len({body for _, body in got})
            out.notes.append(
                f"{n} replays of {path}: statuses {dict(Counter(s for s, _ in got))},"
                f" {len({b for _, b in got})} distinct bodies"
            )
    finally:
        server.stop()
    with deps.uow() as uow:
        conn = uow.conn
        out.replay_submissions = int(
            conn.execute(
                select(func.count())
                .select_from(t.items)
                .where(t.items.c.code_hmac == deps.vault.hmac(voucher["code"]))
            ).scalar_one()
        )
        out.replay_accounts = int(
            conn.execute(
                select(func.count())
                .select_from(t.bank_accounts)
                .where(
                    t.bank_accounts.c.account_number_hmac
                    == deps.vault.hmac(f"account:{BANK_CODE}:{number}")
                )
            ).scalar_one()
        )
    moves = sims.http.get(f"{sims.bank_url}/sim/accounts/{BANK_CODE}/{number}/transactions").json()[
        "transactions"
    ]
    out.replay_deposits = sum(1 for m in moves if str(m.get("memo", "")).startswith("GC"))


# -- 3. workers paying one customer ---------------------------------------------------------


def race_payouts(
    deps: Any,
    sims: Simulators,
    engine: Engine,
    c: Customer,
    plan: RacePlan,
    rng: random.Random,
    out: RaceReport,
) -> None:
    from giftcash.entrypoints.worker import Worker
    from giftcash.selftest.stack import submit

    vouchers = buy_all(sims, customer_vouchers(rng, plan.payout_items))
    waves = [vouchers[i :: plan.payout_waves] for i in range(plan.payout_waves)]
    sims.faults(
        "bank",
        latency_ms=5,
        latency_jitter_ms=25,
        error_rate=0.05,
        timeout_rate=0.1,
        timeout_after_work_rate=0.15,
        lost_answer_rate=0.15,
        lost_answer_mode="status",
        timeout_ms=int(plan.http_timeout_s * 1000) + 500,
        seed=rng.randrange(2**31),
    )
    workers = [
        Worker(
            deps,
            worker_id=f"race-worker-{i}",
            concurrency=4,
            per_issuer=4,
            batch=8,
            idle_sleep_s=0.02,
        )
        for i in range(plan.payout_workers)
    ]
    stop = threading.Event()
    threads = [
        threading.Thread(target=w.run, args=(stop,), name=w.worker_id, daemon=True) for w in workers
    ]
    for th in threads:
        th.start()
    try:
        for wave in waves:
            out.items += submit(deps, c, wave)
            time.sleep(rng.uniform(0.1, 0.4))
        deadline = time.monotonic() + plan.settle_s
        while time.monotonic() < deadline and unsettled_now(engine):
            time.sleep(0.2)
    finally:
        stop.set()
        for th in threads:
            th.join(timeout=60)
        for w in workers:
            w.close()
        counts = sims.fault_counts("bank")
        sims.clear_faults()
    out.notes.append(
        f"payouts: {plan.payout_workers} workers, {plan.payout_items} items in"
        f" {plan.payout_waves} waves; bank faults {counts}"
    )
    transfers = sims.http.get(f"{sims.bank_url}/sim/transfers").json()["transfers"]
    out.paid_to_customer = sum(
        int(x["amount"])
        for x in transfers
        if x["account_num"] == c.account_number
        and x["status"] in ("done", "pending")
        and int(x["amount"]) > 1
    )
    p = t.payouts.c
    with deps.uow() as uow:
        out.owed_paid_items = int(
            uow.conn.execute(
                select(func.coalesce(func.sum(t.items.c.payout), 0)).where(
                    t.items.c.customer_id == c.id, t.items.c.status == "paid"
                )
            ).scalar_one()
        )
        payouts = uow.conn.execute(select(p.status, p.attempts).where(p.customer_id == c.id)).all()
    out.notes.append(
        f"{len(payouts)} payouts {dict(Counter(s for s, _ in payouts))},"
        f" {sum(a for _, a in payouts)} claims of them"
    )
    out.notes.append(
        f"bank paid the customer {out.paid_to_customer:,} won; their paid items'"
        f" payouts {out.owed_paid_items:,} won"
    )


def liability_debits(engine: Engine) -> int:
    """Moments in the ledger's history (after each transfer, in chain order) at which a
    customer liability was a debit: more paid out than was owed."""
    lp, lt = t.ledger_postings.c, t.ledger_transfers.c
    running: Counter[str] = Counter()
    bad = 0
    with engine.connect() as conn:
        rows = conn.execute(
            select(lt.seq, lp.account, lp.amount)
            .join(t.ledger_transfers, lt.id == lp.transfer_id)
            .where(lp.account.like(ledger.CUSTOMER_PREFIX + "%"))
            .order_by(lt.seq)
        )
        last_seq = None
        touched: set[str] = set()
        for seq, account, amount in rows:
            if seq != last_seq:
                bad += sum(running[a] > 0 for a in touched)
                touched, last_seq = set(), seq
            running[account] += int(amount)
            touched.add(account)
        bad += sum(running[a] > 0 for a in touched)
    return bad


# -- the scenario -------------------------------------------------------------------------


@dataclass
class Stack:
    sims: Simulators
    db: Database
    engine: Engine
    deps: Any


@contextmanager
def race_stack(ctx: Context, plan: RacePlan) -> Iterator[Stack]:
    """Simulators, a fresh database and the service's deps (short leases and backoff)."""
    from giftcash.bootstrap import build_deps, make_engine_from_settings

    root = Path(ctx.workdir)
    root.mkdir(parents=True, exist_ok=True)
    sims = Simulators(root)
    db = None
    try:
        db = provision(ctx.database_url, root)
        settings = settings_for(db, sims, root / "data", http_timeout_s=plan.http_timeout_s)
        engine = make_engine_from_settings(settings)
        deps = build_deps(settings, engine=engine, fast_passwords=True)
        deps.limits = dataclasses.replace(
            deps.limits, lease_s=plan.lease_s, backoff_base_s=0.02, backoff_cap_s=0.5
        )
        try:
            yield Stack(sims, db, engine, deps)
        finally:
            engine.dispose()
    finally:
        sims.stop()
        if db is not None:
            db.drop()


def run_races(ctx: Context, plan: RacePlan = RacePlan()) -> tuple[Row, RaceReport]:
    rng = random.Random(ctx.seed)
    began = time.monotonic()
    out = RaceReport()
    with race_stack(ctx, plan) as st:
        deps, sims = st.deps, st.sims
        people = [make_customer(deps, sims, n + 1) for n in range(plan.submitters)]
        ctx.progress(f"races: {plan.submitters} customers, one code")
        race_one_code(deps, sims, people, out)
        out.items += plan.submitters
        ctx.progress(f"races: {plan.replays} replays of one Idempotency-Key")
        race_replays(deps, sims, people[1], phone_of(2), plan.replays, out)
        out.items += 1
        ctx.progress(f"races: {plan.payout_workers} workers paying one customer")
        payee = make_customer(deps, sims, plan.submitters + 1)
        race_payouts(deps, sims, st.engine, payee, plan, rng, out)
        out.liability_debits = liability_debits(st.engine)
        out.check = end_checks(st)
    return _row(ctx, out, time.monotonic() - began), out


def phone_of(n: int) -> str:
    """The phone ``stack.make_customer(deps, sims, n)`` signs up with."""
    return f"0109{n:07d}"


def end_checks(st: Stack) -> EndCheck:
    return check_world(st.engine, st.db.url, st.sims, st.deps.vault)


def _row(ctx: Context, out: RaceReport, seconds: float) -> Row:
    check = out.check
    one_code_extra = max(out.accepted - 1, 0)
    breaks = (
        (out.accepted != 1)
        + (out.duplicates != out.submitters - 1)
        + (out.registry_rows != 1)
        + out.liability_debits
        + max(out.replay_bodies - 2, 0)  # one body per replayed key
        + sum(n for s, n in out.replay_statuses.items() if s not in (200, 201) and s < 500)
        + (out.paid_to_customer != out.owed_paid_items)
    )
    return Row(
        f"races ({ctx.backend})",
        items=out.items,
        double_redemptions=check.double_redemptions + one_code_extra,
        double_payouts=check.double_payouts + out.replay_effects_extra,
        lost_won=check.lost_won,
        invariant_breaks=check.invariant_breaks + breaks,
        unsettled=check.unsettled,
        server_errors=len(out.thread_errors)
        + sum(n for s, n in out.replay_statuses.items() if s >= 500),
        seconds=seconds,
        notes=[f"seed {ctx.seed}", *out.notes, *out.thread_errors[:5], *check.notes],
    )
