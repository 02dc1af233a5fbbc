"""Identity faults (issue 14): the identity provider fails a share of its calls in every
way it can (503 before work, hangs past the client's timeout before or after the work,
answers lost after the work), and answers twice: a start asked again with its key opens
a second request on the phone, and each person's sign-up is completed by two requests at
once. Every person also signs up again with a second phone of theirs.

The end checks read both sides: the simulator's records (which transactions were
confirmed, for whom, how often their verified result was answered) and our database.
A run is clean when every person has at most one customer (invariant_breaks counts any
second one, customers without an identity or with one the provider never verified, and
any stored value holding a CI or DI in clear),
and every person whose confirmation the provider answered ended in exactly one customer
(unsettled counts those left with none). The adapters' timeout (0.4 s) is shorter than
the injected hang (1.5 s), so every hang is an ambiguous answer."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
from sqlalchemy import select

from giftcash.adapters.db import tables as t
from giftcash.bootstrap import build_deps, make_engine_from_settings
from giftcash.config import Settings
from giftcash.domain.errors import DomainError
from giftcash.entrypoints.servers import ServerThread, free_port
from giftcash.identity import customers
from giftcash.selftest.registry import Context, Row
from giftcash.selftest.stack import NAMES, PASSWORD, provision
from giftcash.service import errors
from giftcash.service.bound_limits import Bounds
from giftcash.simulators.identity import create_identity_app


@dataclass(frozen=True)
class IdentityPlan:
    people: int = 8
    error_rate: float = 0.08
    timeout_rate: float = 0.04
    timeout_after_work_rate: float = 0.05
    lost_answer_rate: float = 0.08
    injected_timeout_ms: int = 1500
    http_timeout_s: float = 0.4
    tries: int = 40  # a person presses "continue" (or signs up again) at most this often


@dataclass
class Outcomes:
    made: int = 0
    refused: int = 0
    gave_up: int = 0
    harness_errors: int = 0
    notes: list[str] | None = None


def _phones(n: int) -> tuple[str, str]:
    return f"0107{n:07d}", f"0108{n:07d}"


def run_identity(ctx: Context, plan: IdentityPlan = IdentityPlan()) -> tuple[Row, dict[str, int]]:
    rng = random.Random(ctx.seed)
    root = ctx.workdir
    root.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    sim = ServerThread(
        create_identity_app(root / "sim-identity"), "127.0.0.1", free_port(), "identity-sim"
    ).start()
    http = httpx.Client(base_url=sim.url, timeout=30)
    db = engine = None
    figures: dict[str, int] = {}
    out = Outcomes(notes=[])
    kept = None
    injected: dict[str, int] = {}
    try:
        db = provision(ctx.database_url, root)
        settings = Settings(
            data_dir=root / "data",
            database_url=db.url,
            identity_url=sim.url,
            http_timeout_s=plan.http_timeout_s,
            # a person retrying through the faults must not meet the abuse bounds
            bounds=Bounds(identity_per_phone=10_000, identity_per_address=10_000),
        )
        engine = make_engine_from_settings(settings)
        deps = build_deps(settings, engine=engine, fast_passwords=True)
        people = []
        for n in range(plan.people):
            a, b = _phones(n)
            made = http.post(
                "/sim/people",
                json={
                    "name": NAMES[n % len(NAMES)],
                    "birth_date": "1988-04-12",
                    "sex": "MF"[n % 2],
                    "phone": a,
                },
            ).json()
            http.post(f"/sim/people/{made['person_id']}/phones", json={"phone": b})
            people.append((made["ci"], a, b))
        http.post("/sim/settings", json={"answer_twice": True})
        http.post(
            "/sim/faults",
            json={
                "error_rate": plan.error_rate,
                "timeout_rate": plan.timeout_rate,
                "timeout_after_work_rate": plan.timeout_after_work_rate,
                "lost_answer_rate": plan.lost_answer_rate,
                "timeout_ms": plan.injected_timeout_ms,
                "seed": rng.randrange(2**31),
            },
        )
        lock = threading.Lock()

        def person(ci: str, a: str, b: str) -> None:
            for phone in (a, b):  # the second phone: the same person again
                _sign_up(deps, http, phone, plan.tries)
            threads = [
                threading.Thread(target=complete, args=(phone,)) for phone in (a, a, b)
            ]  # two requests at once for the first phone: its answer comes twice
            for th in threads:
                th.start()
            for th in threads:
                th.join()

        def complete(phone: str) -> None:
            try:
                outcome = _complete(deps, http, phone, plan.tries)
            except Exception as e:  # a crash of the sign-up itself is a finding, not noise
                outcome = "harness_errors"
                with lock:
                    assert out.notes is not None
                    out.notes.append(f"completing {phone[-4:]}: {type(e).__name__}")
            with lock:
                setattr(out, outcome, getattr(out, outcome) + 1)

        workers = [threading.Thread(target=person, args=p) for p in people]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        injected = http.get("/sim/faults").json()["counts"]
        http.delete("/sim/faults")
        figures = _check(engine, http, deps.vault.hmac, [ci for ci, _, _ in people])
        figures["in_clear"] = _in_clear(engine, _identifiers(http))
        ctx.progress(f"identity: {out.made} made, {out.refused} refused, {out.gave_up} gave up")
    except Exception as e:  # the harness itself broke: say so rather than pass
        out.harness_errors += 1
        assert out.notes is not None
        out.notes.append(f"harness error: {type(e).__name__}: {e}")
    finally:
        http.close()
        if engine is not None:
            engine.dispose()
        sim.stop()
        if db is not None:
            bad = out.harness_errors or figures.get("duplicates") or figures.get("unsettled")
            kept = db.finish(keep=bool(bad))
    faults = sum(n for k, n in injected.items() if k != "requests")
    row = Row(
        f"identity ({ctx.backend})",
        items=plan.people,
        faults=faults,
        invariant_breaks=figures.get("duplicates", 0)
        + figures.get("without_identity", 0)
        + figures.get("unknown_ci", 0)
        + figures.get("in_clear", 0),
        unsettled=figures.get("unsettled", 0) + out.gave_up,
        harness_errors=out.harness_errors + (0 if figures else 1),
        seconds=time.monotonic() - began,
        notes=[
            f"seed {ctx.seed}",
            *([kept] if kept else []),
            f"{faults} faults in {injected.get('requests', 0)} identity calls",
            f"completions: {out.made} verified (a repeated answer: the same customer), "
            f"{out.refused} refused (the same person again), "
            f"{out.gave_up} gave up",
            f"from both sides: {figures}",
            *(out.notes or []),
        ],
    )
    return row, figures


def _sign_up(deps: Any, http: httpx.Client, phone: str, tries: int) -> None:
    for _ in range(tries):
        try:
            customers.signup(
                deps, phone=phone, name="아무개", birth_date=date(2000, 1, 1), password=PASSWORD
            )
            return
        except errors.ServiceUnavailable:
            time.sleep(0.02)  # nothing was sent: the person presses again


def _confirm_all(http: httpx.Client, phone: str) -> None:
    """The person taps every request their phone shows (two, when the provider answered
    a start twice)."""
    for c in http.get("/sim/challenges", params={"phone": phone}).json()["challenges"]:
        http.post(f"/sim/challenges/{c['transaction_id']}/confirm")


def _complete(deps: Any, http: httpx.Client, phone: str, tries: int) -> str:
    for _ in range(tries):
        _confirm_all(http, phone)
        try:
            customers.complete_identity(deps, phone=phone)
            return "made"
        except (errors.IdentityAlreadyRegistered, errors.PhoneTaken):
            return "refused"
        except (errors.ServiceUnavailable, errors.IdentityPending):
            time.sleep(0.02)  # kept: the person presses "continue" again
        except errors.IdentityFailed:
            _sign_up(deps, http, phone, tries)  # expired or used: sign up again
        except DomainError:
            time.sleep(0.02)
    return "gave_up"


def _check(engine: Any, http: httpx.Client, hmac: Any, cis: list[str]) -> dict[str, int]:
    """Counts that must be zero, from the simulator's records and our tables."""
    verifications = http.get("/sim/verifications").json()["verifications"]
    answered = {v["ci"] for v in verifications if v["status"] == "confirmed" and v["answers"]}
    with engine.connect() as conn:
        identities = conn.execute(
            select(t.customer_identities.c.customer_id, t.customer_identities.c.ci_hmac)
        ).all()
        customer_ids = set(conn.execute(select(t.customers.c.id)).scalars())
        started = conn.execute(
            select(t.identity_checks.c.id).where(t.identity_checks.c.status == "started")
        ).all()
    per_ci = Counter(h for _, h in identities)
    known = {hmac(f"ci:{ci}"): ci for ci in cis}
    with_identity = {cid for cid, _ in identities}
    return {
        "duplicates": sum(n - 1 for n in per_ci.values() if n > 1),
        "without_identity": len(customer_ids - with_identity),
        "unknown_ci": sum(1 for h in per_ci if h not in known),
        # a person whose confirmation the provider answered has their one customer
        "unsettled": sum(1 for ci in answered if per_ci.get(hmac(f"ci:{ci}"), 0) != 1),
        "customers": len(customer_ids),
        "checks_left_started": len(started),
        "confirmed_answered": len(answered),
    }


def _identifiers(http: httpx.Client) -> set[str]:
    """Every person's CI and DI as the simulator knows them."""
    from giftcash.simulators.identity import di_for

    people = http.get("/sim/people").json()["people"]
    return {p["ci"] for p in people} | {di_for(p["ci"], "giftcash") for p in people}


def _in_clear(engine: Any, secrets: set[str]) -> int:
    """Stored values of any table that hold a CI or a DI as it is (each must be only a
    keyed hash or sealed)."""
    found = 0
    with engine.connect() as conn:
        for table in t.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                for value in row:
                    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                    found += sum(1 for s in secrets if s in text)
    return found
