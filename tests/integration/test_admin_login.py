"""Operator login (password + one-use TOTP, failures rate-limited per username) and the
role of every admin endpoint, on SQLite and PostgreSQL."""

from __future__ import annotations

import pyotp
import test_admin_world
from sqlalchemy import select
from test_admin_world import OPERATOR_PASSWORD, World, customer

from giftcash.adapters.db import tables as t

world = test_admin_world.world  # the shared fixture


def login(w: World, username: str, password: str = OPERATOR_PASSWORD, totp: str | None = None):
    return w.client.post(
        "/v1/admin/tokens",
        json={"username": username, "password": password, "totp": totp or w.totp(username)},
    )


def test_login_with_the_right_code_then_a_replayed_one_then_a_wrong_one(world: World):
    w = world
    w.operator("rita", "reviewer")
    w.clock.advance(30)
    code = w.totp("rita")
    first = login(w, "rita", totp=code)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["token_type"] == "bearer" and body["role"] == "reviewer"
    assert body["expires_in"] > 0 and len(body["access_token"]) >= 32
    me = w.client.get(
        "/v1/admin/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    ).json()
    assert me["username"] == "rita" and me["role"] == "reviewer"

    replay = login(w, "rita", totp=code)  # same code, same 30-second step
    assert replay.status_code == 401 and replay.json()["code"] == "invalid_credentials"
    # the code of the step before the one used is older still: refused too
    older = pyotp.TOTP(w.secrets["rita"]).at(w.clock.now(), counter_offset=-1)
    assert login(w, "rita", totp=older).status_code == 401

    wrong = f"{(int(w.totp('rita')) + 1) % 1_000_000:06d}"
    r = login(w, "rita", totp=wrong)
    assert r.status_code == 401 and r.json()["code"] == "invalid_credentials"
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert login(w, "rita", password="not the password", totp=w.totp("rita")).status_code == 401

    w.clock.advance(30)  # the next step's code is new: accepted
    assert login(w, "rita").status_code == 200
    reasons = [r.detail["reason"] for r in w.audit_rows("operator.login_failed")]
    assert reasons == ["totp_replayed", "totp_replayed", "totp", "password"]
    assert len(w.audit_rows("operator.login")) == 3  # w.operator() logged in once too
    # neither the password nor a code is written to the audit log
    assert all(set(r.detail) == {"reason"} for r in w.audit_rows("operator.login_failed"))
    assert OPERATOR_PASSWORD not in " ".join(str(r.detail) for r in w.audit_rows())


def test_failed_logins_lock_the_username_for_fifteen_minutes(world: World):
    w = world
    w.operator("fred", "finance")
    for _ in range(5):
        assert login(w, "fred", password="wrong password!!").status_code == 401
    locked = login(w, "fred")  # the right password and code, but too many failures
    assert locked.status_code == 429 and locked.json()["code"] == "too_many_attempts"
    assert len(w.audit_rows("operator.login_locked")) == 1
    # an unknown username is counted the same way: the answer tells nothing
    for _ in range(5):
        r = login(w, "nobody", totp="123456")
        assert r.status_code == 401
    assert login(w, "nobody", totp="123456").status_code == 429
    w.clock.advance(15 * 60 + 1)
    assert login(w, "fred").status_code == 200


def test_a_success_resets_the_failure_count(world: World):
    w = world
    w.operator("anna", "admin")
    for _ in range(4):
        assert login(w, "anna", password="wrong password!!").status_code == 401
    assert login(w, "anna").status_code == 200
    w.clock.advance(30)
    for _ in range(4):
        assert login(w, "anna", password="wrong password!!").status_code == 401
    assert login(w, "anna").status_code == 200


def test_the_totp_secret_is_stored_encrypted(world: World):
    w = world
    w.operator("enc.check", "admin")
    with w.engine.connect() as conn:
        blob = conn.execute(
            select(t.operators.c.totp_secret_enc).where(t.operators.c.username == "enc.check")
        ).scalar_one()
    assert w.secrets["enc.check"].encode() not in blob


# -- the role matrix -----------------------------------------------------------------------

# (method, path, body, roles allowed besides admin)
ENDPOINTS = [
    ("GET", "/v1/admin/review", None, {"reviewer"}),
    ("POST", "/v1/admin/items/no-such-item/approve", {"reason": "looks fine"}, {"reviewer"}),
    ("POST", "/v1/admin/items/no-such-item/decline", {"reason": "looks bad"}, {"reviewer"}),
    ("GET", "/v1/admin/brands", None, set()),
    ("PATCH", "/v1/admin/brands/cultureland", {"exposure_cap": 10_000_000}, set()),
    ("GET", "/v1/admin/issuers", None, set()),
    ("PATCH", "/v1/admin/issuers/google", {"exposure_cap": 5_000_000}, set()),
    ("GET", "/v1/admin/rules", None, set()),
    ("PATCH", "/v1/admin/rules/velocity_customer", {"enabled": True}, set()),
    ("GET", "/v1/admin/payouts", None, {"finance"}),
    ("GET", "/v1/admin/payouts/no-such-payout", None, {"finance"}),
    ("GET", "/v1/admin/audit", None, {"finance"}),
    ("GET", "/v1/admin/claims", None, {"finance"}),
    (
        "POST",
        "/v1/admin/claims/no-such-claim/resolve",
        {"decision": "refuse", "note": "works at the till"},
        {"finance"},
    ),
    ("GET", "/v1/admin/me", None, {"reviewer", "finance"}),
    ("GET", "/v1/admin/cases", None, {"reviewer", "finance"}),
    ("GET", "/v1/admin/cases/export", None, {"finance"}),
    ("GET", "/v1/admin/cases/no-such-case", None, {"reviewer", "finance"}),
    (
        "POST",
        "/v1/admin/cases/no-such-case/status",
        {"status": "under_review", "note": "looking"},
        {"finance"},
    ),
]


def test_every_admin_endpoint_checks_the_role(world: World):
    w = world
    auth = {
        "reviewer": w.operator("rev", "reviewer"),
        "finance": w.operator("fin", "finance"),
        "admin": w.operator("adm", "admin"),
        "customer": customer(w, "010-5000-0001", "50000000000001")[0],
        "nobody": {},
    }
    for method, path, body, allowed in ENDPOINTS:
        for who, headers in auth.items():
            denied_before = len(w.audit_rows("access.denied"))
            r = w.client.request(method, path, json=body, headers=headers)
            where = f"{who} {method} {path}: {r.status_code} {r.text[:200]}"
            if who in ("customer", "nobody"):
                assert r.status_code == 401 and r.json()["code"] == "unauthorized", where
            elif who == "admin" or who in allowed:
                assert r.status_code in (200, 404), where
                assert r.json().get("code") not in ("forbidden_role", "unauthorized"), where
            else:
                assert r.status_code == 403 and r.json()["code"] == "forbidden_role", where
                denied = w.audit_rows("access.denied")
                assert len(denied) == denied_before + 1, where
                assert denied[-1].actor == f"operator:{who[:3]}"
                assert denied[-1].subject == f"{method} {path}"
