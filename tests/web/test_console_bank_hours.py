"""The console's bank hours and the issuer's answers on an item, through TestClient on
SQLite (and PostgreSQL when GIFTCASH_TEST_POSTGRES_URL is set): a finance operator sees
every bank's window, adds a maintenance window (a form sent twice adds one; audited) and
removes it; the item page lists the issuer's answers and exports them with the code
masked."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta

from sqlalchemy import select
from test_console_actions import _open_case
from test_console_pages import Console, audit_actions, csrf

from giftcash.adapters.db import tables as t
from giftcash.domain.bank_hours import KST
from giftcash.entrypoints.worker import Worker
from giftcash.service.ports import BankClosed


def _form_token(html: str, action: str) -> str:
    form = html.split(f'action="{action}"', 1)[1]
    return re.search(r'name="form_token" value="([^"]+)"', form).group(1)


def test_a_finance_operator_adds_and_removes_a_maintenance_window(site):
    client = Console(site).operator("kim", "finance")
    page = client.get("/admin/bank-hours")
    assert page.status_code == 200 and "은행 점검 시간" in page.text
    assert 'data-bank="088"' in page.text
    starts = datetime.now(KST) - timedelta(minutes=5)
    ends = starts + timedelta(hours=2)
    data = {
        "csrf_token": csrf(client, "/admin/bank-hours"),
        "form_token": _form_token(page.text, "/admin/bank-hours"),
        "bank_code": "088",
        "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": ends.strftime("%Y-%m-%dT%H:%M"),
        "note": "전산 점검",
    }
    for _ in range(2):  # a double tap: one window
        r = client.post("/admin/bank-hours", data=data, follow_redirects=False)
        assert r.status_code == 303, r.text
    with site.deps.reader() as uow:
        (m,) = uow.bank_hours.maintenance(datetime.now(KST))
    assert (m.bank_code, m.note) == ("088", "전산 점검")
    assert m.ends_at == ends.replace(second=0, microsecond=0)
    page = client.get("/admin/bank-hours?saved=added").text
    row = page.split('data-bank="088"', 1)[1].split("</tr>", 1)[0]
    assert "점검 중" in row and "전산 점검" in row
    assert [a.actor for a in audit_actions(site, "bank_hours.maintenance_add")] == ["operator:kim"]

    action = f"/admin/bank-hours/{m.id}/remove"
    r = client.post(
        action,
        data={
            "csrf_token": csrf(client, "/admin/bank-hours"),
            "form_token": _form_token(page, action),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    with site.deps.reader() as uow:
        assert uow.bank_hours.maintenance(datetime.now(KST)) == []
    assert len(audit_actions(site, "bank_hours.maintenance_remove")) == 1


def test_a_maintenance_window_that_ends_before_it_starts_is_refused(site):
    client = Console(site).operator("lee", "finance")
    page = client.get("/admin/bank-hours").text
    at = datetime.now(KST) + timedelta(hours=1)
    r = client.post(
        "/admin/bank-hours",
        data={
            "csrf_token": csrf(client, "/admin/bank-hours"),
            "form_token": _form_token(page, "/admin/bank-hours"),
            "bank_code": "004",
            "starts_at": at.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (at - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        },
        follow_redirects=False,
    )
    assert r.status_code == 422
    assert "종료보다 이른 시작" in r.text  # in the console's language
    assert audit_actions(site, "bank_hours.maintenance_add") == []


def test_the_item_page_shows_and_exports_the_issuers_answers(site):
    site.sign_up("010-6100-0001", name="오세훈")
    account = site.add_account("61000000000001", name="오세훈")
    code = "4180610000000001"
    site.issuer.sell(
        "cultureland", code, 10_000, purchased_at=datetime.now(KST) - timedelta(days=3)
    )
    r = site.post(
        "/sell",
        {
            "bank_account_id": account,
            "brand_id": "cultureland",
            "face_value": "10000",
            "funding_source": "cash",
            "code": code,
        },
    )
    assert r.status_code in (200, 303), r.text
    worker = Worker(site.deps)
    try:
        worker.drain(timeout_s=30)
    finally:
        worker.close()
    with site.deps.reader() as uow:
        item_id = uow.conn.execute(select(t.items.c.id)).scalar_one()
    client = Console(site).operator("park", "finance")
    page = client.get(f"/admin/items/{item_id}").text
    answers = page.split('data-testid="issuer-answers"', 1)[1].split("</section>", 1)[0]
    assert "inquiry" in answers and "redemption" in answers and "captured" in answers
    exported = client.get(f"/admin/items/{item_id}/evidence.csv")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["kind"] for r in rows] == ["inquiry", "redemption"]
    assert code not in exported.text and rows[0]["masked_code"].endswith(code[-4:])
    sale = json.loads(
        client.get(f"/admin/submissions/{rows[0]['submission_id']}/evidence.json").text
    )
    assert len(sale["evidence"]) == 2
    reviewer = Console(site).operator("choi", "reviewer")
    assert reviewer.get(f"/admin/items/{item_id}/evidence.csv").status_code == 403

    # a case about the item shows what the issuer said beside it
    with site.deps.reader() as uow:
        customer_id = uow.conn.execute(select(t.customers.c.id)).scalar_one()
    case_id = _open_case(site, customer_id, item_id)
    case = reviewer.get(f"/admin/cases/{case_id}").text
    evidence_rows = case.split('id="evidence-title"', 1)[1].split("</section>", 1)[0]
    assert "발행사 응답" in evidence_rows and "captured" in evidence_rows


def test_the_payout_page_says_until_when_the_bank_refused_it_as_closed(site):
    site.sign_up("010-6100-0002", name="윤채원")
    account = site.add_account("61000000000002", name="윤채원")
    code = "4180610000000002"
    site.issuer.sell(
        "cultureland", code, 10_000, purchased_at=datetime.now(KST) - timedelta(days=3)
    )
    r = site.post(
        "/sell",
        {
            "bank_account_id": account,
            "brand_id": "cultureland",
            "face_value": "10000",
            "funding_source": "cash",
            "code": code,
        },
    )
    assert r.status_code in (200, 303), r.text
    opens = (datetime.now(KST) + timedelta(hours=1)).replace(microsecond=0)
    site.bank.closed = BankClosed("closed", reopens_at=opens)
    worker = Worker(site.deps)
    try:
        worker.drain(timeout_s=30)
    finally:
        worker.close()
    with site.deps.reader() as uow:
        payout_id, status = uow.conn.execute(select(t.payouts.c.id, t.payouts.c.status)).one()
    assert status == "sending"
    page = Console(site).operator("jung", "finance").get(f"/admin/payouts/{payout_id}").text
    assert "은행 점검 종료" in page and opens.strftime("%-I:%M") in page
