"""Finance reads payouts (filtered by status, paged) and one payout with its items; and
the audit log page by page. SQLite and PostgreSQL."""

from __future__ import annotations

import test_admin_world
from test_admin_world import World, customer, item, submit

from giftcash.entrypoints.worker import Worker

world = test_admin_world.world  # the shared fixture


def test_finance_lists_and_reads_payouts(world: World):
    w = world
    fin = w.operator("fin", "finance")
    payout_ids = []
    for n in range(3):
        auth, account = customer(w, f"010-8000-000{n}", f"8000000000000{n}", name=f"고객{n}")
        code = f"41800000000004{n:02d}"
        w.issuer.sell("cultureland", code, 10_000)
        submit(w, auth, account, item(code, 10_000))
        Worker(w.deps).drain(20)
        payout_ids.append(w.client.get("/v1/payouts", headers=auth).json()["data"][0]["id"])

    r = w.client.get("/v1/admin/payouts?status=confirmed&limit=2", headers=fin)
    assert r.status_code == 200, r.text
    page = r.json()
    assert [p["id"] for p in page["data"]] == payout_ids[::-1][:2]  # newest first
    rest = w.client.get(
        f"/v1/admin/payouts?status=confirmed&cursor={page['next_cursor']}", headers=fin
    )
    assert [p["id"] for p in rest.json()["data"]] == payout_ids[:1]
    assert rest.json()["next_cursor"] is None
    assert w.client.get("/v1/admin/payouts?status=returned", headers=fin).json()["data"] == []
    bad = w.client.get("/v1/admin/payouts?status=lost", headers=fin)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_input"

    one = w.client.get(f"/v1/admin/payouts/{payout_ids[0]}", headers=fin).json()
    assert one["status"] == "confirmed" and one["amount"] == 9_000
    assert len(one["item_ids"]) == 1 and one["customer_id"] and one["failure_code"] is None
    missing = w.client.get("/v1/admin/payouts/nope", headers=fin)
    assert missing.status_code == 404 and missing.json()["code"] == "payout_not_found"


def test_the_audit_log_pages_newest_first_and_says_whether_it_verifies(world: World):
    w = world
    fin = w.operator("fin", "finance")
    adm = w.operator("adm", "admin")
    for cap in (1, 2, 3):
        w.client.patch("/v1/admin/issuers/google", json={"exposure_cap": cap}, headers=adm)
    first = w.client.get("/v1/admin/audit?limit=2", headers=fin).json()
    assert first["verified"] is True
    seqs = [r["seq"] for r in first["data"]]
    assert seqs == [first["head"]["seq"], first["head"]["seq"] - 1]
    assert first["data"][0]["hash"] == first["head"]["hash"]
    assert first["data"][0]["prev_hash"] == first["data"][1]["hash"]
    assert first["data"][0]["detail"]["changes"] == {"exposure_cap": 3}
    seen = list(seqs)
    cursor = first["next_cursor"]
    while cursor:
        page = w.client.get(f"/v1/admin/audit?limit=2&cursor={cursor}", headers=fin).json()
        seen += [r["seq"] for r in page["data"]]
        cursor = page["next_cursor"]
    assert seen == list(range(first["head"]["seq"], 0, -1))
    bad = w.client.get("/v1/admin/audit?cursor=abc", headers=fin)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_input"
