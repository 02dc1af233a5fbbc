"""``giftcash admin create-operator`` (password from stdin or a prompt; the TOTP secret
and otpauth:// URI printed once) and a login with what it printed. SQLite and
PostgreSQL."""

from __future__ import annotations

import re

import pyotp
import test_admin_world
from test_admin_world import World
from typer.testing import CliRunner

from giftcash.entrypoints.cli import app

world = test_admin_world.world  # the shared fixture

runner = CliRunner()
PASSWORD = "a long operator password"


def create(w: World, monkeypatch, tmp_path, *args: str, input: str):
    # the CLI must find the same key file as the API, so both use one data dir
    monkeypatch.setenv("GIFTCASH_DATA_DIR", str(tmp_path))
    return runner.invoke(
        app, ["admin", "create-operator", *args, "--database-url", w.url], input=input
    )


def test_create_operator_then_log_in_with_the_printed_secret(world: World, monkeypatch, tmp_path):
    w = world
    r = create(
        w,
        monkeypatch,
        tmp_path,
        "carol",
        "--role",
        "finance",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert r.exit_code == 0, r.output
    uri = re.search(r"otpauth://\S+", r.output).group(0)
    secret = re.search(r"TOTP secret: ([A-Z2-7]+)", r.output).group(1)
    assert f"secret={secret}" in uri and "issuer=giftcash" in uri and "carol" in uri
    login = w.client.post(
        "/v1/admin/tokens",
        json={
            "username": "carol",
            "password": PASSWORD,
            "totp": pyotp.TOTP(secret).at(w.clock.now()),
        },
    )
    assert login.status_code == 200, login.text
    assert login.json()["role"] == "finance"
    created = w.audit_rows("operator.create")
    assert [(c.subject, c.detail["role"]) for c in created] == [("operator:carol", "finance")]
    assert created[0].actor.startswith("cli:")
    assert PASSWORD not in r.output


def test_the_password_prompt_asks_twice(world: World, monkeypatch, tmp_path):
    w = world
    r = create(
        w, monkeypatch, tmp_path, "dave", "--role", "reviewer", input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert r.exit_code == 0, r.output
    assert "otpauth://" in r.output


def test_bad_operators_are_refused(world: World, monkeypatch, tmp_path):
    w = world
    weak = create(
        w, monkeypatch, tmp_path, "erin", "--role", "admin", "--password-stdin", input="short\n"
    )
    assert weak.exit_code == 2 and "weak_password" in weak.output
    role = create(
        w,
        monkeypatch,
        tmp_path,
        "erin",
        "--role",
        "root",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert role.exit_code == 2 and "invalid_input" in role.output
    ok = create(
        w,
        monkeypatch,
        tmp_path,
        "erin",
        "--role",
        "admin",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert ok.exit_code == 0, ok.output
    taken = create(
        w,
        monkeypatch,
        tmp_path,
        "erin",
        "--role",
        "admin",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert taken.exit_code == 2 and "taken" in taken.output
    assert len(w.audit_rows("operator.create")) == 1
