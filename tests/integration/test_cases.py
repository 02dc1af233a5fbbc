"""Suspicious-activity cases end to end, on SQLite and PostgreSQL: customers act through
the API, the worker asks the issuer, ``scan`` opens one case per pattern and adds new
evidence to it on a rescan; finance moves cases on (audited) and exports the report;
reviewers may only read; the report carries no code and no PIN."""

from __future__ import annotations

import csv
import io
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import test_admin_world
from sqlalchemy import select
from test_admin_world import World, customer, item, submit
from typer.testing import CliRunner

from giftcash.adapters.db import tables as t
from giftcash.domain.aml import AmlParams
from giftcash.entrypoints.cli import app as cli_app
from giftcash.entrypoints.cli import console as cli_console
from giftcash.entrypoints.worker import Worker
from giftcash.review import cases

world = test_admin_world.world  # the shared fixture

PARAMS = AmlParams(pin_min_invalid=3)  # the defaults, with PIN testing at 3 bad codes
RING_CODE = "7700000000007001"  # a book voucher: a code and a PIN (its issue date)
RING_PIN = "20261101"
SHARED_ACCOUNT = "61000000000001"


def _code(n: int) -> str:
    return f"4180{n:012d}"


def _ring_item() -> dict:
    return {**item(RING_CODE, 10_000, brand="booknlife"), "pin": RING_PIN}


def _advance_days(w: World, days: float) -> None:
    w.clock.at += timedelta(days=days)


def _world_with_every_pattern(w: World) -> dict[str, tuple[dict, str]]:
    """Seven customers, each showing one pattern (two share an account and a code)."""
    people = {
        "ring_a": customer(w, "010-7000-0001", SHARED_ACCOUNT, name="홍길동"),
        "ring_b": customer(w, "010-7000-0002", SHARED_ACCOUNT, name="홍길동"),
        "tester": customer(w, "010-7000-0003", "61000000000003", name="김철수"),
        "liar": customer(w, "010-7000-0004", "61000000000004", name="이영희"),
        "splitter": customer(w, "010-7000-0005", "61000000000005", name="박민수"),
        "spiker": customer(w, "010-7000-0006", "61000000000006", name="남궁민수"),
    }
    # velocity: three ordinary days of 10,000 won, then one day of 500,000
    auth, account = people["spiker"]
    for n, back in enumerate((4, 3, 2)):
        _advance_days(w, -back)
        w.issuer.sell("cultureland", _code(600 + n), 10_000)
        submit(w, auth, account, item(_code(600 + n), 10_000))
        _advance_days(w, back)
    w.issuer.sell("cultureland", _code(610), 500_000)
    submit(w, auth, account, item(_code(610), 500_000))
    # a duplicate ring: one code (with its PIN) from two customers
    w.issuer.sell("booknlife", RING_CODE, 10_000, pin=RING_PIN)
    ring = _ring_item()
    submit(w, *people["ring_a"], ring)
    submit(w, *people["ring_b"], ring)
    # PIN testing: three codes that are not codes at all
    auth, account = people["tester"]
    submit(w, auth, account, *(item(f"41809999000{n}", 10_000) for n in range(3)))
    # two declarations of cash the issuer contradicts (bought by carrier billing)
    auth, account = people["liar"]
    for n in (300, 301):
        w.issuer.sell("cultureland", _code(n), 10_000, channel="carrier_billing")
    submit(w, auth, account, item(_code(300), 10_000), item(_code(301), 10_000))
    # structuring: three separate sales of exactly the first-sale hold threshold
    auth, account = people["splitter"]
    for n in (400, 401, 402):
        w.issuer.sell("cultureland", _code(n), 50_000)
        submit(w, auth, account, item(_code(n), 50_000))
        w.clock.advance(60)
    Worker(w.deps, cases_every_s=None).drain(30)  # the issuer's answers come in
    return people


def _cases(w: World) -> dict[tuple[str, str], dict]:
    with w.engine.connect() as conn:
        rows = conn.execute(select(t.aml_cases)).all()
    return {(r.kind, r.subject): dict(r._mapping) for r in rows}


def _customer_id(w: World, phone: str) -> str:
    with w.engine.connect() as conn:
        return conn.execute(
            select(t.customers.c.id).where(t.customers.c.phone == phone.replace("-", ""))
        ).scalar_one()


def test_a_scan_opens_one_case_per_pattern_and_a_rescan_adds_without_duplicating(world: World):
    w = world
    _world_with_every_pattern(w)
    first = cases.scan(w.deps, params=PARAMS)
    found = _cases(w)
    kinds = sorted(k for k, _ in found)
    assert kinds == [
        "declaration_contradicted",
        "duplicate_ring",
        "pin_testing",  # the customer
        "pin_testing",  # and the device (every test request comes from one address)
        "shared_account",
        "structuring",
        "velocity_spike",
    ]
    assert sorted(first.opened) == sorted(c["id"] for c in found.values())
    assert all(c["status"] == "open" for c in found.values())
    by_kind = {k: c for (k, _), c in found.items()}
    liar = _customer_id(w, "010-7000-0004")
    assert found[("declaration_contradicted", f"customer:{liar}")]["evidence_count"] == 2
    assert by_kind["structuring"]["total_amount"] == 150_000
    assert by_kind["velocity_spike"]["total_amount"] == 500_000
    assert len(by_kind["duplicate_ring"]["customer_ids"]) == 2
    assert len(by_kind["shared_account"]["customer_ids"]) == 2
    assert w.count(t.audit_log, t.audit_log.c.action == "case.open") == 7

    again = cases.scan(w.deps, params=PARAMS)
    assert again.signals == first.signals
    assert (again.opened, again.updated, again.evidence_added) == ([], [], 0)
    assert w.count(t.aml_cases) == 7
    before = w.count(t.aml_case_evidence)

    # a third customer brings the ring's code: the ring's case grows, no new case
    auth, account = customer(w, "010-7000-0009", "61000000000009", name="최지우")
    submit(w, auth, account, _ring_item())
    third = cases.scan(w.deps, params=PARAMS)
    ring = by_kind["duplicate_ring"]
    assert third.opened == [] and third.updated == [ring["id"]] and third.evidence_added == 1
    assert w.count(t.aml_cases) == 7
    assert w.count(t.aml_case_evidence) == before + 1
    grown = _cases(w)[("duplicate_ring", ring["subject"])]
    assert len(grown["customer_ids"]) == 3 and grown["evidence_count"] == 3
    assert grown["total_amount"] == 30_000


def test_scans_at_once_open_each_case_once(world: World):
    w = world
    _world_with_every_pattern(w)
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: cases.scan(w.deps, params=PARAMS), range(3)))
    assert sorted(len(r.opened) for r in results) == [0, 0, 7]  # the lock serialised them
    assert w.count(t.aml_cases) == 7
    with w.engine.connect() as conn:
        assert conn.execute(select(t.aml_scan_state.c.scans)).scalar_one() == 3


def _open_case(w: World) -> dict:
    _world_with_every_pattern(w)
    cases.scan(w.deps, params=PARAMS)
    return next(c for (k, _), c in _cases(w).items() if k == "duplicate_ring")


@pytest.mark.slow  # over 2 s on the loaded 2-core machine
def test_reviewers_read_finance_moves_cases_on_and_every_change_is_audited(world: World):
    w = world
    case = _open_case(w)
    rev = w.operator("rev", "reviewer")
    fin = w.operator("fin", "finance")

    listed = w.client.get("/v1/admin/cases?status=active&limit=3", headers=rev)
    assert listed.status_code == 200, listed.text
    assert len(listed.json()["data"]) == 3 and listed.json()["next_cursor"]
    rest = w.client.get(
        f"/v1/admin/cases?status=active&cursor={listed.json()['next_cursor']}", headers=rev
    )
    ids = [c["id"] for c in listed.json()["data"] + rest.json()["data"]]
    assert len(ids) == len(set(ids)) == 7 and rest.json()["next_cursor"] is None

    detail = w.client.get(f"/v1/admin/cases/{case['id']}", headers=rev)
    assert detail.status_code == 200, detail.text
    d = detail.json()
    assert {c["name"] for c in d["customers"]} == {"홍길동"}
    assert [e["masked"][-4:] for e in d["evidence"]] == [RING_CODE[-4:]] * 2
    assert RING_CODE not in detail.text and RING_PIN not in detail.text

    move = f"/v1/admin/cases/{case['id']}/status"
    r = w.client.post(move, json={"status": "under_review", "note": "looking"}, headers=rev)
    assert r.status_code == 403 and r.json()["code"] == "forbidden_role"
    r = w.client.get("/v1/admin/cases/export?format=csv", headers=rev)
    assert r.status_code == 403 and r.json()["code"] == "forbidden_role"

    r = w.client.post(move, json={"status": "reported", "note": "too soon"}, headers=fin)
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"
    r = w.client.post(
        move,
        json={"status": "under_review", "note": "asked the issuer"},
        headers={**fin, "Idempotency-Key": "case-review-1"},
    )
    assert r.status_code == 200 and r.json()["status"] == "under_review", r.text
    replay = w.client.post(
        move,
        json={"status": "under_review", "note": "asked the issuer"},
        headers={**fin, "Idempotency-Key": "case-review-1"},
    )
    assert replay.status_code == 200 and replay.json() == r.json()
    r = w.client.post(move, json={"status": "dismissed", "note": "a gift, twice"}, headers=fin)
    assert r.status_code == 200 and r.json()["status"] == "dismissed"
    assert [n["to"] for n in r.json()["notes"]] == ["under_review", "dismissed"]
    assert r.json()["notes"][1]["by"] == "operator:fin"

    audited = [(a.actor, (a.detail or {}).get("outcome")) for a in w.audit_rows("case.status")]
    assert audited == [
        ("operator:fin", "refused"),
        ("operator:fin", "done"),
        ("operator:fin", "done"),
    ]
    denied = [a.subject for a in w.audit_rows("access.denied")]
    assert f"POST /v1/admin/cases/{case['id']}/status" in denied

    # the dismissed case's facts open nothing; a new fact opens a new case
    assert cases.scan(w.deps, params=PARAMS).opened == []
    auth, account = customer(w, "010-7000-0009", "61000000000009", name="최지우")
    submit(w, auth, account, _ring_item())
    (new_id,) = cases.scan(w.deps, params=PARAMS).opened
    assert new_id != case["id"]
    r = w.client.get(f"/v1/admin/cases/{new_id}", headers=rev)
    assert r.json()["subject"] == case["subject"] and r.json()["evidence_count"] == 1


def test_the_export_parses_names_families_only_and_carries_no_code_or_pin(world: World):
    w = world
    _open_case(w)
    fin = w.operator("fin", "finance")
    codes = [RING_CODE, RING_PIN, *(_code(n) for n in (300, 301, 400, 401, 402, 610))]

    r = w.client.get("/v1/admin/cases/export?format=csv", headers=fin)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith('attachment; filename="giftcash-cases-')
    rows = list(csv.DictReader(io.StringIO(r.text, newline="")))
    assert len(rows) == 7
    assert {row["kind"] for row in rows} >= {"duplicate_ring", "velocity_spike"}
    ring = next(row for row in rows if row["kind"] == "duplicate_ring")
    assert ring["customers"] == "홍*; 홍*" and ring["total_amount"] == "20000"
    assert ring["currency"] == "KRW" and ring["period_start"] and ring["evidence_summary"]
    spike = next(row for row in rows if row["kind"] == "velocity_spike")
    assert spike["customers"] == "남궁*"
    assert not any(c in r.text for c in codes)
    for name in ("홍길동", "김철수", "이영희", "박민수", "남궁민수"):
        assert name not in r.text

    r = w.client.get("/v1/admin/cases/export?format=json&status=open", headers=fin)
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"].endswith('.json"')
    report = json.loads(r.text)
    assert report["count"] == len(report["cases"]) == 7
    assert report["generated_by"] == "operator:fin" and report["status"] == "open"
    ring = next(c for c in report["cases"] if c["kind"] == "duplicate_ring")
    assert ring["customers"] == ["홍*", "홍*"]
    assert [e["masked"][-4:] for e in ring["evidence"]] == [RING_CODE[-4:]] * 2
    assert not any(c in r.text for c in codes)

    r = w.client.get("/v1/admin/cases/export?format=json&status=reported", headers=fin)
    assert json.loads(r.text)["cases"] == []
    r = w.client.get("/v1/admin/cases/export?format=xml", headers=fin)
    assert r.status_code == 422
    r = w.client.get("/v1/admin/cases/export?format=csv&status=closed", headers=fin)
    assert r.status_code == 422 and r.json()["code"] == "invalid_input"
    exports = [a.detail for a in w.audit_rows("case.export")]
    assert [(e["format"], e["outcome"]) for e in exports] == [
        ("csv", "done"),
        ("json", "done"),
        ("json", "done"),
        ("csv", "refused"),
    ]
    assert exports[0]["count"] == 7


@pytest.mark.slow  # over 2 s on the loaded 2-core machine
def test_the_worker_scans_when_its_timer_is_due(world: World):
    w = world
    _world_with_every_pattern(w)
    Worker(w.deps, cases_every_s=3600).run_once()  # not due yet
    assert w.count(t.aml_cases) == 0
    Worker(w.deps, cases_every_s=0).run_once()
    with w.engine.connect() as conn:
        assert conn.execute(select(t.aml_scan_state.c.scans)).scalar_one() == 1
    found = _cases(w)  # with the default thresholds: 3 bad codes are not PIN testing
    assert sorted(k for k, _ in found) == [
        "declaration_contradicted",
        "duplicate_ring",
        "shared_account",
        "structuring",
        "velocity_spike",
    ]


@pytest.fixture
def runner(monkeypatch) -> CliRunner:
    monkeypatch.setattr(cli_console, "_width", 250)  # tables unwrapped, whatever the tty
    return CliRunner()


@pytest.mark.slow  # over 2 s on the loaded 2-core machine
def test_the_cli_scans_lists_and_exports(world: World, runner: CliRunner, tmp_path):
    w = world
    _world_with_every_pattern(w)
    db = ["--database-url", w.url]
    # The command line runs on the real clock: tell it where the fake clock's week began.
    r = runner.invoke(cli_app, ["cases", "scan", "--since", "2026-11-20", *db])
    assert r.exit_code == 0, r.output
    assert "5 case(s) opened" in r.output
    r = runner.invoke(cli_app, ["cases", "list", "--status", "open", *db])
    assert r.exit_code == 0, r.output
    assert "duplicate_ring" in r.output and "velocity_spike" in r.output
    r = runner.invoke(cli_app, ["cases", "scan", "--since", "last tuesday", *db])
    assert r.exit_code == 2, r.output
    r = runner.invoke(cli_app, ["cases", "list", "--status", "closed", *db])
    assert r.exit_code == 2, r.output
    out = tmp_path / "report.csv"
    r = runner.invoke(cli_app, ["cases", "export", "--format", "csv", "--output", str(out), *db])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert len(rows) == 5 and RING_CODE not in out.read_text(encoding="utf-8")
    out = tmp_path / "report.json"
    r = runner.invoke(cli_app, ["cases", "export", "--format", "json", "-o", str(out), *db])
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text(encoding="utf-8"))["count"] == 5
    r = runner.invoke(cli_app, ["cases", "export", "--format", "xml", "-o", str(out), *db])
    assert r.exit_code == 2
    exporters = [a.actor for a in w.audit_rows("case.export")]
    assert len(exporters) == 2 and all(a.startswith("operator:cli-") for a in exporters)
    openers = {a.actor for a in w.audit_rows("case.open")}
    assert len(openers) == 1 and openers.pop().startswith("cli:")
