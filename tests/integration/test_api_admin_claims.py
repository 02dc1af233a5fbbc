"""Claims in review over the admin API (``GET /v1/admin/claims``, ``POST
/v1/admin/claims/{id}/resolve``), on SQLite and PostgreSQL: finance lists the claims
waiting and refunds one (the buyer's claim shows it refunded, the seller owes, is held);
a repeat answers the first outcome; a reviewer is 403; a claim the issuer settled is 409;
an unknown one is 404; a bad decision or state is 422."""

from __future__ import annotations

import pyotp
from sqlalchemy import select
from test_api_claims import bought, claim, with_codes
from test_api_orders import buyers, problem, verified_buyer

from giftcash.adapters.db import ledger_check
from giftcash.adapters.db import tables as t
from giftcash.identity import operators

__all__ = ["buyers"]  # the fixture, imported for pytest


def operator(w, username: str, role: str) -> dict:
    secret, password = pyotp.random_base32(), "operator password 1"
    operators.create_operator(
        w.deps, username=username, password=password, role=role, totp_secret=secret
    )
    r = w.client.post(
        "/v1/admin/tokens",
        json={"username": username, "password": password, "totp": pyotp.TOTP(secret).now()},
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def resolve(w, auth: dict, claim_id: str, decision: str, note: str = "checked with the shop"):
    return w.client.post(
        f"/v1/admin/claims/{claim_id}/resolve",
        headers=auth,
        json={"decision": decision, "note": note},
    )


def test_finance_lists_and_settles_a_claim_in_review_once(buyers):
    w = buyers
    with_codes(w, 2)
    buyer = verified_buyer(w, "010-7600-0001")
    order_id, unit_id, _ = bought(w, buyer, "o-1")
    filed = claim(w, buyer, order_id, unit_id, key="c-1")
    assert filed.status_code == 201 and filed.json()["state"] == "review"  # unspent
    claim_id = filed.json()["id"]
    finance, reviewer = operator(w, "fin", "finance"), operator(w, "rev", "reviewer")

    listed = w.client.get("/v1/admin/claims?status=review", headers=finance)
    assert listed.status_code == 200
    assert [(c["id"], c["state"], c["unit_id"]) for c in listed.json()["data"]] == [
        (claim_id, "review", unit_id)
    ]
    assert listed.json()["next_cursor"] is None
    bad = w.client.get("/v1/admin/claims?status=open", headers=finance)
    assert problem(bad, 422) == "invalid_input"

    assert problem(resolve(w, reviewer, claim_id, "refund"), 403) == "forbidden_role"
    assert problem(resolve(w, finance, claim_id, "maybe"), 422)
    assert problem(resolve(w, finance, "no-such-claim", "refund"), 404) == "claim_not_found"

    done = resolve(w, finance, claim_id, "refund")
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["state"], body["refund"], body["resolved_by"]) == (
        "refunded",
        "deposit_return",
        "operator:fin",
    )
    again = resolve(w, finance, claim_id, "refuse", "second thoughts")
    assert again.status_code == 200 and again.json() == body

    shown = w.client.get(f"/v1/orders/{order_id}", headers=buyer).json()
    assert [u["state"] for u in shown["units"]] == ["refunded"]
    assert w.client.get("/v1/admin/claims?status=review", headers=finance).json()["data"] == []
    with w.engine.connect() as conn:
        kinds = conn.execute(select(t.ledger_transfers.c.kind)).scalars().all()
        blocked = conn.execute(select(t.blocks.c.subject)).scalars().all()
        assert ledger_check.check(conn) == []
    assert kinds.count("claim_refund") == kinds.count("resale_clawback") == 1
    assert len(blocked) == 1


def test_a_claim_the_issuer_settled_is_not_resolved(buyers):
    from datetime import UTC, datetime, timedelta

    w = buyers
    codes = with_codes(w, 1)
    buyer = verified_buyer(w, "010-7600-0002")
    order_id, unit_id, item_id = bought(w, buyer, "o-2")
    w.issuer.spend(codes[item_id], datetime.now(UTC) + timedelta(minutes=1), "CU")
    filed = claim(w, buyer, order_id, unit_id, key="c-2").json()
    assert filed["state"] == "refused"
    finance = operator(w, "fin", "finance")
    r = resolve(w, finance, filed["id"], "refund")
    assert problem(r, 409) == "claim_not_in_review"
    with w.engine.connect() as conn:
        assert conn.scalar(select(t.claims.c.status)) == "refused"
