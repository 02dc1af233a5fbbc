"""After a run through the API and the worker: no voucher code, PIN, access token or
password in the database (file, -wal, rows), in any log line or in any answer body;
tokens stored hashed; passwords argon2id. On SQLite and PostgreSQL. And with leaks
planted (by this test only), the scan finds each of them."""

from __future__ import annotations

import hashlib
import logging

import pytest
from verdict import SEED, explain

from giftcash.adapters.crypto import passwords
from giftcash.identity import customers, sessions
from giftcash.intake import submissions
from giftcash.redemption import steps as redemption
from giftcash.selftest.registry import Context
from giftcash.selftest.secrets_scan import run_secrets

pytestmark = pytest.mark.slow  # a full run through API and worker, then a scan


def test_no_secret_is_kept_logged_or_answered(database_url, tmp_path):
    row, out = run_secrets(Context(SEED, tmp_path, database_url))

    assert row.bad == 0, explain(row)
    assert dict(out.hits) == {}, out.notes
    assert out.secrets >= 50 and out.log_lines >= 100 and out.bodies >= 30, out.notes
    assert out.rows_scanned >= 100, out.notes
    if database_url is None:
        assert out.bytes_scanned > 100_000, out.notes  # the file and its -wal were read
    assert out.password_hashes >= 4 and out.weak_hashes == 0
    assert out.plain_tokens == 0
    assert any("paid" in n for n in out.notes), out.notes  # the worker really ran


def test_planted_leaks_are_found(monkeypatch, tmp_path):
    log = logging.getLogger("giftcash.planted")
    real_redeem = redemption.redeem

    def chatty_redeem(deps, claim):  # PLANTED: a debug line with the code in it
        log.debug("redeeming %s", claim.code)
        return real_redeem(deps, claim)

    class Sha256Passwords(passwords.Argon2Passwords):  # PLANTED: not argon2id
        def hash(self, password: str) -> str:
            return "sha256$" + hashlib.sha256(password.encode()).hexdigest()

        def verify(self, password_hash: str, password: str) -> bool:
            return password_hash == self.hash(password)

    monkeypatch.setattr(submissions, "mask", lambda code: code)  # PLANTED: unmasked
    monkeypatch.setattr(redemption, "redeem", chatty_redeem)
    monkeypatch.setattr(customers, "token_hash", lambda token: token)  # PLANTED: plain
    monkeypatch.setattr(sessions, "token_hash", lambda token: token)  # (where they are made)
    monkeypatch.setattr(passwords, "Argon2Passwords", Sha256Passwords)

    row, out = run_secrets(Context(SEED, tmp_path))

    where = {key.split(":")[0].split(" ")[0] for key in out.hits}
    assert {"table", "db", "log", "body"} <= where, dict(out.hits)
    assert any(k.startswith("table items") for k in out.hits), dict(out.hits)
    assert out.plain_tokens > 0 and out.weak_hashes > 0, out.notes
    assert row.invariant_breaks > 0
