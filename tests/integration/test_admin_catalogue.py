"""Brands and issuers: rate, on/off and exposure cap overrides, and the issuer kill switch,
which the live catalogue (quotes, intake, GET /v1/brands) obeys at once. SQLite and
PostgreSQL."""

from __future__ import annotations

import test_admin_world
from test_admin_world import World, customer, item, submit

from giftcash.adapters.db import tables as t
from giftcash.catalogue import live as catalogue
from giftcash.domain.policy import ItemFacts, Stage, evaluate

world = test_admin_world.world  # the shared fixture


def _brand(w: World, brand_id: str) -> dict:
    listed = w.client.get("/v1/brands").json()["data"]
    return next(b for b in listed if b["id"] == brand_id)


def _quote(w: World, brand_id: str, face: int) -> dict:
    r = w.client.post(
        "/v1/quotes", json={"brand_id": brand_id, "face_value": face, "funding_source": "cash"}
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_the_kill_switch_declines_new_submissions_of_that_issuer(world: World):
    w = world
    adm = w.operator("adm", "admin")
    auth, account = customer(w, "010-7000-0001", "70000000000001")
    r = w.client.patch("/v1/admin/issuers/cultureland", json={"enabled": False}, headers=adm)
    assert r.status_code == 200, r.text
    assert r.json()["enabled"] is False and r.json()["brands"] == ["cultureland"]
    assert _brand(w, "cultureland")["enabled"] is False
    assert _brand(w, "munhwa")["enabled"] is True
    assert _quote(w, "cultureland", 10_000)["declined"]["code"] == "issuer_disabled"

    sub = submit(
        w,
        auth,
        account,
        item("4180000000000201", 10_000),
        item("200000000000000201", 10_000, brand="munhwa"),
    )
    assert [(i["status"], (i["decline"] or {}).get("code")) for i in sub["items"]] == [
        ("declined", "issuer_disabled"),
        ("received", None),
    ]
    # a "not now" decline does not register the code: once switched back on, it sells
    r = w.client.patch("/v1/admin/issuers/cultureland", json={"enabled": None}, headers=adm)
    assert r.status_code == 200 and r.json()["enabled"] is True
    again = submit(w, auth, account, item("4180000000000201", 10_000))
    assert again["items"][0]["status"] == "received"
    assert _quote(w, "cultureland", 10_000)["declined"] is None

    changes = [x.detail for x in w.audit_rows("issuer.update")]
    assert [(c["changes"], c["before"], c["outcome"]) for c in changes] == [
        ({"enabled": False}, {"enabled": None}, "done"),
        ({"enabled": None}, {"enabled": False}, "done"),
    ]


def test_the_kill_switch_reaches_the_rule_set(world: World):
    """The engine declines a killed issuer's item ``issuer_disabled`` (not
    ``brand_disabled``): the switch reaches it as a threshold, not as a brand switched off."""
    w = world
    adm = w.operator("adm", "admin")
    r = w.client.patch(
        "/v1/admin/issuers/cultureland", json={"enabled": False, "exposure_cap": 0}, headers=adm
    )
    assert r.status_code == 200, r.text
    rules = catalogue.current_rules(w.deps)
    assert "cultureland" in rules.params.disabled_issuers
    assert rules.params.exposure_cap("cultureland") == 0
    live = catalogue.live_catalogue(w.deps)
    assert live.brands["cultureland"].enabled is True  # its own switch is on
    assert catalogue.current_brands(w.deps)["cultureland"].enabled is False  # as shown
    d = evaluate(
        rules,
        ItemFacts(live.brands["cultureland"], 10_000, "cash"),
        now=w.clock.now(),
        stage=Stage.PRE_REDEEM,
    )
    assert d.declined and d.code == "issuer_disabled"


def test_a_brand_rate_override_prices_quotes_and_intake(world: World):
    w = world
    adm = w.operator("adm", "admin")
    assert _quote(w, "cultureland", 100_000)["payout"] == 90_000
    r = w.client.patch(
        "/v1/admin/brands/cultureland",
        json={"buyback_rate_bps": 8_500, "exposure_cap": 1_000_000},
        headers=adm,
    )
    assert r.status_code == 200, r.text
    b = r.json()
    assert (b["buyback_rate_bps"], b["default_buyback_rate_bps"], b["exposure_cap"]) == (
        8_500,
        9_000,
        1_000_000,
    )
    assert b["updated_by"] == "operator:adm"
    assert _quote(w, "cultureland", 100_000)["payout"] == 85_000
    assert _brand(w, "cultureland")["buyback_rate_bps"] == 8_500
    auth, account = customer(w, "010-7000-0002", "70000000000002")
    sub = submit(w, auth, account, item("4180000000000301", 100_000))
    assert sub["items"][0]["payout"] == 85_000

    listed = w.client.get("/v1/admin/brands", headers=adm).json()["data"]
    assert {x["id"] for x in listed} >= {"cultureland", "happymoney"}
    assert next(x for x in listed if x["id"] == "happymoney")["enabled"] is False  # by default

    r = w.client.patch("/v1/admin/brands/cultureland", json={"buyback_rate_bps": None}, headers=adm)
    assert r.json()["buyback_rate_bps"] == 9_000 and r.json()["exposure_cap"] == 1_000_000


def test_bad_brand_and_issuer_changes_are_refused_audited_and_change_nothing(world: World):
    w = world
    adm = w.operator("adm", "admin")
    for body in (
        {"buyback_rate_bps": 0},
        {"buyback_rate_bps": 10_001},
        {"buyback_rate_bps": -5},
        {"exposure_cap": -1},
        {},
    ):
        r = w.client.patch("/v1/admin/brands/cultureland", json=body, headers=adm)
        assert r.status_code == 422 and r.json()["code"] == "invalid_input", (body, r.text)
    r = w.client.patch(
        "/v1/admin/brands/cultureland", json={"buyback_rate_bps": "9000"}, headers=adm
    )
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    r = w.client.patch("/v1/admin/brands/nope", json={"enabled": False}, headers=adm)
    assert r.status_code == 404 and r.json()["code"] == "brand_not_found"
    r = w.client.patch("/v1/admin/issuers/nope", json={"enabled": False}, headers=adm)
    assert r.status_code == 404 and r.json()["code"] == "issuer_not_found"
    assert w.count(t.brand_overrides) == 0 and w.count(t.issuer_overrides) == 0
    refused = [
        (x.action, x.detail["code"])
        for x in w.audit_rows()
        if x.detail and x.detail.get("outcome") == "refused"
    ]
    assert refused == [("brand.update", "invalid_input")] * 5 + [
        ("brand.update", "brand_not_found"),
        ("issuer.update", "issuer_not_found"),
    ]
    assert _quote(w, "cultureland", 10_000)["payout"] == 9_000


def test_the_demo_seeds_an_exposure_cap_for_every_issuer_and_keeps_an_operators(world: World):
    from giftcash.catalogue import overrides as admin
    from giftcash.entrypoints import demo
    from giftcash.identity.operators import Operator
    from giftcash.reports import volume as reports

    w = world
    adm = w.operator("adm", "admin")
    r = w.client.patch("/v1/admin/issuers/munhwa", json={"exposure_cap": 1_000_000}, headers=adm)
    assert r.status_code == 200, r.text
    op = Operator("op-1", "operator", "admin")
    demo.seed_exposure_caps(w.deps, op)
    demo.seed_exposure_caps(w.deps, op)  # a restarted demo changes nothing
    caps = {s.issuer: s.exposure_cap for s in admin.list_issuers(w.deps)}
    assert caps["munhwa"] == 1_000_000  # the operator's
    assert caps["cultureland"] == demo.DEMO_EXPOSURE_CAPS_WON["cultureland"]
    assert caps["google"] == demo.DEMO_OTHER_ISSUER_CAP_WON
    assert all(cap is not None and cap >= 1_000_000 for cap in caps.values())
    # the pipeline enforces them: the exposure report reads the same caps
    assert {e.issuer: e.cap for e in reports.exposure(w.deps)} == caps
    assert len(w.audit_rows("issuer.update")) == len(caps)  # seeded once each, plus munhwa


def test_a_coupon_brands_rate_stays_above_its_deepest_expiry_discount(world: World):
    """Schemathesis found a 500: a product coupon's rate under its deepest expiry band made
    the live catalogue fail its own assertion. Now a clear refusal, and nothing stored."""
    w = world
    adm = w.operator("adm", "admin")
    brand = _brand(w, "starbucks_coupon")
    r = w.client.patch(
        "/v1/admin/brands/starbucks_coupon", json={"buyback_rate_bps": 3000}, headers=adm
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_input", r.text
    assert "3000" in r.json()["detail"]
    assert w.count(t.brand_overrides) == 0
    assert _brand(w, "starbucks_coupon") == brand
    r = w.client.patch(
        "/v1/admin/brands/starbucks_coupon", json={"buyback_rate_bps": 3001}, headers=adm
    )
    assert r.status_code == 200, r.text


def test_a_resold_brand_s_payout_hold_is_set_through_the_api_and_audited(world: World):
    w = world
    adm = w.operator("adm", "admin")
    listed = w.client.get("/v1/admin/brands", headers=adm).json()["data"]
    kyobo = next(b for b in listed if b["id"] == "kyobo_gift")
    assert (kyobo["disposition"], kyobo["resell_hold_s"]) == ("resell", 0)
    r = w.client.patch("/v1/admin/brands/kyobo_gift", json={"resell_hold_s": 7200}, headers=adm)
    assert r.status_code == 200, r.text
    assert (r.json()["resell_hold_s"], r.json()["default_resell_hold_s"]) == (7200, 0)
    assert catalogue.live_catalogue(w.deps).brands["kyobo_gift"].resell_hold_s == 7200
    for bad in (-1, 31 * 86_400, "7200"):
        r = w.client.patch("/v1/admin/brands/kyobo_gift", json={"resell_hold_s": bad}, headers=adm)
        assert r.status_code in (400, 422), (bad, r.text)
    r = w.client.patch("/v1/admin/brands/kyobo_gift", json={"resell_hold_s": None}, headers=adm)
    assert r.status_code == 200 and r.json()["resell_hold_s"] == 0
    changes = [
        x.detail for x in w.audit_rows("brand.update") if "resell_hold_s" in x.detail["changes"]
    ]
    assert [
        (c["changes"], c["before"], c["outcome"]) for c in changes if c["outcome"] == "done"
    ] == [
        ({"resell_hold_s": 7200}, {"resell_hold_s": None}, "done"),
        ({"resell_hold_s": None}, {"resell_hold_s": 7200}, "done"),
    ]
