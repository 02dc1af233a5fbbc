"""/v1/payment-stops on SQLite and PostgreSQL: a partner bank's API key (the
``stop_requester`` role) files a stop, idempotently, reads it and its tracing export,
and may not release it; finance releases it, audited; bad input is a 4xx."""

from __future__ import annotations

import csv
import io

import pyotp
import test_admin_world
from sqlalchemy import select
from test_admin_world import OPERATOR_PASSWORD, World, customer, item, submit

from giftcash.adapters.db import tables as t
from giftcash.identity import operators

world = test_admin_world.world  # the shared fixture

BODY = {
    "scope": "account",
    "requester": "bank",
    "requester_name": "신한은행 금융사기대응센터",
    "requester_contact": "1599-8000",
    "reference": "SH-2026-77",
    "reason": "전기통신금융사기 피해금 입금",
    "bank_code": "004",
    "account_number": "222-000000-00001",
}


def _api_key(w: World, username: str) -> dict:
    operators.create_operator(
        w.deps,
        username=username,
        password=OPERATOR_PASSWORD,
        role="stop_requester",
        totp_secret=pyotp.random_base32(),
    )
    key = operators.issue_api_key(w.deps, username=username, days=30)
    return {"Authorization": f"Bearer {key}"}


def test_a_partner_bank_files_a_stop_once_per_key_and_reads_its_trace(world: World):
    w = world
    auth, account = customer(w, "010-7200-0001", "22200000000001")
    submit(w, auth, account, item("4180720000000001", 10_000))
    bank = _api_key(w, "shinhan-fraud")
    headers = {**bank, "Idempotency-Key": "sh-77-1"}
    r = w.client.post("/v1/payment-stops", json=BODY, headers=headers)
    assert r.status_code == 201, r.text
    stop = r.json()
    assert stop["state"] == "active" and stop["found"] == {"held": 1}
    assert stop["subject"].endswith("0001") and "22200000000001" not in r.text
    again = w.client.post("/v1/payment-stops", json=BODY, headers=headers)
    assert again.status_code == 201 and again.json()["id"] == stop["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    changed = w.client.post(
        "/v1/payment-stops", json={**BODY, "reference": "SH-2026-78"}, headers=headers
    )
    assert changed.status_code == 409
    assert changed.json()["code"] == "idempotency_key_reused"
    with w.engine.connect() as conn:
        assert len(conn.execute(select(t.payment_stops)).all()) == 1

    r = w.client.get(f"/v1/payment-stops/{stop['id']}", headers=bank)
    assert r.status_code == 200 and r.json()["items"][0]["finding"] == "held"
    r = w.client.get(f"/v1/payment-stops/{stop['id']}/export?format=csv", headers=bank)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    (row,) = csv.DictReader(io.StringIO(r.text))
    assert row["masked_code"].endswith("0001") and "4180720000000001" not in r.text
    listed = w.client.get("/v1/payment-stops?state=active", headers=bank).json()
    assert [s["id"] for s in listed["data"]] == [stop["id"]]

    # the key may not lift its own stop; finance may, with a reason, audited
    r = w.client.post(
        f"/v1/payment-stops/{stop['id']}/release", json={"reason": "오인 신고"}, headers=bank
    )
    assert r.status_code == 403 and r.json()["code"] == "forbidden_role"
    finance = w.operator("fin1", "finance")
    r = w.client.post(
        f"/v1/payment-stops/{stop['id']}/release",
        json={"reason": "오인 신고 확인"},
        headers={**finance, "Idempotency-Key": "rel-1"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "released" and r.json()["closed_by"] == "operator:fin1"
    r = w.client.post(
        f"/v1/payment-stops/{stop['id']}/settle", json={"reason": "늦은 종결"}, headers=finance
    )
    assert r.status_code == 409 and r.json()["code"] == "stop_not_active"
    actions = [a.action for a in w.audit_rows() if a.action.startswith("payment_stop.")]
    assert actions == [
        "payment_stop.file",
        "payment_stop.export",
        "payment_stop.release",
        "payment_stop.settle",
    ]


def test_another_partner_does_not_see_a_stop_and_bad_input_is_refused(world: World):
    w = world
    first = _api_key(w, "kb-fraud")
    second = _api_key(w, "nh-fraud")
    r = w.client.post(
        "/v1/payment-stops", json={**BODY, "scope": "code", "code": "41807"}, headers=first
    )
    assert r.status_code == 201, r.text
    r2 = w.client.get(f"/v1/payment-stops/{r.json()['id']}", headers=second)
    assert r2.status_code == 404 and r2.json()["code"] == "stop_not_found"
    assert w.client.get("/v1/payment-stops", headers=second).json()["data"] == []
    bad = [
        {**BODY, "scope": "planet"},
        {**BODY, "bank_code": "999"},
        {**BODY, "account_number": "12"},
        {**BODY, "scope": "customer"},  # no customer_id
        {**BODY, "scope": "customer", "customer_id": "nobody"},
        {**BODY, "reason": ""},
        {**BODY, "extra": 1},
    ]
    for body in bad:
        r = w.client.post("/v1/payment-stops", json=body, headers=first)
        assert 400 <= r.status_code < 500, (body, r.status_code, r.text)
    assert w.client.post("/v1/payment-stops", json=BODY).status_code == 401
    assert w.client.get("/v1/payment-stops/x/export?format=xml", headers=first).status_code == 422


def test_the_cli_files_shows_exports_and_releases_a_stop(world: World, monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from giftcash.entrypoints.cli import app

    w = world
    monkeypatch.setenv("GIFTCASH_DATA_DIR", str(tmp_path))  # the API's key file
    runner = CliRunner()
    db = ["--database-url", w.url]
    auth, account = customer(w, "010-7200-0003", "22200000000003")
    submit(w, auth, account, item("4180720000000003", 10_000))
    r = runner.invoke(
        app,
        [
            "stops",
            "file",
            "--scope",
            "code",
            "--requester",
            "police",
            "--requester-name",
            "사이버수사대",
            "--requester-contact",
            "182",
            "--reference",
            "P-1",
            "--reason",
            "피해 상품권",
            "--code-stdin",
            *db,
        ],
        input="4180-7200-0000-0003\n",
    )
    assert r.exit_code == 0, r.output
    assert "held: 1" in r.output and "4180720000000003" not in r.output
    stop_id = r.output.split()[1].rstrip(":")
    r = runner.invoke(app, ["stops", "list", "--state", "active", *db])
    assert r.exit_code == 0 and "Payment stops (1)" in r.output
    r = runner.invoke(app, ["stops", "show", stop_id, *db])
    assert r.exit_code == 0 and f"stop {stop_id}: active; code" in r.output
    out = tmp_path / "trace.json"
    r = runner.invoke(app, ["stops", "export", stop_id, "--format", "json", "-o", str(out), *db])
    assert r.exit_code == 0, r.output
    assert '"masked_code": "************0003"' in out.read_text(encoding="utf-8")
    r = runner.invoke(app, ["stops", "release", stop_id, "--reason", "확인 완료", *db])
    assert r.exit_code == 0 and "released" in r.output
    r = runner.invoke(app, ["stops", "release", stop_id, "--reason", "다시", *db])
    assert r.exit_code != 0 and "stop_not_active" in r.output

    operators.create_operator(
        w.deps,
        username="ibk-fraud",
        password=OPERATOR_PASSWORD,
        role="stop_requester",
        totp_secret=pyotp.random_base32(),
    )
    r = runner.invoke(app, ["admin", "api-key", "ibk-fraud", "--days", "30", *db])
    assert r.exit_code == 0, r.output
    key = r.output.split("API key for ibk-fraud: ", 1)[1].split()[0]
    listed = w.client.get("/v1/payment-stops", headers={"Authorization": f"Bearer {key}"})
    assert listed.status_code == 200 and listed.json()["data"] == []
