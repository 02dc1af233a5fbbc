"""Buying over the v1 API (resale, issue 15), on SQLite and PostgreSQL, with the bank's
virtual accounts in memory (``FakeVirtualAccounts``): a buyer with a verified identity
sees the offers, orders under an Idempotency-Key (a replay answers the first answer: one
order, one virtual account), pays by transfer and the bank's notification pays the order;
another customer's order is 404; a forged notification is 401 and changes nothing; an
order over the buyer's limit or the stock is refused with nothing reserved; the bank down
while issuing leaves the order reserved and a retry with the same key finishes it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from apiworld import PASSWORD, LaterClock, World, signup
from appcache import app_for
from fakes import FakeBank, FakeIdentity, FakeIssuer, FakeSms, FakeVirtualAccounts
from giftcash.adapters.db import tables as t
from giftcash.bootstrap import build_deps
from giftcash.config import Settings
from giftcash.identity import operators
from resale_seed import ensure_seller

BRAND = "kyobo_gift"  # resold (market.toml), 90%: the default pricing takes 5% off
FACE = 10_000
PRICE = 9_500  # 30+ days before expiry: half the 10% fee off


@pytest.fixture
def buyers(engine, tmp_path):
    """The API world with an identity provider (every buyer verified) and the bank's
    virtual accounts; the buyer limits 1,000,000 a day, 40,000 a month."""
    issuer, bank, sms, identity = FakeIssuer(), FakeBank(), FakeSms(), FakeIdentity()
    accounts = FakeVirtualAccounts(clock=LaterClock(0))  # type: ignore[arg-type]
    settings = Settings(data_dir=tmp_path, database_url=str(engine.url), buyer_max_month_won=40_000)
    deps = build_deps(
        settings,
        engine=engine,
        issuer=issuer,
        bank=bank,
        sms=sms,
        identity=identity,
        virtual_accounts=accounts,
        fast_passwords=True,
    )
    with TestClient(app_for(deps)) as client:
        w = World(client, deps, issuer, bank, sms, engine, accounts)
        w.identity = identity  # type: ignore[attr-defined]
        yield w


def verified_buyer(w: World, phone: str, name: str = "홍길동") -> dict:
    digits = phone.replace("-", "")
    w.identity.person(digits, name=name, birth_date=date(1990, 1, 2), ci=f"ci-{digits}")
    r = w.client.post(
        "/v1/signup",
        json={"phone": phone, "name": name, "birth_date": "1990-01-02", "password": PASSWORD},
    )
    assert r.status_code == 201, r.text
    w.identity.confirm(digits)
    r = w.client.post("/v1/signup/identity", json={"phone": phone})
    assert r.status_code == 200, r.text
    r = w.client.post("/v1/tokens", json={"phone": phone, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def stock(w: World, units: int, days: int = 365, face: int = FACE) -> None:
    """``units`` stocked vouchers of a seller (rows as the seller's side leaves them)."""
    now = datetime.now(UTC)
    with w.engine.begin() as conn:
        ensure_seller(conn, now)
        base = conn.execute(select(t.inventory_units.c.id)).all()
        for n in range(len(base), len(base) + units):
            conn.execute(
                insert(t.items).values(
                    id=f"i-{n}", submission_id="seller-s", customer_id="seller",
                    brand_id=BRAND, issuer="kyobo", currency="KRW", face_value=face,
                    fee=face // 10, payout=face - face // 10, funding_source="cash",
                    status="stocked", code_enc=b"x", key_id="k", code_hmac=f"{n:064}",
                    masked_code="****", created_at=now, updated_at=now,
                )
            )  # fmt: skip
            conn.execute(
                insert(t.inventory_units).values(
                    id=f"u-{n}", item_id=f"i-{n}", brand_id=BRAND, currency="KRW",
                    face_value=face, cost=face - face // 10,
                    expires_at=now + timedelta(days=days), status="stocked",
                    created_at=now, updated_at=now,
                )
            )  # fmt: skip


def statuses(w: World) -> list[str]:
    with w.engine.connect() as conn:
        return sorted(conn.execute(select(t.inventory_units.c.status)).scalars())


def order(w: World, auth: dict, key: str, quantity: int = 1, face: int = FACE):
    return w.client.post(
        "/v1/orders",
        headers={**auth, "Idempotency-Key": key},
        json={"brand_id": BRAND, "face_value": face, "quantity": quantity},
    )


def problem(r, status: int) -> str:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()["code"]


def test_a_verified_buyer_orders_replays_and_pays_by_the_banks_notification(buyers):
    w, bank = buyers, buyers.virtual_accounts
    stock(w, 3)
    stock(w, 1, days=3)  # too close to expiry: not on offer
    offers = w.client.get("/v1/offers").json()["data"]  # no token needed
    assert offers == [
        {
            "brand_id": BRAND,
            "brand_name": "Kyobo Book Centre gift card",
            "currency": "KRW",
            "face_value": FACE,
            "price": PRICE,
            "discount_bps": 500,
            "expires_before": offers[0]["expires_before"],
            "in_stock": 3,
        }
    ]
    buyer = verified_buyer(w, "010-7100-0001")

    first = order(w, buyer, "order-1", quantity=2)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["status"] == "awaiting_payment"
    assert body["amount"] == 2 * PRICE
    assert body["virtual_account"]["bank_code"] == "004"
    number = body["virtual_account"]["account_number"]
    assert [u["face_value"] for u in body["units"]] == [FACE, FACE]
    # no code or PIN: the unit's id (what a claim names) and its state
    unit_fields = {"id", "brand_id", "face_value", "expires_at", "state"}
    assert all(set(u) == unit_fields and u["state"] == "reserved" for u in body["units"])
    assert body["claims"] == []
    assert datetime.fromisoformat(body["deadline"]) > datetime.now(UTC)

    again = order(w, buyer, "order-1", quantity=2)
    assert again.status_code == 201 and again.json() == body
    assert again.headers.get("idempotent-replayed") == "true"
    assert w.count(t.orders) == 1 and len(bank.accounts) == 1
    assert problem(order(w, buyer, "order-1", quantity=1), 409) == "idempotency_key_reused"
    assert statuses(w) == ["reserved", "reserved", "stocked", "stocked"]
    assert w.client.get("/v1/offers").json()["data"][0]["in_stock"] == 1

    # only the buyer sees it
    other = verified_buyer(w, "010-7100-0002", name="김철수")
    theirs = w.client.get(f"/v1/orders/{body['id']}", headers=other)
    nowhere = w.client.get("/v1/orders/ord_nothing", headers=other)
    assert problem(theirs, 404) == problem(nowhere, 404) == "order_not_found"
    assert theirs.json()["detail"] == nowhere.json()["detail"]
    assert w.client.get("/v1/orders", headers=other).json()["data"] == []
    mine = w.client.get("/v1/orders", headers=buyer).json()
    assert [o["id"] for o in mine["data"]] == [body["id"]] and mine["next_cursor"] is None

    # the buyer transfers the exact amount in their own name; a forged notice first
    notice = bank.pay(number, 2 * PRICE, "홍길동")
    bank.forged = True
    forged = w.client.post("/v1/bank/notifications", content=notice.deposit.deposit_id)
    assert problem(forged, 401) == "invalid_notification"
    assert w.count(t.order_deposits) == 0
    assert w.client.get(f"/v1/orders/{body['id']}", headers=buyer).json()["status"] == (
        "awaiting_payment"
    )
    garbage = w.client.post("/v1/bank/notifications", content=b"\xff not a notice")
    assert problem(garbage, 401) == "invalid_notification"

    taken = w.client.post("/v1/bank/notifications", content=notice.deposit.deposit_id)
    assert taken.status_code == 200 and taken.json() == {"status": "taken", "kept": True}
    repeat = w.client.post("/v1/bank/notifications", content=notice.deposit.deposit_id)
    assert repeat.status_code == 200 and repeat.json() == {"status": "seen", "kept": False}
    paid = w.client.get(f"/v1/orders/{body['id']}", headers=buyer).json()
    assert paid["status"] == "paid"
    assert [(d["amount"], d["state"], d["return_reason"]) for d in paid["deposits"]] == [
        (2 * PRICE, "matched", None)
    ]
    assert "홍길동" not in str(paid["deposits"])  # no payer details beyond the amount
    assert w.count(t.order_deposits) == 1

    # a second deposit (another name) is queued for its return, the order stays paid
    stranger = bank.pay(number, 2 * PRICE, "김사기")
    r = w.client.post("/v1/bank/notifications", content=stranger.deposit.deposit_id)
    assert r.status_code == 200 and r.json() == {"status": "taken", "kept": False}
    paid = w.client.get(f"/v1/orders/{body['id']}", headers=buyer).json()
    assert [(d["state"], d["return_reason"]) for d in paid["deposits"]] == [
        ("matched", None),
        ("returning", "other_name"),
    ]


def test_over_the_limit_or_the_stock_nothing_is_reserved(buyers):
    w, bank = buyers, buyers.virtual_accounts
    stock(w, 3)
    buyer = verified_buyer(w, "010-7200-0001")
    # 40,000 a month: four units (38,000) fit, five (47,500) do not
    assert problem(order(w, buyer, "big", quantity=5), 403) == "buyer_limit_exceeded"
    assert statuses(w) == ["stocked"] * 3
    assert w.count(t.orders) == 0 and bank.accounts == {}

    other = verified_buyer(w, "010-7200-0002", name="김철수")
    assert problem(order(w, other, "all", quantity=4), 409) == "out_of_stock"
    assert statuses(w) == ["stocked"] * 3
    assert w.count(t.orders) == 0 and bank.accounts == {}

    assert order(w, buyer, "two", quantity=2).status_code == 201
    # the month's 19,000 ordered: three more (28,500) are over 40,000
    assert problem(order(w, buyer, "more", quantity=3), 403) == "buyer_limit_exceeded"
    assert statuses(w) == ["reserved", "reserved", "stocked"]

    # a face value not in stock, a brand not sold
    assert problem(order(w, other, "face", face=50_000), 409) == "out_of_stock"
    r = w.client.post(
        "/v1/orders",
        headers={**other, "Idempotency-Key": "redeem-brand"},
        json={"brand_id": "cultureland", "face_value": FACE, "quantity": 1},
    )
    assert problem(r, 422) == "not_for_sale"
    r = w.client.post(
        "/v1/orders", headers=other, json={"brand_id": BRAND, "face_value": FACE, "quantity": 1}
    )
    assert problem(r, 422) == "idempotency_key_required"
    assert w.count(t.orders) == 1


def test_the_bank_down_leaves_the_order_reserved_and_the_same_key_finishes_it(buyers):
    w, bank = buyers, buyers.virtual_accounts
    stock(w, 1)
    buyer = verified_buyer(w, "010-7300-0001")
    bank.down = True
    r = order(w, buyer, "k-1")
    assert problem(r, 503) == "virtual_account_pending"
    assert statuses(w) == ["reserved"] and w.count(t.orders) == 1
    assert problem(order(w, buyer, "k-1"), 503) == "virtual_account_pending"
    assert w.count(t.orders) == 1  # the retry found the same order

    bank.down = False
    done = order(w, buyer, "k-1")
    assert done.status_code == 201, done.text
    assert done.json()["virtual_account"]["account_number"] in bank.accounts
    assert w.count(t.orders) == 1 and len(bank.accounts) == 1 and statuses(w) == ["reserved"]
    assert order(w, buyer, "k-1").json() == done.json()

    # no bank for virtual accounts at all: nothing is ordered, notices are not taken
    w.deps.virtual_accounts = None
    try:
        assert problem(order(w, buyer, "k-2"), 503) == "resale_unavailable"
        r = w.client.post("/v1/bank/notifications", content=b"x")
        assert problem(r, 503) == "resale_unavailable"
    finally:
        w.deps.virtual_accounts = bank
    assert w.count(t.orders) == 1


def test_a_customer_without_a_verified_identity_cannot_buy(world):
    w = world
    stock(w, 1)
    auth = signup(w, "010-7400-0001")  # an SMS-verified phone, no 본인인증
    assert problem(order(w, auth, "k"), 403) == "identity_required"
    assert statuses(w) == ["stocked"] and w.count(t.orders) == 0


def _admin(w: World) -> dict:
    secret = pyotp.random_base32()
    operators.create_operator(
        w.deps, username="pricing-admin", password="operator password 1", role="admin",
        totp_secret=secret,
    )  # fmt: skip
    r = w.client.post(
        "/v1/admin/tokens",
        json={
            "username": "pricing-admin",
            "password": "operator password 1",
            "totp": pyotp.TOTP(secret).now(),
        },
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_the_operator_sets_a_brands_resale_pricing_and_bad_pricing_is_refused(world):
    w = world
    stock(w, 1, days=20)  # 7 to 29 days left: the default's 7.5%
    assert w.client.get("/v1/offers").json()["data"][0]["price"] == 9_250
    admin = _admin(w)
    path = f"/v1/admin/brands/{BRAND}"
    good = {"min_days_left": 10, "bands": [{"min_days_left": 60, "discount_bps": 300},
                                           {"min_days_left": 10, "discount_bps": 400}]}  # fmt: skip
    r = w.client.patch(path, headers=admin, json={"resale_pricing": good})
    assert r.status_code == 200, r.text
    assert r.json()["resale_pricing"] == good
    assert r.json()["default_resale_pricing"]["bands"][0] == {
        "min_days_left": 30,
        "discount_bps": 500,
    }
    assert w.client.get("/v1/offers").json()["data"][0]["price"] == 9_600

    with w.engine.connect() as conn:
        audits = conn.execute(
            select(t.audit_log.c.action).where(t.audit_log.c.subject == f"brand:{BRAND}")
        ).scalars()
        assert list(audits) == ["brand.update"]
        before = conn.execute(select(t.brand_overrides)).mappings().all()

    bad = [
        {"min_days_left": 10, "bands": [{"min_days_left": 10, "discount_bps": 400},
                                        {"min_days_left": 60, "discount_bps": 300}]},
        {"min_days_left": 10, "bands": [{"min_days_left": 60, "discount_bps": 500},
                                        {"min_days_left": 10, "discount_bps": 400}]},
        {"min_days_left": 10, "bands": [{"min_days_left": 10, "discount_bps": 10_000}]},
        {"min_days_left": 5, "bands": [{"min_days_left": 10, "discount_bps": 100}]},
        {"min_days_left": 5, "bands": []},
    ]  # fmt: skip
    for pricing in bad:
        r = w.client.patch(path, headers=admin, json={"resale_pricing": pricing})
        assert problem(r, 422) == "invalid_resale_pricing", pricing
    r = w.client.patch("/v1/admin/brands/cultureland", headers=admin, json={"resale_pricing": good})
    assert problem(r, 422) == "invalid_resale_pricing"
    with w.engine.connect() as conn:
        assert conn.execute(select(t.brand_overrides)).mappings().all() == before
    assert w.client.get("/v1/offers").json()["data"][0]["price"] == 9_600

    # null restores the catalogue's
    r = w.client.patch(path, headers=admin, json={"resale_pricing": None})
    assert r.status_code == 200 and r.json()["resale_pricing"] == r.json()["default_resale_pricing"]
    assert w.client.get("/v1/offers").json()["data"][0]["price"] == 9_250


def test_the_operator_switches_a_brands_disposition_and_a_brand_with_stock_stays_resold(world):
    """A brand the catalogue redeems is resold once the operator says so (priced from its
    fee: Cultureland at 90%, 5% off); a resold brand with stock is not switched back (409
    brand_has_stock, audited as refused, nothing changed); without stock it is, and its
    prices are gone with it."""
    w = world
    admin = _admin(w)
    r = w.client.patch(
        "/v1/admin/brands/cultureland", headers=admin, json={"disposition": "resell"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["disposition"] == "resell"
    assert body["resale_pricing"]["bands"][0] == {"min_days_left": 30, "discount_bps": 500}

    stock(w, 1)
    r = w.client.patch(f"/v1/admin/brands/{BRAND}", headers=admin, json={"disposition": "redeem"})
    assert problem(r, 409) == "brand_has_stock"
    listed = w.client.get("/v1/admin/brands", headers=admin).json()["data"]
    assert {b["id"]: b["disposition"] for b in listed}[BRAND] == "resell"
    assert [o["brand_id"] for o in w.client.get("/v1/offers").json()["data"]] == [BRAND]
    with w.engine.connect() as conn:
        rows = conn.execute(
            select(t.audit_log.c.subject, t.audit_log.c.detail)
            .where(t.audit_log.c.action == "brand.update")
            .order_by(t.audit_log.c.seq)
        ).all()
    assert [(s, d.get("outcome")) for s, d in rows] == [
        ("brand:cultureland", "done"),
        (f"brand:{BRAND}", "refused"),
    ]

    # Cultureland has no stock: back to being redeemed, no prices, nothing offered
    r = w.client.patch("/v1/admin/brands/cultureland", headers=admin, json={"disposition": None})
    assert r.status_code == 200 and r.json()["disposition"] == "redeem", r.text
    assert r.json()["resale_pricing"] is None
    r = w.client.patch("/v1/admin/brands/cultureland", headers=admin, json={"disposition": "sell"})
    assert r.status_code == 422
