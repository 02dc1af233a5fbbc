"""Law as code and the fraud controls, through the API and the worker (issue 4's checks):
statutory declines with lawful routes, the issuer's report beating the declaration, the
duplicate registry, the scam-victim review with its warning, the first-sale hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from apiworld import World, add_account, item, signup
from giftcash.adapters.db import tables as t
from giftcash.entrypoints.worker import Worker


def submit(w: World, auth: dict, account: str, items: list[dict]) -> dict:
    r = w.client.post(
        "/v1/submissions", headers=auth, json={"bank_account_id": account, "items": items}
    )
    assert r.status_code == 201, r.text
    return r.json()


def refresh(w: World, auth: dict, sub: dict) -> list[dict]:
    r = w.client.get(f"/v1/submissions/{sub['id']}", headers=auth)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def routes(it: dict) -> set[str]:
    return {r["route"] for r in it["decline"]["routes"]}


def test_carrier_billing_is_declined_whatever_the_declaration(world: World):
    w = world
    auth = signup(w, "010-5100-0001")
    account = add_account(w, auth, "51000000000001")
    now = datetime.now(UTC)
    w.issuer.sell(
        "cultureland",
        "4180510000000001",
        10_000,
        channel="carrier_billing",
        purchased_at=now - timedelta(hours=2),
    )
    w.issuer.sell(
        "cultureland",
        "4180510000000002",
        10_000,
        channel="cash",
        purchased_at=now - timedelta(days=3),
    )

    # declared as carrier billing: declined up front, with the lawful routes
    declared = {
        **item("4180510000000009", 10_000, "carrier_billing"),
        "purchased_at": (now - timedelta(hours=1)).isoformat(),
    }
    up_front = submit(w, auth, account, [declared])
    it = up_front["items"][0]
    assert it["status"] == "declined" and it["decline"]["code"] == "carrier_billing_prohibited"
    assert "cancel_payment" in routes(it) and "sell_here" not in routes(it)

    # declared as cash, but the issuer reports carrier billing: its report wins
    sub = submit(
        w,
        auth,
        account,
        [item("4180510000000001", 10_000, "cash"), item("4180510000000002", 10_000, "cash")],
    )
    assert [i["status"] for i in sub["items"]] == ["received", "received"]
    Worker(w.deps).drain(20)
    forged, honest = refresh(w, auth, sub)
    assert forged["status"] == "declined"
    assert forged["decline"]["code"] == "carrier_billing_prohibited"
    assert "cancel_payment" in routes(forged) and "withdraw_7_days" in routes(forged)
    assert honest["status"] == "paid"
    assert "4180510000000001" not in {k for k, _ in w.issuer.redemptions.values()}
    with w.engine.connect() as conn:
        flags = (
            conn.execute(t.items.select().where(t.items.c.id == forged["id"]))
            .one()
            ._mapping["flags"]
        )
    assert "declaration_mismatch" in flags
    with w.engine.connect() as conn:
        audited = conn.execute(
            t.audit_log.select().where(t.audit_log.c.action == "item.declaration_mismatch")
        ).all()
    assert [r._mapping["subject"] for r in audited] == [f"item:{forged['id']}"]


def test_a_first_time_seller_with_fresh_vouchers_goes_to_review(world: World):
    w = world
    auth = signup(w, "010-5200-0001")
    account = add_account(w, auth, "52000000000001")
    minutes_ago = datetime.now(UTC) - timedelta(minutes=5)
    codes = [f"41805200000000{i:02d}" for i in range(3)]
    for c in codes:
        w.issuer.sell("cultureland", c, 100_000, purchased_at=minutes_ago)
    sub = submit(w, auth, account, [item(c, 100_000) for c in codes])
    worker = Worker(w.deps)
    worker.drain(20)
    items = refresh(w, auth, sub)
    assert [i["status"] for i in items] == ["review"] * 3
    assert all(i["warning"] and "112" in i["warning"] for i in items)
    assert w.issuer.redemptions == {}  # nothing redeemed while in review

    # an operator approves two and declines one (the admin API does exactly this)
    now = datetime.now(UTC)
    with w.engine.begin() as conn:
        conn.execute(
            update(t.items)
            .where(t.items.c.id.in_([items[0]["id"], items[1]["id"]]))
            .values(status="received", reviewed_at=now, reviewed_by="test")
        )
        conn.execute(
            update(t.items)
            .where(t.items.c.id == items[2]["id"])
            .values(status="declined", decline_code="declined_by_review")
        )
    worker.drain(20)
    items = refresh(w, auth, sub)
    # the reviewer's approval replaces the first-sale hold: approved items are paid now
    assert [i["status"] for i in items] == ["paid", "paid", "declined"]
    assert len(w.issuer.redemptions) == 2
    assert w.bank.paid_to("004", "52000000000001") == 2 * 90_000


def test_a_large_first_sale_is_held_then_paid(world: World):
    w = world
    auth = signup(w, "010-5250-0001")
    account = add_account(w, auth, "52500000000001")
    w.issuer.sell(
        "cultureland",
        "4180525000000001",
        80_000,
        purchased_at=datetime.now(UTC) - timedelta(days=2),
    )
    sub = submit(w, auth, account, [item("4180525000000001", 80_000)])
    worker = Worker(w.deps)
    worker.drain(20)
    (it,) = refresh(w, auth, sub)
    assert it["status"] == "redeemed" and it["hold_until"] is not None

    class Tomorrow:
        def now(self):
            return datetime.now(UTC) + timedelta(hours=25)

    real_clock, w.deps.clock = w.deps.clock, Tomorrow()
    worker.drain(20)
    w.deps.clock = real_clock  # (the customer's token lives an hour)
    assert [i["status"] for i in refresh(w, auth, sub)] == ["paid"]
    assert w.bank.paid_to("004", "52500000000001") == 72_000


def test_small_first_sale_is_neither_held_nor_reviewed(world: World):
    w = world
    auth = signup(w, "010-5300-0001")
    account = add_account(w, auth, "53000000000001")
    w.issuer.sell(
        "cultureland",
        "4180530000000001",
        50_000,
        purchased_at=datetime.now(UTC) - timedelta(minutes=5),
    )
    sub = submit(w, auth, account, [item("4180530000000001", 50_000)])
    Worker(w.deps).drain(20)
    assert [i["status"] for i in refresh(w, auth, sub)] == ["paid"]


def test_used_code_is_declined_before_redemption_and_counts_as_a_failure(world: World):
    w = world
    auth = signup(w, "010-5400-0001")
    account = add_account(w, auth, "54000000000001")
    sub = submit(w, auth, account, [item("4180540000000001", 10_000)])  # never sold
    Worker(w.deps).drain(20)
    (it,) = refresh(w, auth, sub)
    assert it["status"] == "declined" and it["decline"]["code"] == "voucher_not_found"
    assert w.count(t.failed_attempts) == 1


def test_quotes_show_the_true_price_and_the_law(world: World):
    w = world
    body = {
        "brand_id": "cultureland",
        "face_value": 50_000,
        "funding_source": "carrier_billing",
        "purchased_at": datetime.now(UTC).isoformat(),
    }
    kr = w.client.post("/v1/quotes", json=body).json()
    assert kr["declined"]["code"] == "carrier_billing_prohibited"
    assert kr["fee"] == 5_000 and kr["payout"] == 45_000
    assert kr["annualized_cost_bps"] > 10_000  # over 100% a year: the true price of this cash
    kr_routes = {r["route"] for r in kr["routes"]}
    assert "cancel_payment" in kr_routes and "sell_here" not in kr_routes

    us = w.client.post("/v1/quotes", json={**body, "jurisdiction": "US"}).json()
    assert us["declined"] is None and us["jurisdiction"] == "US"
    assert us["annualized_cost_bps"] == kr["annualized_cost_bps"]
    assert "sell_here" in {r["route"] for r in us["routes"]}

    cash = w.client.post("/v1/quotes", json={**body, "funding_source": "cash"}).json()
    assert cash["declined"] is None and cash["annualized_cost_bps"] is None
