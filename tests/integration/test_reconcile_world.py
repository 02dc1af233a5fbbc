"""The world the operations tests share (no tests here): the API and a worker over the
real bank and issuer simulators, driven in-process (TestClient), on SQLite and
PostgreSQL; customers sign up, verify an account with the 1-won deposit and sell
vouchers that are redeemed and paid."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from appcache import app_for
from fakes import FakeSms
from giftcash.adapters.banks.openbanking import OpenBankingBank
from giftcash.adapters.issuers.http_issuer import HttpIssuer
from giftcash.bootstrap import build_deps
from giftcash.config import Settings
from giftcash.entrypoints.worker import Worker
from giftcash.simulators import create_bank_app, create_issuer_app

PASSWORD = "correct horse battery"


@dataclass
class OpsWorld:
    api: TestClient
    bank: TestClient
    issuer: TestClient
    sms: FakeSms
    deps: object
    engine: object
    url: str
    data_dir: Path
    settings: Settings

    def customer(self, phone: str, name: str, account: str) -> tuple[dict, str]:
        """Sign up, verify the phone, add and verify a bank account at the bank sim."""
        r = self.api.post(
            "/v1/signup",
            json={"phone": phone, "name": name, "birth_date": "1988-02-03", "password": PASSWORD},
        )
        assert r.status_code == 201, r.text
        code = self.sms.last_code(phone.replace("-", ""))
        r = self.api.post("/v1/signup/verify", json={"phone": phone, "code": code})
        assert r.status_code == 200, r.text
        r = self.api.post("/v1/tokens", json={"phone": phone, "password": PASSWORD})
        auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
        self.bank.post(
            "/sim/accounts",
            json={"bank_code": "088", "account_number": account, "holder_name": name},
        ).raise_for_status()
        r = self.api.post(
            "/v1/bank-accounts",
            headers=auth,
            json={"bank_code": "088", "account_number": account, "holder_name": name},
        )
        assert r.status_code == 201, r.text
        account_id = r.json()["id"]
        txs = self.bank.get(f"/sim/accounts/088/{account}/transactions").json()["transactions"]
        memo = [t["memo"] for t in txs if re.match(r"GC\d+", t["memo"])][-1]
        r = self.api.post(
            f"/v1/bank-accounts/{account_id}/verify", headers=auth, json={"code": memo}
        )
        assert r.status_code == 200, r.text
        return auth, account_id

    def buy(self, brand: str, face: int) -> dict:
        r = self.issuer.post(
            "/sim/vouchers",
            json={"brand_id": brand, "face_value": face, "purchase_channel": "cash"},
        )
        assert r.status_code == 201, r.text
        return r.json()

    def sell(self, auth: dict, account_id: str, vouchers: list[dict], key: str) -> dict:
        items = [
            {
                "brand_id": v["brand_id"],
                "code": v["code"],
                "pin": v.get("pin"),
                "face_value": v["face_value"],
                "funding_source": "cash",
            }
            for v in vouchers
        ]
        r = self.api.post(
            "/v1/submissions",
            headers={**auth, "Idempotency-Key": key},
            json={"bank_account_id": account_id, "items": items},
        )
        assert r.status_code == 201, r.text
        return r.json()

    def work(self) -> None:
        w = Worker(self.deps, concurrency=4, per_issuer=4, idle_sleep_s=0.01)
        try:
            w.drain(timeout_s=60)
        finally:
            w.close()

    def day_of_trade(self) -> list[dict]:
        """Two customers, five vouchers, all paid; answers the submissions."""
        a = self.customer("010-5100-0001", "이서연", "5100000000001")
        b = self.customer("010-5100-0002", "최민호", "5100000000002")
        subs = [
            self.sell(*a, [self.buy("cultureland", 10_000), self.buy("munhwa", 5_000)], "a1"),
            self.sell(*b, [self.buy("booknlife", 10_000)], "b1"),
            self.sell(*b, [self.buy("cultureland", 30_000), self.buy("munhwa", 10_000)], "b2"),
        ]
        self.work()
        for s in subs:
            got = self.api.get(f"/v1/submissions/{s['id']}", headers=a[0] if s is subs[0] else b[0])
            assert {i["status"] for i in got.json()["items"]} == {"paid"}, got.text
        return subs

    def statement(self) -> str:
        r = self.bank.get("/sim/statement")
        assert r.status_code == 200
        return r.text

    def settlement(self, day: str) -> str:
        r = self.issuer.get("/sim/settlement", params={"date": day})
        assert r.status_code == 200
        return r.text


@pytest.fixture
def ops_world(engine, tmp_path, monkeypatch):
    bank_client = TestClient(create_bank_app(tmp_path / "bank"))
    issuer_client = TestClient(create_issuer_app(tmp_path / "issuer"))
    sms = FakeSms()
    data_dir = tmp_path / "var"
    settings = Settings(data_dir=data_dir, database_url=str(engine.url))
    deps = build_deps(
        settings,
        engine=engine,
        issuer=HttpIssuer("http://sim", client=issuer_client),
        bank=OpenBankingBank("http://sim", client=bank_client),
        sms=sms,
        fast_passwords=True,
    )
    # The CLI in these tests must find the same database and key file as this world.
    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("GIFTCASH_DATA_DIR", str(data_dir))
    monkeypatch.setenv("GIFTCASH_DATABASE_URL", url)
    with TestClient(app_for(deps)) as api:
        yield OpsWorld(api, bank_client, issuer_client, sms, deps, engine, url, data_dir, settings)
