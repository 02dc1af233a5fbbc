"""The buyer's guarantee over the v1 API (``POST /v1/orders/{id}/claims``), on SQLite and
PostgreSQL: a delivered unit spent before delivery is refunded (201, a replay the same
answer, another key the same claim with 200, the order showing it); one spent after is
refused with the issuer's evidence; another's order is 404 with or without a key;
undelivered, unknown units and a closed window are refused with their codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from test_api_orders import FACE, PRICE, buyers, order, problem, stock, verified_buyer

from apiworld import World
from giftcash.adapters.db import tables as t
from giftcash.resale import delivery

__all__ = ["buyers"]  # the fixture, imported for pytest

SHOP = "CU 강남역점"


def with_codes(w: World, units: int) -> dict[str, str]:
    """``units`` stocked vouchers whose codes the issuer knows; item id -> code."""
    stock(w, units)
    codes: dict[str, str] = {}
    with w.engine.begin() as conn:
        for item_id in conn.execute(select(t.items.c.id)).scalars():
            code = f"6107{int(item_id[2:]):012}"
            enc, key = w.deps.vault.encrypt(code, item_id)
            conn.execute(
                update(t.items).where(t.items.c.id == item_id).values(code_enc=enc, key_id=key)
            )
            w.issuer.sell("kyobo", code, FACE, expires_at=datetime.now(UTC) + timedelta(days=365))
            codes[item_id] = code
    return codes


def bought(w: World, auth: dict, key: str) -> tuple[str, str, str]:
    """One unit ordered, paid and delivered: (order id, unit id, its item id)."""
    body = order(w, auth, key).json()
    bank = w.virtual_accounts
    notice = bank.pay(body["virtual_account"]["account_number"], PRICE, "홍길동")
    taken = w.client.post("/v1/bank/notifications", content=notice.deposit.deposit_id)
    assert taken.json() == {"status": "taken", "kept": True}
    assert delivery.deliver_order(w.deps, "w1", body["id"])
    with w.engine.connect() as conn:
        unit_id, item_id = conn.execute(
            select(t.inventory_units.c.id, t.inventory_units.c.item_id).where(
                t.inventory_units.c.order_id == body["id"]
            )
        ).one()
    return body["id"], unit_id, item_id


def claim(w: World, auth: dict, order_id: str, unit_id: str, key: str | None = "k"):
    headers = {**auth, **({"Idempotency-Key": key} if key else {})}
    return w.client.post(
        f"/v1/orders/{order_id}/claims", headers=headers, json={"unit_id": unit_id}
    )


def test_spent_before_delivery_is_refunded_and_shown_on_the_order(buyers):
    w = buyers
    codes = with_codes(w, 2)
    buyer = verified_buyer(w, "010-7500-0001")
    order_id, unit_id, item_id = bought(w, buyer, "o-1")
    shown = w.client.get(f"/v1/orders/{order_id}", headers=buyer).json()
    assert [(u["id"], u["state"]) for u in shown["units"]] == [(unit_id, "delivered")]

    assert problem(claim(w, buyer, order_id, unit_id, key=None), 422) == (
        "idempotency_key_required"
    )
    other = verified_buyer(w, "010-7500-0002", name="김철수")
    assert problem(claim(w, other, order_id, unit_id, key=None), 404) == "order_not_found"
    assert problem(claim(w, other, order_id, unit_id), 404) == "order_not_found"
    assert problem(claim(w, buyer, order_id, "u-none", key="x"), 404) == "unit_not_found"

    w.issuer.spend(codes[item_id], datetime.now(UTC) - timedelta(hours=1), SHOP)
    first = claim(w, buyer, order_id, unit_id, key="claim-1")
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["state"], body["refund"], body["amount"]) == ("refunded", "deposit_return", PRICE)
    assert body["evidence"]["issuer_status"] == "used"
    assert body["evidence"]["used_where"] == SHOP
    replay = claim(w, buyer, order_id, unit_id, key="claim-1")
    assert replay.status_code == 201 and replay.json() == body
    assert replay.headers.get("idempotent-replayed") == "true"
    again = claim(w, buyer, order_id, unit_id, key="claim-2")
    assert again.status_code == 200 and again.json() == body
    assert w.count(t.claims) == 1

    after = w.client.get(f"/v1/orders/{order_id}", headers=buyer).json()
    assert after["status"] == "delivered"
    assert after["claims"] == [body]
    assert [u["state"] for u in after["units"]] == ["refunded"]
    assert [(d["state"], d["return_reason"]) for d in after["deposits"]] == [
        ("returning", "claim_refunded")
    ]
    assert codes[item_id] not in first.text and codes[item_id] not in str(after)


def test_spent_after_delivery_is_refused_with_evidence_and_the_window_closes(buyers):
    w = buyers
    codes = with_codes(w, 3)
    buyer = verified_buyer(w, "010-7600-0001")
    order_id, unit_id, item_id = bought(w, buyer, "o-1")
    w.issuer.spend(codes[item_id], datetime.now(UTC) + timedelta(minutes=5), SHOP)
    r = claim(w, buyer, order_id, unit_id)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["state"], body["refund"]) == ("refused", None)
    assert body["evidence"]["used_where"] == SHOP and body["evidence"]["used_at"] is not None
    assert (
        w.client.get(f"/v1/orders/{order_id}", headers=buyer).json()["deposits"][0]["state"]
        == "matched"
    )

    # paid, not yet delivered
    pending = order(w, buyer, "o-2").json()
    with w.engine.connect() as conn:
        reserved = conn.execute(
            select(t.inventory_units.c.id).where(t.inventory_units.c.order_id == pending["id"])
        ).scalar_one()
    assert problem(claim(w, buyer, pending["id"], reserved, key="k2"), 409) == "not_delivered"

    # delivered 31 days ago: past the 30-day guarantee
    late_id, late_unit, _ = bought(w, buyer, "o-3")
    with w.engine.begin() as conn:
        conn.execute(
            update(t.orders)
            .where(t.orders.c.id == late_id)
            .values(delivered_at=datetime.now(UTC) - timedelta(days=31))
        )
    assert problem(claim(w, buyer, late_id, late_unit, key="k3"), 409) == "claim_window_closed"
    assert w.count(t.claims) == 1
