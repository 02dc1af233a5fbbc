"""`giftcash demo` as a new user would run it: start it, then use the HTTP API alone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from flow import Urls, buy, other_side, sign_up, submit, wait_paid, wait_ready

pytestmark = pytest.mark.slow  # starts the demo: servers, worker, simulators

GIFTCASH = str(Path(sys.executable).with_name("giftcash"))


@pytest.fixture
def demo(tmp_path):
    log = open(tmp_path / "demo.log", "w")
    # --port 0: the kernel picks a free port; demo.json says which.
    proc = subprocess.Popen(
        [GIFTCASH, "demo", "--port", "0", "--data-dir", str(tmp_path / "var")],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        info_path = tmp_path / "var" / "demo.json"
        deadline = time.monotonic() + 180
        while not info_path.exists():
            if proc.poll() is not None:
                pytest.fail(
                    f"giftcash demo exited {proc.returncode}: "
                    f"{(tmp_path / 'demo.log').read_text()[-2000:]}"
                )
            assert time.monotonic() < deadline, "giftcash demo did not start in 180 s"
            time.sleep(0.1)
        info = json.loads(info_path.read_text())
        wait_ready(info["api_url"] + "/readyz", timeout_s=60)
        yield proc, info, tmp_path
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()


def test_demo_writes_its_urls_and_credentials(demo):
    _, info, _ = demo
    for key in (
        "api_url",
        "web_url",
        "issuer_url",
        "bank_url",
        "sms_url",
        "identity_url",
        "database_url",
    ):
        assert info[key], key
    assert set(info["operator"]) >= {"username", "password", "totp_secret"}
    assert set(info["customer"]) >= {"phone", "password"}
    r = httpx.post(info["api_url"] + "/v1/tokens", json=info["customer"])
    assert r.status_code == 200  # the demo customer is ready to sell
    accounts = httpx.get(
        info["api_url"] + "/v1/bank-accounts",
        headers={"Authorization": f"Bearer {r.json()['access_token']}"},
    ).json()["data"]
    assert [a["status"] for a in accounts] == ["verified"]
    # the demo customer is a person the identity simulator verified (본인인증)
    people = httpx.get(info["identity_url"] + "/sim/people").json()["people"]
    phone = info["customer"]["phone"].replace("-", "")
    assert [p["name"] for p in people if phone in p["phones"]] == ["김지원"]


def test_new_customer_sells_three_vouchers_and_is_paid(demo):
    _, info, _ = demo
    u = Urls(
        info["api_url"], info["issuer_url"], info["bank_url"], info["sms_url"], info["identity_url"]
    )
    auth, account_id = sign_up(u, "010-7777-1234", "박서준", "3333012345678")
    vouchers = [buy(u, "cultureland", 30_000), buy(u, "munhwa", 10_000), buy(u, "booknlife", 5_000)]
    sub = submit(u, auth, account_id, vouchers, key="three-vouchers")
    done = wait_paid(u, auth, sub["id"], timeout_s=30)
    assert done["totals"]["paid"] == 27_000 + 9_000 + 4_500  # a first sale of 45,000: no hold
    payouts = httpx.get(f"{u.api}/v1/payouts", headers=auth).json()["data"]
    assert sum(p["amount"] for p in payouts if p["status"] == "confirmed") == 40_500

    redemptions, transfers = other_side(u)
    assert redemptions["codes_redeemed_more_than_once"] == 0
    mine = [
        r
        for r in redemptions["redemptions"]
        if r["masked_code"][-4:] in {v["code"][-4:] for v in vouchers}
    ]
    assert len(mine) == 3
    ids = Counter(t["bank_tran_id"] for t in transfers["transfers"])
    assert max(ids.values()) == 1
    paid_to_me = [t for t in transfers["transfers"] if t["account_num"] == "3333012345678"]
    assert sum(t["amount"] for t in paid_to_me if t["amount"] > 1) == 40_500

    env = {
        **os.environ,
        "GIFTCASH_DATABASE_URL": info["database_url"],
        "GIFTCASH_DATA_DIR": info["data_dir"],
    }
    check = subprocess.run([GIFTCASH, "ledger", "check"], env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_resold_voucher_is_stocked_paid_sold_and_delivered_in_the_demo(demo):
    """Kyobo's gift card is resold (the catalogue's disposition): verified by the issuer's
    inquiry, stocked, its seller paid; a buyer orders it, pays from their own account and
    it is delivered; the issuer simulator still shows it unspent; the books hold."""
    _, info, _ = demo
    u = Urls(
        info["api_url"], info["issuer_url"], info["bank_url"], info["sms_url"], info["identity_url"]
    )
    auth, account_id = sign_up(u, "010-7777-5678", "한지민", "3333012345679")
    voucher = buy(u, "kyobo_gift", 10_000)
    sub = submit(u, auth, account_id, [voucher], key="resold-voucher")
    done = wait_paid(u, auth, sub["id"], timeout_s=30)
    assert done["totals"]["paid"] == 9_000
    shown = httpx.get(f"{u.issuer}/sim/vouchers/{voucher['voucher_id']}").json()
    assert shown["status"] == "active" and shown["balance"] == 10_000, shown
    redemptions, transfers = other_side(u)
    assert voucher["code"][-4:] not in {r["masked_code"][-4:] for r in redemptions["redemptions"]}
    paid_to_me = [t for t in transfers["transfers"] if t["account_num"] == "3333012345679"]
    assert [t["amount"] for t in paid_to_me if t["amount"] > 1] == [9_000]

    # the demo customer (verified: 김지원) buys it: a stranger's deposit goes back whole,
    # once; their own is kept and the card delivered, still unspent at the issuer
    token = httpx.post(f"{u.api}/v1/tokens", json=info["customer"]).json()["access_token"]
    buyer = {"Authorization": f"Bearer {token}"}
    offers = httpx.get(f"{u.api}/v1/offers").json()["data"]
    assert [(o["brand_id"], o["face_value"], o["price"], o["in_stock"]) for o in offers] == [
        ("kyobo_gift", 10_000, 9_500, 1)
    ]
    order = httpx.post(
        f"{u.api}/v1/orders",
        headers={**buyer, "Idempotency-Key": "buy-the-kyobo-card"},
        json={"brand_id": "kyobo_gift", "face_value": 10_000, "quantity": 1},
    ).json()
    assert (order["status"], order["amount"]) == ("awaiting_payment", 9_500), order
    account = order["virtual_account"]["account_number"]
    for payer in ("홍길동", "김지원"):
        r = httpx.post(
            f"{u.bank}/sim/virtual-accounts/{account}/deposits",
            json={"payer_name": payer, "payer_bank_code": "088",
                  "payer_account": "110222333444", "amount": 9_500},
        )  # fmt: skip
        assert r.status_code in (200, 201), r.text
    deadline = time.monotonic() + 30
    while True:
        shown = httpx.get(f"{u.api}/v1/orders/{order['id']}", headers=buyer).json()
        returns = httpx.get(f"{u.bank}/sim/returns").json()["returns"]
        if shown["status"] == "delivered" and returns:
            break
        assert time.monotonic() < deadline, (shown, returns)
        time.sleep(0.2)
    assert sorted((d["state"], d["return_reason"]) for d in shown["deposits"]) == [
        ("matched", None),
        ("returned", "other_name"),
    ]
    assert [(r["amount"], r["status"]) for r in returns] == [(9_500, "returned")]
    shown = httpx.get(f"{u.issuer}/sim/vouchers/{voucher['voucher_id']}").json()
    assert shown["status"] == "active" and shown["balance"] == 10_000, shown
    env = {
        **os.environ,
        "GIFTCASH_DATABASE_URL": info["database_url"],
        "GIFTCASH_DATA_DIR": info["data_dir"],
    }
    check = subprocess.run([GIFTCASH, "ledger", "check"], env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_demo_stops_cleanly_on_sigterm(demo):
    proc, _, tmp = demo
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert "stopped" in (tmp / "demo.log").read_text()
