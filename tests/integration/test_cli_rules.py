"""`giftcash rules`: the CLI cannot switch off a statutory rule either, and says so in the
audit log."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from giftcash.adapters.db import tables as t
from giftcash.entrypoints.cli import app


def test_statutory_rules_refuse_from_the_cli_and_are_audited(engine, tmp_path):
    runner = CliRunner()
    env = {
        "GIFTCASH_DATABASE_URL": str(engine.url.render_as_string(hide_password=False)),
        "GIFTCASH_DATA_DIR": str(tmp_path),
    }
    listed = runner.invoke(app, ["rules", "list"], env=env)
    assert listed.exit_code == 0 and "carrier_billing_prohibited" in listed.output

    refused = runner.invoke(
        app, ["rules", "set", "credit_card_financing_prohibited", "--disabled"], env=env
    )
    assert refused.exit_code == 5
    assert "statutory_rule" in refused.output

    tightened = runner.invoke(
        app,
        ["rules", "set", "first_sale_hold", "--params", '{"first_sale_hold_hours": 48}'],
        env=env,
    )
    assert tightened.exit_code == 0, tightened.output
    loosened = runner.invoke(
        app, ["rules", "set", "credit_card_financing_prohibited", "--params", '{"x": 1}'], env=env
    )
    assert loosened.exit_code != 0

    with engine.connect() as conn:
        actions = [
            (r.action, r.subject)
            for r in conn.execute(select(t.audit_log).order_by(t.audit_log.c.seq))
        ]
    subjects = [s for _, s in actions]
    assert "rule:credit_card_financing_prohibited" in subjects
    assert "rule:first_sale_hold" in subjects
    verify = runner.invoke(app, ["audit", "verify"], env=env)
    assert verify.exit_code == 0, verify.output
