"""The world the admin and audit tests share (no tests here): the API over in-memory
issuer, bank and SMS fakes on SQLite and PostgreSQL, a settable clock (TOTP codes are
made for its time), operators of each role and a customer with a verified account."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from appcache import app_for
from fakes import FakeBank, FakeClock, FakeIssuer, FakeSms
from giftcash.adapters.db import tables as t
from giftcash.bootstrap import build_deps
from giftcash.config import Settings
from giftcash.identity import operators

CUSTOMER_PASSWORD = "correct horse battery"
OPERATOR_PASSWORD = "operator password 1"


@dataclass
class World:
    client: TestClient
    deps: object
    issuer: FakeIssuer
    bank: FakeBank
    sms: FakeSms
    engine: object
    clock: FakeClock
    url: str
    secrets: dict[str, str] = field(default_factory=dict)

    def count(self, table, *where) -> int:
        with self.engine.connect() as conn:
            q = select(func.count()).select_from(table)
            return conn.execute(q.where(*where) if where else q).scalar_one()

    def audit_rows(self, action: str | None = None) -> list:
        c = t.audit_log.c
        q = select(t.audit_log).order_by(c.seq)
        if action is not None:
            q = q.where(c.action == action)
        with self.engine.connect() as conn:
            return conn.execute(q).all()

    def totp(self, username: str) -> str:
        return pyotp.TOTP(self.secrets[username]).at(self.clock.now())

    def operator(self, username: str, role: str) -> dict:
        """Create an operator and log in; the clock moves on a TOTP step after."""
        secret = pyotp.random_base32()
        operators.create_operator(
            self.deps,
            username=username,
            password=OPERATOR_PASSWORD,
            role=role,
            totp_secret=secret,
        )
        self.secrets[username] = secret
        return self.login(username)

    def login(self, username: str) -> dict:
        r = self.client.post(
            "/v1/admin/tokens",
            json={
                "username": username,
                "password": OPERATOR_PASSWORD,
                "totp": self.totp(username),
            },
        )
        assert r.status_code == 200, r.text
        self.clock.advance(30)
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def world(engine, tmp_path):
    issuer, bank, sms = FakeIssuer(), FakeBank(), FakeSms()
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(data_dir=tmp_path, database_url=url)
    deps = build_deps(
        settings, engine=engine, issuer=issuer, bank=bank, sms=sms, fast_passwords=True
    )
    clock = FakeClock(datetime(2026, 11, 27, 9, 0, 7, 123456, tzinfo=UTC))
    deps.clock = clock
    app = app_for(deps)
    with TestClient(app) as client:
        yield World(client, deps, issuer, bank, sms, engine, clock, url)


def customer(w: World, phone: str, account: str, name: str = "홍길동") -> tuple[dict, str]:
    """A verified customer's auth header and verified bank account id."""
    r = w.client.post(
        "/v1/signup",
        json={
            "phone": phone,
            "name": name,
            "birth_date": "1958-03-04",
            "password": CUSTOMER_PASSWORD,
        },
    )
    assert r.status_code == 201, r.text
    digits = phone.replace("-", "")
    r = w.client.post("/v1/signup/verify", json={"phone": phone, "code": w.sms.last_code(digits)})
    assert r.status_code == 200, r.text
    r = w.client.post("/v1/tokens", json={"phone": phone, "password": CUSTOMER_PASSWORD})
    assert r.status_code == 200, r.text
    auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
    w.bank.open("004", account, name)
    r = w.client.post(
        "/v1/bank-accounts",
        json={"bank_code": "004", "account_number": account, "holder_name": name},
        headers=auth,
    )
    assert r.status_code == 201, r.text
    account_id = r.json()["id"]
    memo = w.bank.memo_to("004", account)
    r = w.client.post(f"/v1/bank-accounts/{account_id}/verify", json={"code": memo}, headers=auth)
    assert r.status_code == 200, r.text
    return auth, account_id


def submit(w: World, auth: dict, account_id: str, *items: dict) -> dict:
    r = w.client.post(
        "/v1/submissions", json={"bank_account_id": account_id, "items": list(items)}, headers=auth
    )
    assert r.status_code == 201, r.text
    return r.json()


def item(code: str, face: int = 50_000, brand: str = "cultureland", source: str = "cash") -> dict:
    return {"brand_id": brand, "code": code, "face_value": face, "funding_source": source}
