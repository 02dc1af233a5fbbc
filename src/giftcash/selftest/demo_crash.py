"""``giftcash demo`` killed with SIGKILL in the middle of a batch and started again on the
same ``--data-dir``, several times; the last start must finish every batch, and the end
checks run against the demo's own database and simulators. Everything the harness does
goes through the demo's HTTP API (the simulators' ``/sim`` routes aside), and every
answer of our API with a status of 500 or more is counted."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from giftcash.adapters.db.engine import make_engine
from giftcash.bootstrap import make_vault_from_settings
from giftcash.config import Settings
from giftcash.entrypoints.servers import free_port
from giftcash.selftest.checks import EndCheck, run_checks, unsettled_now
from giftcash.selftest.registry import Context, Row
from giftcash.selftest.stack import (
    BANK_CODE,
    BIRTH,
    ITEMS_PER_CUSTOMER,
    NAMES,
    PASSWORD,
    clean_env,
    customer_vouchers,
    giftcash_command,
)
from giftcash.simulators.identity import add_person, confirm_on_phone


@dataclass(frozen=True)
class DemoPlan:
    cycles: int = 3  # starts that are killed in the middle of their batch
    customers_per_cycle: int = 2  # new customers, each selling ITEMS_PER_CUSTOMER vouchers
    kill_after_s: tuple[float, float] = (0.05, 0.5)  # after the batch is submitted
    latency_ms: tuple[int, int] = (40, 120)
    lease_s: int = 2
    start_s: float = 90.0
    settle_s: float = 60.0


class Api:
    """An HTTP client that counts our API's answers with a status of 500 or more."""

    def __init__(self) -> None:
        self.http = httpx.Client(timeout=30)
        self.server_errors = 0

    def call(self, method: str, url: str, **kw: Any) -> httpx.Response:
        r = self.http.request(method, url, **kw)
        if r.status_code >= 500:
            self.server_errors += 1
        return r

    def close(self) -> None:
        self.http.close()


@dataclass
class RunningDemo:
    proc: subprocess.Popen[bytes]
    info: dict[str, Any]

    def sigkill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.sigkill()


def start_demo(data_dir: Path, env: dict[str, str], log: Path, timeout_s: float) -> RunningDemo:
    port = free_port()
    with open(log, "ab") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own command line, no shell
            [giftcash_command(), "demo", "--port", str(port), "--data-dir", str(data_dir)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    api_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    info_path = data_dir / "demo.json"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"giftcash demo exited with {proc.returncode}; see {log}")
        try:
            # demo.json is written after the API is up; this start's file names its port
            info = json.loads(info_path.read_text())
            if info.get("api_url") == api_url:
                return RunningDemo(proc, info)
        except (FileNotFoundError, json.JSONDecodeError):
            pass
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    raise TimeoutError(f"giftcash demo did not start in {timeout_s}s; see {log}")


def _sign_up(api: Api, info: dict[str, Any], n: int) -> tuple[dict[str, str], str]:
    """A new customer through the API: sign-up, the identity confirmed on the phone (or
    the SMS code where the demo has no identity provider), token, bank account opened at
    the bank simulator, added, and verified with the 1-won deposit's memo."""
    base, phone, name = info["api_url"], f"0108{n:07d}", NAMES[n % len(NAMES)]
    number = f"42{n:011d}"
    identity_url = info.get("identity_url")
    if identity_url:  # the person the identity simulator will vouch for
        add_person(identity_url, phone, name, BIRTH, sex="M")
    r = api.call(
        "POST",
        base + "/v1/signup",
        headers={"Idempotency-Key": f"signup-{phone}"},
        json={"phone": phone, "name": name, "birth_date": BIRTH.isoformat(), "password": PASSWORD},
    )
    assert r.status_code == 201, f"sign-up answered {r.status_code}"
    if r.json().get("verification") == "identity":
        confirm_on_phone(identity_url, phone)
        r = api.call("POST", base + "/v1/signup/identity", json={"phone": phone})
        assert r.status_code == 200, f"identity verification answered {r.status_code}"
    else:
        outbox = api.http.get(info["sms_url"] + "/sim/outbox", params={"to": phone}).json()
        match = re.search(r"\b(\d{6})\b", outbox["messages"][-1]["text"])
        assert match, "no SMS code"
        r = api.call("POST", base + "/v1/signup/verify", json={"phone": phone, "code": match[1]})
        assert r.status_code == 200, f"phone verification answered {r.status_code}"
    r = api.call("POST", base + "/v1/tokens", json={"phone": phone, "password": PASSWORD})
    assert r.status_code == 200, f"token answered {r.status_code}"
    auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
    api.http.post(
        info["bank_url"] + "/sim/accounts",
        json={"bank_code": BANK_CODE, "account_number": number, "holder_name": name,
              "birth_date": BIRTH.isoformat()},
    ).raise_for_status()  # fmt: skip
    r = api.call(
        "POST",
        base + "/v1/bank-accounts",
        headers={**auth, "Idempotency-Key": f"account-{number}"},
        json={"bank_code": BANK_CODE, "account_number": number, "holder_name": name},
    )
    assert r.status_code == 201, f"adding the bank account answered {r.status_code}"
    account_id = r.json()["id"]
    txs = api.http.get(f"{info['bank_url']}/sim/accounts/{BANK_CODE}/{number}/transactions")
    memo = [t["memo"] for t in txs.json()["transactions"] if t["memo"].startswith("GC")][-1]
    r = api.call(
        "POST", f"{base}/v1/bank-accounts/{account_id}/verify", headers=auth, json={"code": memo}
    )
    assert r.status_code == 200, f"verifying the bank account answered {r.status_code}"
    return auth, account_id


def _sell(api: Api, info: dict[str, Any], rng: random.Random, n: int, key: str) -> str:
    """Customer ``n`` signs up and sells ``ITEMS_PER_CUSTOMER`` vouchers in one submission."""
    auth, account_id = _sign_up(api, info, n)
    vouchers = []
    for brand, face in customer_vouchers(rng, ITEMS_PER_CUSTOMER):
        r = api.http.post(
            info["issuer_url"] + "/sim/vouchers",
            json={"brand_id": brand, "face_value": face, "purchase_channel": "cash"},
        )
        r.raise_for_status()
        vouchers.append(r.json())
    r = api.call(
        "POST",
        info["api_url"] + "/v1/submissions",
        headers={**auth, "Idempotency-Key": key},
        json={
            "bank_account_id": account_id,
            "items": [
                {
                    "brand_id": v["brand_id"],
                    "code": v["code"],
                    "pin": v["pin"],
                    "face_value": v["face_value"],
                    "funding_source": "cash",
                }
                for v in vouchers
            ],
        },
    )
    assert r.status_code == 201, f"submission answered {r.status_code}"
    return str(r.json()["id"])


def _slow_simulators(api: Api, info: dict[str, Any], plan: DemoPlan, rng: random.Random) -> None:
    """Fault settings live in the simulators' memory, so every start needs them again."""
    for key in ("issuer_url", "bank_url"):
        api.http.post(
            info[key] + "/sim/faults",
            json={
                "latency_ms": plan.latency_ms[0],
                "latency_jitter_ms": plan.latency_ms[1],
                "seed": rng.randrange(2**31),
            },
        ).raise_for_status()


def run_demo_crash(ctx: Context, plan: DemoPlan = DemoPlan()) -> tuple[Row, EndCheck]:
    rng = random.Random(ctx.seed)
    root = ctx.workdir
    data_dir = root / "demo"
    data_dir.mkdir(parents=True, exist_ok=True)
    log = root / "demo.log"
    # no nightly bank window: a run at 23:30 Korean time must not wait an hour
    env = {**clean_env(), "GIFTCASH_LEASE_S": str(plan.lease_s), "GIFTCASH_BANK_NIGHTLY": "none"}
    began = time.monotonic()
    api = Api()
    sigkills = 0
    submissions: list[str] = []
    try:
        for cycle in range(plan.cycles):
            demo = start_demo(data_dir, env, log, plan.start_s)
            try:
                _slow_simulators(api, demo.info, plan, rng)
                for k in range(plan.customers_per_cycle):
                    n = cycle * plan.customers_per_cycle + k + 1
                    submissions.append(_sell(api, demo.info, rng, n, f"selftest-{ctx.seed}-{n}"))
                time.sleep(rng.uniform(*plan.kill_after_s))
            finally:
                demo.sigkill()
            sigkills += 1
        ctx.progress(f"demo: {sigkills} SIGKILLs in {time.monotonic() - began:.1f}s; last start")
        demo = start_demo(data_dir, env, log, plan.start_s)
        engine = make_engine(demo.info["database_url"])
        try:
            deadline = time.monotonic() + plan.settle_s
            while time.monotonic() < deadline and unsettled_now(engine):
                api.call("GET", demo.info["api_url"] + "/readyz")
                time.sleep(0.25)
            vault = make_vault_from_settings(Settings(data_dir=data_dir))
            check = run_checks(
                engine,
                database_url=demo.info["database_url"],
                issuer_url=demo.info["issuer_url"],
                bank_url=demo.info["bank_url"],
                issuer_store=data_dir / "sim-issuer" / "issuer.sqlite3",
                account_hmac=lambda bank, number: vault.hmac(f"account:{bank}:{number}"),
                lease_s=plan.lease_s,
            )
        finally:
            engine.dispose()
            demo.stop()
    finally:
        api.close()
    row = Row(
        "demo crash (sqlite)",
        items=check.items,
        sigkills=sigkills,
        recovered=check.recovered,
        double_redemptions=check.double_redemptions,
        double_payouts=check.double_payouts,
        lost_won=check.lost_won,
        invariant_breaks=check.invariant_breaks,
        unsettled=check.unsettled,
        server_errors=api.server_errors,
        harness_errors=check.check_errors,
        seconds=time.monotonic() - began,
        notes=[f"seed {ctx.seed}", *check.notes],
    )
    return row, check
