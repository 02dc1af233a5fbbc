"""schemathesis over the whole OpenAPI document, in process: the ASGI app over the
in-memory fakes on SQLite and PostgreSQL, a customer's token on the customer endpoints
and an admin's on /v1/admin, real ids in half the valid cases. Zero 5xx, zero answers
that break the document. And the harness itself can fail: a broken little app is
caught."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from verdict import SEED

from apiworld import World, add_account, item, signup
from giftcash.identity import operators
from giftcash.selftest.hostile import known_ids, run_schemathesis

pytestmark = pytest.mark.slow  # schemathesis over the whole API

EXAMPLES = 5  # per operation and mode: about 300 requests


def _admin(w: World) -> dict[str, str]:
    secret = pyotp.random_base32()
    operators.create_operator(
        w.deps, username="fuzz-admin", password="operator password 1", role="admin",
        totp_secret=secret,
    )  # fmt: skip
    r = w.client.post(
        "/v1/admin/tokens",
        json={
            "username": "fuzz-admin",
            "password": "operator password 1",
            "totp": pyotp.TOTP(secret).now(),
        },
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_no_5xx_and_no_answer_outside_the_document(world: World):
    w = world  # on PostgreSQL too: it found a 500 there that SQLite let pass (a NUL)
    customer = signup(w, "010-9100-0001")
    account = add_account(w, customer, "91000000000001")
    w.issuer.sell("cultureland", "4180910000000001", 10_000)
    r = w.client.post(
        "/v1/submissions",
        headers=customer,
        json={"bank_account_id": account, "items": [item("4180910000000001", 10_000)]},
    )
    assert r.status_code == 201, r.text
    me = w.client.get("/v1/bank-accounts", headers=customer).json()["data"][0]
    customer_id = _customer_id(w)
    ids = known_ids(w.deps, customer_id, me["id"], r.json()["id"])
    admin = _admin(w)

    report = run_schemathesis(
        w.client.app,
        lambda path: admin if path.startswith(("/v1/admin", "/v1/payment-stops")) else customer,
        max_examples=EXAMPLES,
        seed=SEED,
        known_ids=ids,
    )

    assert report.operations >= 30, report.notes
    assert report.cases >= 10 * report.operations // 2, report.notes
    assert report.server_errors == 0, report.notes
    assert report.contract_breaks == 0, report.notes


def _customer_id(w: World) -> str:
    from sqlalchemy import select

    from giftcash.adapters.db import tables as t

    with w.engine.connect() as conn:
        return conn.execute(select(t.customers.c.id)).scalar_one()


class Thing(BaseModel):
    id: str
    amount: int


def broken_app() -> FastAPI:
    app = FastAPI(openapi_url="/openapi.json")

    @app.get("/things/{thing_id}", response_model=Thing)
    def thing(thing_id: str) -> Any:
        if len(thing_id) % 2:
            raise RuntimeError("a bug")  # a 500
        return JSONResponse({"id": thing_id, "amount": "12"})  # a string where int is due

    return app


def test_the_fuzz_run_catches_a_5xx_and_a_body_outside_the_schema():
    from fastapi.testclient import TestClient

    app = broken_app()
    with TestClient(app, raise_server_exceptions=False):
        report = run_schemathesis(
            app, lambda _p: {}, max_examples=40, seed=SEED, openapi_path="/openapi.json"
        )
    assert report.server_errors > 0, report.notes
    assert report.contract_breaks > 0, report.notes
    assert any("Response violates schema" in k for k in report.by_kind), report.notes
