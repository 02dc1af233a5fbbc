"""The console's cases, payouts, audit and customer search and actions through TestClient,
for each role, on SQLite (and PostgreSQL when GIFTCASH_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from test_console_pages import (
    CODES,
    ROLES,
    Console,
    _items_in_review,
    audit_actions,
    csrf,
)

from giftcash.adapters.db import tables as t
from giftcash.domain.aml import Evidence
from giftcash.entrypoints.worker import Worker
from giftcash.identity import operators
from giftcash.review import queue as review_queue
from giftcash.service import errors


@pytest.fixture
def console(site) -> Console:
    return Console(site)


def _customer_id(site) -> str:
    with site.deps.uow() as uow:
        return uow.conn.execute(select(t.customers.c.id)).scalar_one()


def _open_case(site, customer_id: str, item_id: str, kind: str = "velocity_spike") -> str:
    now = site.deps.clock.now()
    case_id = site.deps.new_id()
    with site.deps.uow() as uow:
        uow.cases.open(
            id=case_id,
            kind=kind,
            subject=f"customer:{customer_id}",
            active_key=f"{kind}|customer:{customer_id}",
            currency="KRW",
            summary="",
            now=now,
        )
        evidence = [
            Evidence(f"item:{item_id}", now, 100_000, item_id, customer_id, "*0111", "sold")
        ]
        uow.cases.add_evidence(case_id, kind, f"customer:{customer_id}", evidence, now)
        uow.commit()
    return case_id


def _form_post(client, path: str, page: str, data: dict):
    html = client.get(page).text
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html).group(1)
    form_token = re.search(r'name="form_token" value="([^"]+)"', html)
    extra = {"form_token": form_token.group(1)} if form_token else {}
    return client.post(path, data={"csrf_token": token, **extra, **data}, follow_redirects=False)


# -- cases ---------------------------------------------------------------------------------


def test_cases_list_detail_status_and_export_per_role(console: Console):
    site = console.site
    first, second, _ = _items_in_review(site)
    customer_id = _customer_id(site)
    one = _open_case(site, customer_id, first)
    two = _open_case(site, customer_id, second, kind="structuring")
    clients = {role: console.operator(f"op.{role}", role) for role in ROLES}
    assert clients["finance"].get("/admin/cases").status_code == 403
    reviewer = clients["reviewer"]
    page = reviewer.get("/admin/cases").text
    assert f'data-case="{one}"' in page and f'data-case="{two}"' in page
    assert "사건 2건" in page and "평소보다 훨씬 많은 하루 판매" in page
    only = reviewer.get("/admin/cases?kind=structuring").text
    assert f'data-case="{two}"' in only and f'data-case="{one}"' not in only
    detail = reviewer.get(f"/admin/cases/{one}").text
    assert "*0111" in detail and "최영자" in detail and CODES[0] not in detail
    # the customer page shows both open cases, not "no flags"
    record = clients["admin"].get(f"/admin/customers/{customer_id}").text
    assert record.count("data-case=") == 2 and "열린 사건" in record

    page = f"/admin/cases/{one}"
    r = _form_post(reviewer, f"{page}/status", page, {"status": "under_review", "note": " "})
    assert r.status_code == 422
    r = _form_post(reviewer, f"{page}/status", page, {"status": "under_review", "note": "checking"})
    assert r.status_code == 303 and "changed=under_review" in r.headers["location"]
    r = _form_post(reviewer, f"{page}/status", page, {"status": "reported", "note": "sent STR"})
    assert 'data-status="reported"' in reviewer.get(page).text
    moves = audit_actions(site, "case.status")
    assert [m.detail["outcome"] for m in moves] == ["refused", "done", "done"]
    assert all(m.actor == "operator:op.reviewer" for m in moves)

    token = csrf(reviewer, "/admin/cases")
    out = reviewer.post(
        "/admin/cases/export", data={"csrf_token": token, "format": "csv", "status": "all"}
    )
    assert out.status_code == 200 and out.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(out.text)))
    assert {r["case_id"] for r in rows} == {one, two} and rows[0]["customers"] == "최*"
    out = reviewer.post(
        "/admin/cases/export", data={"csrf_token": token, "format": "json", "status": "active"}
    )
    assert [c["case_id"] for c in json.loads(out.text)["cases"]] == [two]
    assert len(audit_actions(site, "case.export")) == 2


def test_a_case_asks_its_customers_for_due_diligence(console: Console):
    from giftcash.identity import tiers

    site = console.site
    first, _, _ = _items_in_review(site)
    customer_id = _customer_id(site)
    case = _open_case(site, customer_id, first)
    reviewer = console.operator("op.reviewer", "reviewer")
    page = f"/admin/cases/{case}"
    assert 'action="/admin/cases/' + case + '/require-edd"' in reviewer.get(page).text
    r = _form_post(reviewer, f"{page}/require-edd", page, {"reason": "자금 출처 확인"})
    assert r.status_code == 303 and r.headers["location"].endswith("edd=asked")
    assert "강화된 고객확인을 요청했습니다" in reviewer.get(r.headers["location"]).text
    view = tiers.view(site.deps, customer_id)
    assert (
        view.facts.edd_required and view.edd_required_reason == f"case {case[-8:]}: 자금 출처 확인"
    )
    (asked,) = audit_actions(site, "customer.require_edd")
    assert asked.actor == "operator:op.reviewer" and asked.subject == f"customer:{customer_id}"


# -- payouts -------------------------------------------------------------------------------


def test_payouts_list_names_customer_account_and_one_transfer(console: Console):
    site = console.site
    first, _, _ = _items_in_review(site)
    op = console.operator("adm", "admin")
    review_queue.approve(
        site.deps, operators.authenticate(site.deps, op.cookies["gc_op_session"]), first, "ok"
    )
    Worker(site.deps).drain(20)
    finance = console.operator("fin", "finance")
    page = finance.get("/admin/payouts").text
    assert "최영자" in page and "*6677" in page and "90,000원" in page
    assert 'data-attempts="1"' in page  # sent once, checked once: the bank saw one transfer
    assert "44445555666677" not in page
    assert site.bank.paid_to("004", "44445555666677") == 90_000
    payout_id = re.search(r'data-payout="([^"]+)"', page).group(1)
    assert 'data-attempts="1"' in finance.get(f"/admin/payouts/{payout_id}").text
    assert console.operator("rev", "reviewer").get("/admin/payouts").status_code == 403


# -- audit ---------------------------------------------------------------------------------


def test_audit_filters_and_target_links(console: Console):
    site = console.site
    first, _, _ = _items_in_review(site)
    reviewer = console.operator("rev", "reviewer")
    token = csrf(reviewer, "/admin/review")
    reviewer.post(f"/admin/review/{first}/approve", data={"csrf_token": token, "reason": "ok"})
    finance = console.operator("fin", "finance")
    page = finance.get("/admin/audit?action=item.approve").text
    assert ">item.approve<" in page and ">operator.login<" not in page
    assert f'href="/admin/items/{first}"' in page  # finance opens items
    assert ">operator.login<" not in finance.get("/admin/audit?actor=nobody").text
    assert ">item.approve<" in finance.get("/admin/audit?target=item").text
    assert ">item.approve<" not in finance.get("/admin/audit?target=case").text
    now = site.deps.clock.now().date()  # the exchange's calendar day is this or the next
    since, until = (now - timedelta(days=1)).isoformat(), (now + timedelta(days=1)).isoformat()
    assert ">item.approve<" in finance.get(f"/admin/audit?since={since}&until={until}").text
    assert ">item.approve<" not in finance.get("/admin/audit?until=2000-01-01").text
    assert finance.get("/admin/audit?since=yesterday").status_code == 422
    assert console.operator("rev2", "reviewer").get("/admin/audit").status_code == 403


# -- search and action ---------------------------------------------------------------------


def test_search_by_code_account_and_device_and_recent_first(console: Console):
    site = console.site
    _items_in_review(site)
    client = console.operator("adm", "admin")
    assert "최영자" in client.get("/admin/customers").text  # before any search
    by_code = client.get(f"/admin/customers?by=code&q={CODES[1]}").text
    assert "최영자" in by_code and CODES[1] not in by_code  # the code is not echoed
    assert "고객 0명" in client.get("/admin/customers?by=code&q=4180000000009999").text
    assert "최영자" in client.get("/admin/customers?by=account&q=4444-5555-6666-77").text
    assert "최영자" in client.get("/admin/customers?by=device&q=testclient").text
    assert client.get("/admin/customers?by=account&q=12").status_code == 422
    for role in ("reviewer", "finance"):
        r = console.operator(f"x.{role}", role).get("/admin/customers?by=code&q=1")
        assert r.status_code == 403


def test_block_refuses_sign_in_and_sale_and_notes_are_audited(console: Console):
    site = console.site
    _items_in_review(site)
    customer_id = _customer_id(site)
    client = console.operator("adm", "admin")
    page = f"/admin/customers/{customer_id}"
    r = _form_post(client, f"{page}/notes", page, {"note": "called her: gifts"})
    assert r.status_code == 303 and "called her: gifts" in client.get(page).text
    r = _form_post(client, f"{page}/block", page, {"kind": "customer", "reason": ""})
    assert r.status_code == 422
    r = _form_post(client, f"{page}/block", page, {"kind": "customer", "reason": "scam ring"})
    assert r.status_code == 303 and 'data-blocked="yes"' in client.get(page).text
    # her session ended, and she cannot sign in or sell
    assert site.client.get("/sell", follow_redirects=False).status_code == 303
    with pytest.raises(errors.CustomerBlocked):
        from giftcash.identity import customers

        customers.issue_token(site.deps, phone="010-4444-5555", password="a long enough password")
    r = _form_post(client, f"{page}/unblock", page, {"kind": "customer", "reason": "cleared"})
    assert r.status_code == 303 and 'data-blocked="yes"' not in client.get(page).text
    r = _form_post(
        client, f"{page}/block", page, {"kind": "device", "device": "testclient", "reason": "x"}
    )
    assert r.status_code == 303
    with pytest.raises(errors.CustomerBlocked):
        from giftcash.identity import customers

        customers.issue_token(
            site.deps,
            phone="010-4444-5555",
            password="a long enough password",
            device_key="testclient",
        )
    actions = [a.action for a in audit_actions(site, "customer.note")]
    actions += [a.action for a in audit_actions(site, "customer.block")]
    actions += [a.action for a in audit_actions(site, "device.block")]
    assert actions == ["customer.note", "customer.block", "customer.block", "device.block"]


def test_review_card_names_the_condition_the_phone_and_when_money_moves(console: Console):
    site = console.site
    _items_in_review(site)
    page = console.operator("rev", "reviewer").get("/admin/review").text
    assert page.count('data-condition="scam_check:recent_and_large"') == 3
    assert "첫 판매이며, 판매 직전에 산 상품권이 확인 기준 금액을 넘음" in page
    assert 'href="tel:01044445555"' in page and "010-4444-5555" in page
    assert "승인: 몇 분 안에 지급" in page
