"""A customer-API world over in-memory issuer, bank and SMS fakes, on SQLite and
PostgreSQL (the ``engine`` fixture): helpers shared by the API tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from appcache import app_for
from fakes import FakeBank, FakeIssuer, FakeSms, FakeVirtualAccounts
from giftcash.bootstrap import build_deps
from giftcash.config import Settings

PASSWORD = "correct horse battery"


class LaterClock:
    def __init__(self, hours: float) -> None:
        self.shift = timedelta(hours=hours)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.shift


@dataclass
class World:
    client: TestClient
    deps: object
    issuer: FakeIssuer
    bank: FakeBank
    sms: FakeSms
    engine: object
    # the bank's virtual accounts (resale): a buyer's transfer is ``pay``, its notice's
    # body for POST /v1/bank/notifications the deposit id
    virtual_accounts: FakeVirtualAccounts | None = None

    def count(self, table) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.fixture
def world(engine, tmp_path):
    issuer, bank, sms = FakeIssuer(), FakeBank(), FakeSms()
    accounts = FakeVirtualAccounts(clock=LaterClock(0))  # type: ignore[arg-type]
    settings = Settings(data_dir=tmp_path, database_url=str(engine.url))
    deps = build_deps(
        settings,
        engine=engine,
        issuer=issuer,
        bank=bank,
        sms=sms,
        virtual_accounts=accounts,
        fast_passwords=True,
    )
    app = app_for(deps, allow_loopback_webhooks=True)
    with TestClient(app) as client:
        yield World(client, deps, issuer, bank, sms, engine, accounts)


def signup(w: World, phone: str, name: str = "홍길동") -> dict:
    r = w.client.post(
        "/v1/signup",
        json={"phone": phone, "name": name, "birth_date": "1990-01-02", "password": PASSWORD},
    )
    assert r.status_code == 201, r.text
    digits = phone.replace("-", "")
    r = w.client.post("/v1/signup/verify", json={"phone": phone, "code": w.sms.last_code(digits)})
    assert r.status_code == 200, r.text
    r = w.client.post("/v1/tokens", json={"phone": phone, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def add_account(w: World, auth: dict, number: str, name: str = "홍길동", verify=True) -> str:
    w.bank.open("004", number, name)
    r = w.client.post(
        "/v1/bank-accounts",
        json={"bank_code": "004", "account_number": number, "holder_name": name},
        headers=auth,
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "verifying"
    account_id = r.json()["id"]
    if verify:
        memo = w.bank.memo_to("004", number)
        r = w.client.post(
            f"/v1/bank-accounts/{account_id}/verify", json={"code": memo}, headers=auth
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "verified"
    return account_id


def item(code: str, face: int = 50_000, source: str = "cash") -> dict:
    return {"brand_id": "cultureland", "code": code, "face_value": face, "funding_source": source}


def check_sent_payouts(deps) -> int:
    """One check of the sent payouts at the bank (the worker's check step); how many."""
    from giftcash.domain.states import PayoutStatus
    from giftcash.payouts import sending

    claims = sending.claim_payouts(deps, "w1", (PayoutStatus.SENT,), 10)
    sending.record_checks(deps, "w1", [sending.check_payout(deps, c) for c in claims])
    return len(claims)


def bounce_the_payout(deps, bank: FakeBank, engine) -> None:
    """Take the only submission's items to a sent payout that stays pending at the bank,
    then let the bank return it and the worker see that (the account becomes failed)."""
    from giftcash.adapters.db import tables as t
    from giftcash.entrypoints.worker import Worker

    bank.settle_later = True
    worker = Worker(deps)
    for _ in range(4):  # admitted, redeemed, paid out, checked (still pending)
        worker.run_once()
    with engine.connect() as conn:
        payout = conn.execute(select(t.payouts.c.status, t.payouts.c.bank_tran_id)).one()
    assert payout.status == "sent", payout
    bank.return_transfer(payout.bank_tran_id)
    assert check_sent_payouts(deps) == 1
    bank.settle_later = False
