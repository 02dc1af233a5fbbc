"""Rules through the admin API: a statutory rule refuses to be switched off or relaxed
(403 ``statutory_rule``), the attempt is in the audit log, ``giftcash audit verify``
passes, and fails once a record is altered by hand. Non-statutory rules switch off and
their thresholds change. SQLite and PostgreSQL."""

from __future__ import annotations

import test_admin_world
from sqlalchemy import update
from test_admin_world import World
from typer.testing import CliRunner

from giftcash.adapters.db import tables as t
from giftcash.catalogue import live as catalogue
from giftcash.entrypoints.cli import app

world = test_admin_world.world  # the shared fixture

runner = CliRunner()


def _rules(w: World, auth: dict) -> dict[str, dict]:
    r = w.client.get("/v1/admin/rules", headers=auth)
    assert r.status_code == 200, r.text
    return {x["id"]: x for x in r.json()["data"]}


def test_statutory_rules_cannot_be_switched_off_and_the_attempt_is_audited(world: World):
    w = world
    adm = w.operator("adm", "admin")
    rules = _rules(w, adm)
    statutory = {k for k, v in rules.items() if v["statutory"]}
    assert statutory == {
        "carrier_billing_prohibited",
        "credit_card_financing_prohibited",
        "due_diligence",
    }
    assert "정보통신망법 §72①3" in rules["carrier_billing_prohibited"]["description"]
    assert all(rules[k]["enabled"] for k in statutory)

    for rule_id in sorted(statutory):
        r = w.client.patch(f"/v1/admin/rules/{rule_id}", json={"enabled": False}, headers=adm)
        assert r.status_code == 403, r.text
        assert r.json()["code"] == "statutory_rule"
    # a threshold the rule does not read is refused as statutory too (no loophole)
    r = w.client.patch(
        "/v1/admin/rules/carrier_billing_prohibited",
        json={"params": {"customer_max_items_per_day": 10_000}},
        headers=adm,
    )
    assert r.status_code == 403 and r.json()["code"] == "statutory_rule"

    assert w.count(t.rule_overrides) == 0
    assert all(_rules(w, adm)[k]["enabled"] for k in statutory)
    attempts = w.audit_rows("rule.update")
    assert [(a.subject, a.actor, a.detail["outcome"], a.detail["code"]) for a in attempts] == [
        ("rule:carrier_billing_prohibited", "operator:adm", "refused", "statutory_rule"),
        ("rule:credit_card_financing_prohibited", "operator:adm", "refused", "statutory_rule"),
        ("rule:due_diligence", "operator:adm", "refused", "statutory_rule"),
        ("rule:carrier_billing_prohibited", "operator:adm", "refused", "statutory_rule"),
    ]
    assert attempts[0].detail["enabled"] is False

    ok = runner.invoke(app, ["audit", "verify", "--database-url", w.url])
    assert ok.exit_code == 0, ok.output
    assert "audit log ok" in ok.output
    assert w.client.get("/v1/admin/audit", headers=adm).json()["verified"] is True

    # Someone edits the record of the first attempt to make it look allowed.
    seq = attempts[0].seq
    with w.engine.begin() as conn:
        detail = {**attempts[0].detail, "outcome": "done"}
        conn.execute(update(t.audit_log).where(t.audit_log.c.seq == seq).values(detail=detail))
    broken = runner.invoke(app, ["audit", "verify", "--database-url", w.url])
    assert broken.exit_code == 1, broken.output
    assert "edited" in broken.output and str(seq) in broken.output
    assert w.client.get("/v1/admin/audit", headers=adm).json()["verified"] is False


def test_operator_rules_switch_off_and_thresholds_change(world: World):
    w = world
    adm = w.operator("adm", "admin")
    r = w.client.patch("/v1/admin/rules/velocity_customer", json={"enabled": False}, headers=adm)
    assert r.status_code == 200, r.text
    assert r.json()["enabled"] is False and r.json()["statutory"] is False
    r = w.client.patch(
        "/v1/admin/rules/first_sale_hold",
        json={"params": {"first_sale_hold_above_value": 30_000}},
        headers=adm,
    )
    assert r.status_code == 200, r.text
    assert r.json()["params"]["first_sale_hold_above_value"] == 30_000
    rules = catalogue.current_rules(w.deps)
    assert "velocity_customer" in rules.disabled
    assert rules.params.first_sale_hold_above_value == 30_000
    assert "carrier_billing_prohibited" not in rules.disabled

    r = w.client.patch("/v1/admin/rules/velocity_customer", json={"enabled": True}, headers=adm)
    assert r.json()["enabled"] is True
    assert "velocity_customer" not in catalogue.current_rules(w.deps).disabled

    r = w.client.patch("/v1/admin/rules/no_such_rule", json={"enabled": False}, headers=adm)
    assert r.status_code == 404 and r.json()["code"] == "rule_not_found"
    r = w.client.patch(
        "/v1/admin/rules/first_sale_hold", json={"params": {"velocity": 1}}, headers=adm
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_rule_config"
    outcomes = [(a.subject, a.detail["outcome"]) for a in w.audit_rows("rule.update")]
    assert outcomes == [
        ("rule:velocity_customer", "done"),
        ("rule:first_sale_hold", "done"),
        ("rule:velocity_customer", "done"),
        ("rule:no_such_rule", "refused"),
        ("rule:first_sale_hold", "refused"),
    ]


def test_a_stored_row_that_would_switch_off_a_statutory_rule_is_not_obeyed(world: World):
    """Written by hand (or by an older version): the rule set skips it."""
    w = world
    with w.engine.begin() as conn:
        conn.execute(
            t.rule_overrides.insert().values(
                rule_id="credit_card_financing_prohibited",
                enabled=False,
                params=None,
                updated_at=w.clock.now(),
                updated_by="someone",
            )
        )
    rules = catalogue.current_rules(w.deps)
    assert "credit_card_financing_prohibited" not in rules.disabled
    adm = w.operator("adm", "admin")
    r = w.client.get("/v1/admin/rules", headers=adm).json()["data"]
    assert next(x for x in r if x["id"] == "credit_card_financing_prohibited")["enabled"] is True


def test_the_due_diligence_amounts_may_be_lowered_never_raised(world: World):
    w = world
    adm = w.operator("adm", "admin")
    assert _rules(w, adm)["due_diligence"]["params"]["edd_one_off_value"] == 10_000_000
    raised = w.client.patch(
        "/v1/admin/rules/due_diligence",
        json={"params": {"edd_one_off_value": 10_000_001}},
        headers=adm,
    )
    assert raised.status_code == 403 and raised.json()["code"] == "statutory_rule"
    lowered = w.client.patch(
        "/v1/admin/rules/due_diligence",
        json={"params": {"identity_max_value_per_day": 500_000}},
        headers=adm,
    )
    assert lowered.status_code == 200, lowered.text
    params = _rules(w, adm)["due_diligence"]["params"]
    assert (params["identity_max_value_per_day"], params["edd_one_off_value"]) == (
        500_000,
        10_000_000,
    )
