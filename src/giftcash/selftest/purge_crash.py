"""The purge killed with SIGKILL (issue 14, "Bad input and faults"): a database of old
customers (withdrawn two years ago, or gone quiet three years ago), recent ones and old
ones still owed money; the real ``giftcash privacy purge`` is killed at random moments
and started again until it finishes. Then the end state is checked: every old customer
pseudonymised, the accounts never paid to destroyed, nobody else touched, the books and
the audit chain verify, and one more purge changes nothing.

Seeded: the population and the kill delays come from the seed (the wall clock decides
which statement a kill interrupts)."""

from __future__ import annotations

import base64
import random
import secrets
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, insert, select

from giftcash.adapters.db import tables as t
from giftcash.adapters.db.app_uow import AppUnitOfWork
from giftcash.adapters.db.ledger_check import check as ledger_check
from giftcash.audit import log as audit
from giftcash.bootstrap import build_deps, make_engine_from_settings
from giftcash.config import Settings
from giftcash.domain import ledger as L
from giftcash.privacy import purge
from giftcash.selftest.checks import cli_ledger_check
from giftcash.selftest.registry import Context, Row
from giftcash.selftest.stack import clean_env, giftcash_command, provision
from giftcash.service.ports.privacy import Erased


@dataclass(frozen=True)
class PurgeCrashPlan:
    old: int = 600  # due: withdrawn 2 years ago or quiet for 3 years
    recent: int = 60  # not due
    owed: int = 20  # due by age, but money is owed to them: held
    batch: int = 3  # customers per transaction: many transactions to land a kill in
    max_kills: int = 12
    kill_after_s: tuple[float, float] = (0.8, 3.0)  # after start (the imports take ~1 s)
    runs_timeout_s: float = 300.0  # the run left to finish
    # The command that purges, for a test that plants a broken one (the harness can fail).
    purge_command: tuple[str, ...] | None = None


@dataclass
class Population:
    old: list[str] = field(default_factory=list)
    recent: list[str] = field(default_factory=list)
    owed: list[str] = field(default_factory=list)


def _customer(conn, rng: random.Random, n: int, created: datetime, status: str) -> str:
    cid = f"0190{n:08x}-0000-7000-8000-{rng.getrandbits(48):012x}"
    conn.execute(
        insert(t.customers).values(
            id=cid,
            phone=f"0105{n:07d}",
            name=f"고객{n}",
            birth_date=date(1980, 1, 1) + timedelta(days=n % 7000),
            password_hash="$argon2id$not-a-real-hash",  # noqa: S106 - no password matches
            status=status,
            phone_verified_at=created,
            created_at=created,
            last_active_at=created,
            withdrawn_at=created + timedelta(days=30) if status == "withdrawn" else None,
        )
    )
    for k, paid in ((1, True), (2, False)):
        conn.execute(
            insert(t.bank_accounts).values(
                id=f"{cid[:-2]}a{k}",
                customer_id=cid,
                bank_code="004",
                account_number_enc=b"sealed",
                account_key_id="k1",
                account_number_hmac=f"{n:060d}{k:04d}",
                account_number_masked=f"******{n % 10_000:04d}",
                holder_name=f"고객{n}",
                status="verified" if paid else "failed",
                created_at=created,
            )
        )
    conn.execute(
        insert(t.customer_consents).values(
            id=f"{cid[:-2]}c1",
            customer_id=cid,
            document="terms",
            version="2026-01",
            agreed=True,
            at=created,
        )
    )
    return cid


def populate(engine: Engine, rng: random.Random, plan: PurgeCrashPlan) -> Population:
    now = datetime.now(UTC)
    pop = Population()
    transfers: list[L.Transfer] = []
    with engine.begin() as conn:
        for n in range(plan.old + plan.recent + plan.owed):
            if n < plan.old:
                withdrawn = n % 2 == 0
                created = now - timedelta(days=(2 * 365 + 60) if withdrawn else 3 * 365)
                cid = _customer(conn, rng, n, created, "withdrawn" if withdrawn else "active")
                pop.old.append(cid)
            elif n < plan.old + plan.recent:
                created = now - timedelta(days=rng.randrange(1, 200))
                pop.recent.append(_customer(conn, rng, n, created, "active"))
                continue
            else:
                created = now - timedelta(days=3 * 365)
                pop.owed.append(cid := _customer(conn, rng, n, created, "active"))
            payout = 9_000
            transfers.append(
                L.redemption(
                    f"r-{n}",
                    issuer="cultureland",
                    customer_id=cid,
                    face=10_000,
                    payout=payout,
                    currency="KRW",
                    ref=f"item-{n}",
                )
            )
            if n < plan.old:  # paid out in full: nothing owed
                conn.execute(
                    insert(t.payouts).values(
                        id=f"{cid[:-2]}p1",
                        customer_id=cid,
                        bank_account_id=f"{cid[:-2]}a1",
                        currency="KRW",
                        amount=payout,
                        status="confirmed",
                        created_at=created,
                    )
                )
                transfers += [
                    L.payout_sent(
                        f"ps-{n}", customer_id=cid, amount=payout, currency="KRW", ref=f"po-{n}"
                    ),
                    L.payout_confirmed(f"pc-{n}", amount=payout, currency="KRW", ref=f"po-{n}"),
                ]
    with AppUnitOfWork(engine) as uow:
        uow.ledger.post_many(transfers)
        # operators' reasons that name people: the purge redacts the old customers' ones
        for cid in pop.old[::10] + pop.recent[:5]:
            audit.record(
                uow, "operator:adm", "customer.block", f"customer:{cid}", {"reason": "본인 확인"}
            )
        uow.commit()
    return pop


def _run_purge(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603


def _kill_until_done(
    plan: PurgeCrashPlan,
    rng: random.Random,
    argv: list[str],
    env: dict[str, str],
    log: Path,
    done_so_far: Callable[[], int],
    total: int,
) -> tuple[int, int, int]:
    """(SIGKILLs, kills that left a purge half done, exit status of the run that was
    left to finish)."""
    kills = midway = 0
    for _ in range(plan.max_kills):
        if done_so_far() >= total:
            break  # nothing left for a kill to interrupt
        proc = _run_purge(argv, env, log)
        try:
            proc.wait(timeout=rng.uniform(*plan.kill_after_s))
        except subprocess.TimeoutExpired:
            proc.kill()  # SIGKILL
            proc.wait(timeout=30)
            kills += 1
            midway += 0 < done_so_far() < total
            continue
        break  # it finished before its kill
    proc = _run_purge(argv, env, log)
    return kills, midway, proc.wait(timeout=plan.runs_timeout_s)


def _count(engine: Engine, table, *where) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def run_purge_crash(ctx: Context, plan: PurgeCrashPlan = PurgeCrashPlan()) -> Row:
    rng = random.Random(ctx.seed)
    root = ctx.workdir
    root.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    db = provision(ctx.database_url, root)
    secret = base64.b64encode(secrets.token_bytes(32)).decode()
    settings = Settings(data_dir=root / "data", database_url=db.url, secret_key=secret)
    engine = make_engine_from_settings(settings)
    clean = False
    row = Row(f"purge-crash ({ctx.backend})")
    try:
        pop = populate(engine, rng, plan)
        ctx.progress(f"purge-crash: {len(pop.old)} old, {len(pop.recent)} recent customers")
        env = {
            **clean_env(),
            "GIFTCASH_DATA_DIR": str(settings.data_dir),
            "GIFTCASH_DATABASE_URL": db.url,
            "GIFTCASH_SECRET_KEY": secret,
        }
        argv = [
            *(plan.purge_command or (giftcash_command(), "privacy", "purge")),
            "--batch",
            str(plan.batch),
        ]
        c, a = t.customers.c, t.bank_accounts.c

        def pseudonymised() -> int:
            return _count(engine, t.customers, c.status == "pseudonymised")

        kills, midway, status = _kill_until_done(
            plan, rng, argv, env, root / "purge.log", pseudonymised, len(pop.old)
        )
        row.sigkills = kills
        row.recovered = midway  # kills that left a purge half done for a later run
        row.harness_errors += int(status != 0)
        row.items = len(pop.old) + len(pop.recent) + len(pop.owed)
        row.unsettled = len(pop.old) - _count(
            engine, t.customers, c.id.in_(pop.old), c.status == "pseudonymised", c.name == ""
        )
        untouched = pop.recent + pop.owed
        row.invariant_breaks += len(untouched) - _count(
            engine, t.customers, c.id.in_(untouched), c.name != ""
        )
        unpaid_left = _count(
            engine, t.bank_accounts, a.customer_id.in_(pop.old), a.destroyed_at.is_(None)
        )
        row.invariant_breaks += abs(unpaid_left - len(pop.old))  # the paid-to ones stay
        au = t.audit_log.c
        old_subjects = [f"customer:{cid}" for cid in pop.old]
        row.invariant_breaks += _count(  # the old customers' records keep no detail
            engine, t.audit_log, au.subject.in_(old_subjects), au.redacted_at.is_(None)
        )
        recent_subjects = [f"customer:{cid}" for cid in pop.recent]
        row.invariant_breaks += _count(
            engine, t.audit_log, au.subject.in_(recent_subjects), au.redacted_at.is_not(None)
        )
        with engine.connect() as conn:
            row.invariant_breaks += len(ledger_check(conn))
        with AppUnitOfWork(engine, read_only=True) as uow:
            row.invariant_breaks += len(audit.verify(uow))
        exit_status, said = cli_ledger_check(db.url, {"GIFTCASH_SECRET_KEY": secret})
        row.invariant_breaks += int(exit_status != 0)
        verified = subprocess.run(  # noqa: S603 - our own console script, no shell
            [giftcash_command(), "audit", "verify", "--database-url", db.url],
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
        )
        row.invariant_breaks += int(verified.returncode != 0)
        again = purge.purge(build_deps(settings, engine=engine, fast_passwords=True))
        if again.erased != Erased():
            row.invariant_breaks += 1
            row.notes.append(f"a purge after the end changed {again.erased.counts()}")
        row.notes += [f"seed {ctx.seed}", *([said] if said else [])]
        clean = row.bad == 0
    except Exception as e:  # the scenario could not run to its end: reported, not raised
        row.harness_errors += 1
        row.notes.append(f"{type(e).__name__}: {e}")
    finally:
        engine.dispose()
        kept = db.finish(keep=not clean)
        if kept:
            row.notes.append(kept)
    row.seconds = time.monotonic() - began
    return row
