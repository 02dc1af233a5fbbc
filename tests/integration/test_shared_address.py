"""Two customers behind one address (a carrier's NAT, the load balancer of
docs/deploy.md): one sends many codes that do not work; the other's valid voucher is
still paid, after a person looked at it, and never declined. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import update

from apiworld import World, add_account, item, signup
from giftcash.adapters.db import tables as t
from giftcash.entrypoints.worker import Worker

SHARED = "203.0.113.7"


def sell(c: TestClient, auth: dict, account: str, codes: list[str], face: int) -> dict:
    r = c.post(
        "/v1/submissions",
        headers=auth,
        json={"bank_account_id": account, "items": [item(x, face) for x in codes]},
    )
    assert r.status_code == 201, r.text
    return r.json()


def statuses(c: TestClient, auth: dict, sub: dict) -> list[dict]:
    return c.get(f"/v1/submissions/{sub['id']}", headers=auth).json()["items"]


def test_another_customers_failures_never_decline_a_valid_voucher(world: World):
    w = world
    nat = TestClient(w.client.app, client=(SHARED, 40000))
    guesser = signup(w, "010-7600-0001", "김철수")
    guesser_account = add_account(w, guesser, "76000000000001", "김철수")
    honest = signup(w, "010-7600-0002")
    honest_account = add_account(w, honest, "76000000000002")
    worker = Worker(w.deps)

    # The guesser sends more unknown codes than the address may fail, one sale each.
    for n in range(12):  # the address's limit is 10 in the window
        sell(nat, guesser, guesser_account, [f"41807600{n:08d}"], 10_000)
    worker.drain(50)

    w.issuer.sell("cultureland", "4180760099990001", 10_000)
    sub = sell(nat, honest, honest_account, ["4180760099990001"], 10_000)
    worker.drain(20)
    [it] = statuses(nat, honest, sub)
    assert it["status"] == "review", it
    assert it["decline"] is None or it["decline"]["code"] != "too_many_attempts"

    # a reviewer approves; the voucher is redeemed and paid
    with w.engine.begin() as conn:
        conn.execute(
            update(t.items)
            .where(t.items.c.id == it["id"])
            .values(status="received", reviewed_at=datetime.now(UTC), reviewed_by="test")
        )
    worker.drain(20)
    [it] = statuses(nat, honest, sub)
    assert it["status"] == "paid", it
    assert w.bank.paid_to("004", "76000000000002") == it["payout"]

    # the guesser's own failures still stop the guesser
    w.issuer.sell("cultureland", "4180760099990002", 10_000)
    sub = sell(nat, guesser, guesser_account, ["4180760099990002"], 10_000)
    [mine] = sub["items"]
    assert mine["status"] == "declined" and mine["decline"]["code"] == "too_many_attempts"
