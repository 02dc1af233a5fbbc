"""One person, one account (issue 14, item 1), on SQLite and PostgreSQL: a person who
signs up twice with two phones gets one customer, is pointed to it, and the limits they
used stay with it; two sign-ups of one person completing at the same moment make one
customer; the CI is stored only as a keyed hash and the rest sealed."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from apiworld import PASSWORD, World, add_account, item
from appcache import app_for
from fakes import FakeBank, FakeIdentity, FakeIssuer, FakeSms
from giftcash.adapters.db import tables as t
from giftcash.bootstrap import build_deps
from giftcash.catalogue import overrides
from giftcash.config import Settings
from giftcash.identity import verification
from giftcash.identity.operators import Operator
from giftcash.service import errors


@pytest.fixture
def world(engine, tmp_path):
    issuer, bank, sms, identity = FakeIssuer(), FakeBank(), FakeSms(), FakeIdentity()
    settings = Settings(data_dir=tmp_path, database_url=str(engine.url))
    deps = build_deps(
        settings,
        engine=engine,
        issuer=issuer,
        bank=bank,
        sms=sms,
        identity=identity,
        fast_passwords=True,
    )
    with TestClient(app_for(deps)) as client:
        w = World(client, deps, issuer, bank, sms, engine)
        w.identity = identity  # type: ignore[attr-defined]
        yield w


def _start(w: World, phone: str, name: str = "아무개") -> dict:
    r = w.client.post(
        "/v1/signup",
        json={"phone": phone, "name": name, "birth_date": "2000-01-01", "password": PASSWORD},
    )
    assert r.status_code == 201, r.text
    assert r.json()["verification"] == "identity"
    return r.json()


def _complete(w: World, phone: str):
    return w.client.post("/v1/signup/identity", json={"phone": phone})


def _token(w: World, phone: str) -> dict:
    r = w.client.post("/v1/tokens", json={"phone": phone, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_a_person_signing_up_twice_gets_one_account_and_their_limits_follow_them(world):
    w, identity = world, world.identity
    identity.person("01031000001", name="홍길동", birth_date=date(1990, 1, 2), ci="ci-gildong")
    identity.person("01031000002", name="홍길동", birth_date=date(1990, 1, 2), ci="ci-gildong")
    started = _start(w, "010-3100-0001", name="홍 길동")
    assert _complete(w, "010-3100-0001").json()["code"] == "identity_pending"
    identity.confirm("01031000001")
    done = _complete(w, "010-3100-0001")
    assert done.status_code == 200, done.text
    assert done.json() == {"status": "verified", "customer_id": started["customer_id"]}

    # the operator allows 2 items a day per customer; the person sells both
    op = Operator("op-1", "ops", "admin")
    overrides.patch_rule(w.deps, op, "velocity_customer", params={"customer_max_items_per_day": 2})
    auth = _token(w, "010-3100-0001")
    account = add_account(w, auth, "31000000000001")
    bought = datetime.now(UTC) - timedelta(days=3)
    for n in (1, 2):
        w.issuer.sell("cultureland", f"418031000000000{n}", 10_000, purchased_at=bought)
    r = w.client.post(
        "/v1/submissions",
        headers=auth,
        json={
            "bank_account_id": account,
            "items": [item("4180310000000001", 10_000), item("4180310000000002", 10_000)],
        },
    )
    assert r.status_code == 201, r.text
    assert [i["decline"] for i in r.json()["items"]] == [None, None]

    # the same person with their other phone: refused and pointed to the account they have
    _start(w, "010-3100-0002")
    identity.confirm("01031000002")
    refused = _complete(w, "010-3100-0002")
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "identity_already_registered"
    assert refused.json()["masked_phone"] == "010-****-0001"
    assert w.count(t.customers) == 1 and w.count(t.customer_identities) == 1
    r = w.client.post("/v1/tokens", json={"phone": "010-3100-0002", "password": PASSWORD})
    assert r.status_code == 401  # no second account to sign in to

    # the one account the person has keeps today's sales: the third is over the limit
    w.issuer.sell("cultureland", "4180310000000003", 10_000, purchased_at=bought)
    r = w.client.post(
        "/v1/submissions",
        headers=auth,
        json={"bank_account_id": account, "items": [item("4180310000000003", 10_000)]},
    )
    assert r.status_code == 201, r.text
    assert r.json()["items"][0]["decline"]["code"] == "limit_exceeded"

    with w.engine.connect() as conn:
        row = conn.execute(select(t.customer_identities)).one()
        name = conn.execute(select(t.customers.c.name)).scalar_one()
    assert name == "홍길동"  # the verified name, not what was typed
    assert row.ci_hmac == w.deps.vault.hmac("ci:ci-gildong") and "ci-gildong" not in row.ci_hmac
    assert "홍길동".encode() not in bytes(row.details_enc)
    assert b"ci-gildong" not in bytes(row.details_enc)


def test_two_sign_ups_of_one_person_completing_at_once_make_one_customer(world):
    w, identity = world, world.identity
    phones = [f"0103200000{n}" for n in range(1, 5)]
    for phone in phones:
        identity.person(phone, ci="ci-racer")
        _start(w, phone)
        identity.confirm(phone)
    outcomes: list[str] = []
    barrier = threading.Barrier(len(phones))

    def complete(phone: str) -> None:
        barrier.wait()
        try:
            verification.complete_signup(w.deps, phone=phone)
            outcomes.append("made")
        except errors.IdentityAlreadyRegistered:
            outcomes.append("refused")

    threads = [threading.Thread(target=complete, args=(p,)) for p in phones]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(outcomes) == ["made", "refused", "refused", "refused"]
    with w.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.customers)).scalar_one() == 1
        checks = conn.execute(select(t.identity_checks.c.status)).scalars().all()
    assert sorted(checks) == ["completed", "refused", "refused", "refused"]


def test_a_customer_blocked_stays_blocked_whatever_phone_the_person_uses(world):
    w, identity = world, world.identity
    identity.person("01033000001", ci="ci-blocked")
    identity.person("01033000002", ci="ci-blocked")
    first = _start(w, "01033000001")["customer_id"]
    identity.confirm("01033000001")
    assert _complete(w, "01033000001").status_code == 200
    from giftcash.identity import blocks

    blocks.block(w.deps, Operator("op-1", "ops", "admin"), "customer", first, "mule account")
    _start(w, "01033000002")
    identity.confirm("01033000002")
    assert _complete(w, "01033000002").json()["code"] == "identity_already_registered"
    assert w.count(t.customers) == 1
    r = w.client.post("/v1/tokens", json={"phone": "01033000001", "password": PASSWORD})
    assert r.json()["code"] == "customer_blocked"
