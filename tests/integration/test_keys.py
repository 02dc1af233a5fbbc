"""Master key rotation on SQLite and PostgreSQL: ``giftcash keys rotate`` makes a new key
current, re-encrypts every stored secret, keeps every keyed hash, and the running
service (which never restarted) goes on: old codes decrypt, a code sold before is still
caught as a duplicate, and the end-to-end flow pays."""

from __future__ import annotations

import base64
import json
import secrets

import pyotp
import pytest
import test_reconcile_world
from sqlalchemy import select
from typer.testing import CliRunner

from giftcash.adapters.crypto.vault import (
    KEY_FILE_NAME,
    CodeVault,
    InvalidMasterKey,
    UnknownKeyId,
    add_key_to_file,
    key_id_for,
    parse_key_ring,
    write_key_ring,
)
from giftcash.adapters.db import tables as t
from giftcash.adapters.webhooks import signing
from giftcash.bootstrap import build_deps, make_vault_from_settings
from giftcash.config import Settings
from giftcash.entrypoints.cli import app
from giftcash.identity import operators
from giftcash.ops import keys
from giftcash.webhooks import delivery as webhooks

ops_world = test_reconcile_world.ops_world
runner = CliRunner()


def _secrets_at_rest(w) -> dict:
    with w.engine.connect() as conn:
        items = conn.execute(
            select(t.items.c.id, t.items.c.key_id, t.items.c.code_enc, t.items.c.code_hmac)
        ).all()
        accounts = conn.execute(
            select(t.bank_accounts.c.account_number_hmac, t.bank_accounts.c.account_key_id)
        ).all()
    return {
        "keys": {r.key_id for r in items} | {r.account_key_id for r in accounts},
        "code_hmacs": sorted(r.code_hmac for r in items),
        "account_hmacs": sorted(r.account_number_hmac for r in accounts),
        "blobs": {r.id: bytes(r.code_enc) for r in items},
    }


def _extras(w) -> None:
    """An operator (TOTP secret) and a webhook endpoint (signing secret) to rotate too."""
    operators.create_operator(
        w.deps,
        username="finance1",
        password="operator password 1",
        role="finance",
        totp_secret=pyotp.random_base32(),
    )
    with w.deps.uow() as uow:
        customer_id = uow.conn.execute(select(t.customers.c.id)).scalars().first()
    webhooks.add_endpoint(
        w.deps, signing, customer_id, "http://127.0.0.1:9/hook", ["*"], allow_loopback=True
    )


@pytest.mark.slow  # over 2 s on the loaded 2-core machine
def test_rotate_with_the_key_file_while_the_service_runs(ops_world):
    w = ops_world
    w.day_of_trade()
    _extras(w)
    sold_before = [w.buy("cultureland", 10_000) for _ in range(2)]
    auth, account_id = w.customer("010-5100-0031", "한지민", "5100000000031")
    w.sell(auth, account_id, sold_before, "before-rotation")
    w.work()
    before = _secrets_at_rest(w)
    old_key = w.deps.vault.current
    assert before["keys"] == {old_key}

    r = runner.invoke(app, ["keys", "rotate", "--batch", "3"])
    assert r.exit_code == 0, r.output
    assert "every row is under the current key" in r.output

    ring, pin = parse_key_ring((w.data_dir / KEY_FILE_NAME).read_text())
    assert len(ring) == 2 and key_id_for(ring[1]) == old_key and pin == old_key
    new_key = key_id_for(ring[0])
    after = _secrets_at_rest(w)
    assert after["keys"] == {new_key}
    assert after["code_hmacs"] == before["code_hmacs"]  # hashes unchanged
    assert after["account_hmacs"] == before["account_hmacs"]
    assert all(after["blobs"][i] != blob for i, blob in before["blobs"].items())
    status = json.loads(runner.invoke(app, ["keys", "status", "--json"]).stdout)
    assert status["rows_not_under_current"] == 0 and status["current"] == new_key
    assert set(status["rows"]) == {
        "items",
        "bank_accounts",
        "operators",
        "webhook_endpoints",
        "customer_identities",
        "customer_due_diligence",
    }
    assert all(set(by_key) <= {new_key} for by_key in status["rows"].values())

    # a fresh process reads the ring; old codes decrypt
    fresh = make_vault_from_settings(w.settings)
    with w.engine.connect() as conn:
        rows = conn.execute(select(t.items.c.id, t.items.c.key_id, t.items.c.code_enc)).all()
    codes = {fresh.decrypt(r.code_enc, r.key_id, r.id) for r in rows}
    assert {v["code"] for v in sold_before} <= codes

    # the running service never restarted: it meets the new key id and reloads the ring
    assert w.deps.vault.current == old_key
    again = w.sell(auth, account_id, [sold_before[0]], "after-rotation-duplicate")
    assert again["items"][0]["decline"]["code"] == "duplicate_code"  # hash still matches
    fresh_sale = w.sell(auth, account_id, [w.buy("munhwa", 5_000)], "after-rotation")
    w.work()
    got = w.api.get(f"/v1/submissions/{fresh_sale['id']}", headers=auth).json()
    assert [i["status"] for i in got["items"]] == ["paid"]
    assert w.deps.vault.current == new_key  # it took the new key
    # what it wrote before it noticed is still under the old key, which still decrypts;
    # --finish moves it without making yet another key
    r = runner.invoke(app, ["keys", "rotate", "--finish"])
    assert r.exit_code == 0, r.output
    assert len(parse_key_ring((w.data_dir / KEY_FILE_NAME).read_text())[0]) == 2
    with w.engine.connect() as conn:
        key_ids = set(conn.execute(select(t.items.c.key_id)).scalars())
    assert key_ids == {new_key}


def test_rotate_with_keys_from_the_environment(ops_world, monkeypatch):
    w = ops_world
    w.day_of_trade()
    old = make_vault_from_settings(w.settings)
    old_b64 = (w.data_dir / KEY_FILE_NAME).read_text().strip()
    new_b64 = base64.b64encode(secrets.token_bytes(32)).decode()
    settings = Settings(
        data_dir=w.data_dir,
        database_url=w.url,
        secret_key=new_b64,
        decrypt_keys=old_b64,
        hmac_key_id=old.current,
    )
    deps = build_deps(settings, engine=w.engine, fast_passwords=True)
    assert keys.check_hashes(deps) > 0
    result = keys.reencrypt(deps, batch=2)
    assert result.remaining == 0 and result.rewritten["items"] == 5
    assert keys.status(deps).rows["items"] == {key_id_for(base64.b64decode(new_b64)): 5}

    monkeypatch.setenv("GIFTCASH_SECRET_KEY", new_b64)
    monkeypatch.setenv("GIFTCASH_DECRYPT_KEYS", old_b64)
    monkeypatch.setenv("GIFTCASH_HMAC_KEY_ID", old.current)
    r = runner.invoke(app, ["keys", "rotate"])
    assert r.exit_code == 0, r.output
    assert "already under" in r.output


def test_a_wrong_hash_pin_is_refused_before_anything_is_rewritten(ops_world):
    w = ops_world
    w.day_of_trade()
    old_b64 = (w.data_dir / KEY_FILE_NAME).read_text().strip()
    new_b64 = base64.b64encode(secrets.token_bytes(32)).decode()
    wrong = Settings(
        data_dir=w.data_dir,
        database_url=w.url,
        secret_key=new_b64,
        decrypt_keys=old_b64,
        hmac_key_id=key_id_for(base64.b64decode(new_b64)),  # the new key: wrong
    )
    deps = build_deps(wrong, engine=w.engine, fast_passwords=True)
    before = _secrets_at_rest(w)
    with pytest.raises(keys.HashKeyMismatch):
        keys.check_hashes(deps)
    assert _secrets_at_rest(w) == before


def test_two_keys_without_a_pin_do_not_load():
    with pytest.raises(InvalidMasterKey):
        CodeVault.from_ring([secrets.token_bytes(32), secrets.token_bytes(32)])


def test_the_key_file_ring_grows_keeps_its_pin_and_running_vaults_follow(tmp_path):
    running = CodeVault.from_settings(None, tmp_path)
    first = running.current
    blob, key_id = running.encrypt("1234-5678", "row-1")
    ring = add_key_to_file(tmp_path / KEY_FILE_NAME)
    ring = add_key_to_file(tmp_path / KEY_FILE_NAME)
    keys_now, pin = parse_key_ring((tmp_path / KEY_FILE_NAME).read_text())
    assert len(keys_now) == 3 and pin == first and ring.hmac_key_id == first
    assert (tmp_path / KEY_FILE_NAME).stat().st_mode & 0o077 == 0
    newer_blob, newer_id = ring.encrypt("secret", "row-2")
    assert newer_id != key_id
    # the running vault has never seen the newest key: it reloads the file when it meets it
    assert running.decrypt(newer_blob, newer_id, "row-2") == "secret"
    assert running.current == ring.current
    assert ring.decrypt(blob, key_id, "row-1") == "1234-5678"
    assert running.hmac("x") == ring.hmac("x") == CodeVault.from_settings(None, tmp_path).hmac("x")


def test_a_running_vault_refuses_a_ring_whose_hash_pin_changed(tmp_path):
    running = CodeVault.from_settings(None, tmp_path)
    path = tmp_path / KEY_FILE_NAME
    old = parse_key_ring(path.read_text())[0][0]
    new = secrets.token_bytes(32)
    write_key_ring(path, [new, old], key_id_for(new))  # a wrong pin
    blob, key_id = CodeVault.from_ring([new, old], key_id_for(new)).encrypt("x", "r")
    with pytest.raises(UnknownKeyId, match="pin must not change"):
        running.decrypt(blob, key_id, "r")
    assert running.hmac_key_id == key_id_for(old)
