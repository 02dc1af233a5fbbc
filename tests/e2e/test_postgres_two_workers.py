"""The same flow with the database on PostgreSQL, the API under `giftcash serve`, the
three simulators as their own processes and two `giftcash worker` processes."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
import pytest
from flow import Urls, buy, other_side, sign_up, submit, wait_paid, wait_ready
from sqlalchemy import create_engine, text

from giftcash.entrypoints.servers import free_port

pytestmark = pytest.mark.slow  # two worker processes on PostgreSQL

GIFTCASH = str(Path(sys.executable).with_name("giftcash"))


@pytest.fixture
def stack(postgres_database_url, tmp_path):
    ports = {k: free_port() for k in ("api", "issuer", "bank", "sms")}
    env = {
        **os.environ,
        "GIFTCASH_DATABASE_URL": postgres_database_url,
        "GIFTCASH_DATA_DIR": str(tmp_path),
        "GIFTCASH_SECRET_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "GIFTCASH_ISSUER_URL": f"http://127.0.0.1:{ports['issuer']}",
        "GIFTCASH_BANK_URL": f"http://127.0.0.1:{ports['bank']}",
        "GIFTCASH_SMS_URL": f"http://127.0.0.1:{ports['sms']}",
    }
    subprocess.run([GIFTCASH, "db", "upgrade"], env=env, check=True, capture_output=True)
    procs = []
    logs = []

    def start(name: str, *args: str) -> None:
        log = open(tmp_path / f"{name}.log", "w")
        logs.append(log)
        procs.append(
            subprocess.Popen([GIFTCASH, *args], env=env, stdout=log, stderr=subprocess.STDOUT)
        )

    for kind in ("issuer", "bank", "sms"):
        start(
            kind, "simulator", kind, "--port", str(ports[kind]), "--data-dir", str(tmp_path / kind)
        )
    start("api", "serve", "--port", str(ports["api"]), "--workers", "2")
    start("worker-1", "worker", "--worker-id", "w1", "--batch", "8")
    start("worker-2", "worker", "--worker-id", "w2", "--batch", "8")
    urls = Urls(*(f"http://127.0.0.1:{ports[k]}" for k in ("api", "issuer", "bank", "sms")))
    try:
        wait_ready(urls.api + "/readyz")
        for u in (urls.issuer, urls.bank, urls.sms):
            wait_ready(u + "/sim/faults")
        yield urls, env, tmp_path
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        for log in logs:
            log.close()


@pytest.mark.postgres
def test_two_workers_on_postgres_pay_each_item_once(stack):
    u, env, _ = stack
    customers = [
        sign_up(u, "010-4100-0001", "이서연", "4100000000001"),
        sign_up(u, "010-4100-0002", "최민호", "4100000000002"),
    ]
    subs = []
    for n, (auth, account_id) in enumerate(customers):
        vouchers = [buy(u, "cultureland", 4_000) for _ in range(12)]  # 48,000: no hold
        subs.append((auth, submit(u, auth, account_id, vouchers, key=f"batch-{n}")))
    for auth, sub in subs:
        wait_paid(u, auth, sub["id"], timeout_s=60)

    redemptions, transfers = other_side(u)
    assert redemptions["count"] == 24
    assert redemptions["codes_redeemed_more_than_once"] == 0
    assert max(Counter(t["bank_tran_id"] for t in transfers["transfers"]).values()) == 1
    for (auth, _), account in zip(customers, ("4100000000001", "4100000000002")):
        paid = sum(
            t["amount"]
            for t in transfers["transfers"]
            if t["account_num"] == account and t["amount"] > 1
        )
        assert paid == 12 * 3_600
        payouts = httpx.get(f"{u.api}/v1/payouts", headers=auth).json()["data"]
        assert sum(p["amount"] for p in payouts if p["status"] == "confirmed") == paid
    engine = create_engine(env["GIFTCASH_DATABASE_URL"])
    with engine.connect() as conn:
        beats = set(conn.execute(text("SELECT worker_id FROM worker_heartbeats")).scalars())
    engine.dispose()
    assert beats == {"w1", "w2"}  # both workers ran against the one database
    check = subprocess.run([GIFTCASH, "ledger", "check"], env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
