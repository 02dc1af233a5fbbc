"""Payment stops on the pages: the customer sees that a sale is held and whom to call (in
Korean with no English, and in English); finance files, releases and exports a stop in
the console through one-use forms, audited; a reviewer may not."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import select
from test_console_pages import Console, audit_actions
from test_korean_pages import english_in
from websupport import Site

from giftcash.adapters.db import tables as t
from giftcash.entrypoints.worker import Worker
from giftcash.identity.operators import Operator
from giftcash.stops import filing

CODE = "4180730000000001"
NUMBER = "33300000000001"


def _sale(site: Site) -> str:
    site.sign_up(phone="010-7300-0001", name="이순자")
    account = site.add_account(number=NUMBER, name="이순자")
    site.issuer.sell("cultureland", CODE, 10_000)
    r = site.post(
        "/sell",
        {
            "bank_account_id": account,
            "brand_id": "cultureland",
            "face_value": "10000",
            "funding_source": "cash",
            "mode": "paste",
            "paste": CODE,
        },
    )
    assert r.status_code == 303, r.text
    return r.headers["location"]


def _customer_id(site: Site) -> str:
    with site.deps.uow() as uow:
        return str(uow.conn.execute(select(t.customers.c.id)).scalar_one())


def _stop_customer(site: Site) -> str:
    op = Operator("op-1", "finance1", "finance")
    req = filing.StopRequest(
        scope="customer",
        requester="police",
        requester_name="서울경찰청 사이버수사대",
        requester_contact="02-700-0000",
        reference="수사-2026-114",
        reason="보이스피싱 피해금 추적",
        customer_id=_customer_id(site),
    )
    return filing.file_stop(site.deps, op, req).stop.id


def test_the_customer_sees_the_sale_held_and_whom_to_call_in_korean_and_english(site: Site):
    url = _sale(site)
    _stop_customer(site)
    Worker(site.deps).drain(20)
    site.client.cookies.set("gc_lang", "ko")
    page = site.client.get(url).text
    assert "이 판매는 지급이 보류되었습니다" in page
    assert "서울경찰청 사이버수사대" in page and "02-700-0000" in page
    assert "경찰" in page and site.deps.business.support_phone in page
    assert "지급정지로 보류 중" in page and CODE not in page
    assert english_in(page) == []
    history = site.client.get("/history").text
    assert "지급정지로 보류 중" in history and english_in(history) == []

    site.client.cookies.set("gc_lang", "en")
    page = site.client.get(url).text
    assert "This sale is held" in page and "the police" in page
    assert "Call 서울경찰청 사이버수사대 at 02-700-0000" in page


def test_finance_files_releases_and_exports_a_stop_in_the_console(site: Site):
    _sale(site)
    Worker(site.deps).drain(20)  # paid: the stop will find it paid before
    console = Console(site)
    finance = console.operator("op.finance", "finance")
    reviewer = console.operator("op.reviewer", "reviewer")
    assert reviewer.get("/admin/stops").status_code == 403

    page = finance.get("/admin/stops").text
    assert "지급정지 접수" in page
    csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1)
    form_token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    form = {
        "csrf_token": csrf,
        "form_token": form_token,
        "scope": "account",
        "bank_code": "004",
        "account_number": NUMBER,
        "requester": "bank",
        "requester_name": "국민은행 사기대응팀",
        "requester_contact": "1588-9999",
        "reference": "KB-77",
        "reason": "피해금 입금 계좌",
    }
    r = finance.post("/admin/stops", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    location = r.headers["location"]
    again = finance.post("/admin/stops", data=form, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == location  # one stop
    assert len(audit_actions(site, "payment_stop.file")) == 1

    detail = finance.get(location).text
    assert "지급정지를 접수했습니다" in detail and "지급정지 전에 지급됨" in detail
    assert "data-paid-before=" in detail and NUMBER not in detail

    stop_path = location.split("?")[0]
    csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', detail).group(1)
    r = finance.post(f"{stop_path}/export", data={"csrf_token": csrf, "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    (row,) = csv.DictReader(io.StringIO(r.text))
    assert row["finding"] == "paid_before" and CODE not in r.text

    tokens = re.findall(r'name="form_token" value="([^"]+)"', detail)
    r = finance.post(
        f"{stop_path}/release",
        data={"csrf_token": csrf, "form_token": tokens[0], "reason": "오인 신고"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "changed=released" in r.headers["location"]
    after = finance.get(r.headers["location"]).text
    assert 'data-state="released"' in after and "지급정지를 해제했습니다" in after
    (moved,) = audit_actions(site, "payment_stop.release")
    assert moved.actor == "operator:op.finance" and moved.detail["outcome"] == "done"


def test_a_partner_banks_operator_files_and_reads_only_its_stops(site: Site):
    console = Console(site)
    bank = console.operator("kb.desk", "stop_requester")
    home = bank.get("/admin", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/admin/stops"
    page = bank.get("/admin/stops").text
    assert 'href="/admin/review"' not in page and 'href="/admin/payouts"' not in page
    csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1)
    form_token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    r = bank.post(
        "/admin/stops",
        data={
            "csrf_token": csrf,
            "form_token": form_token,
            "scope": "code",
            "code": CODE,
            "requester": "bank",
            "requester_name": "국민은행",
            "requester_contact": "1588-9999",
            "reference": "KB-78",
            "reason": "피해 상품권",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    detail = bank.get(r.headers["location"]).text
    assert "/release" not in detail and "/settle" not in detail  # finance closes stops
    stop_path = r.headers["location"].split("?")[0]
    csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', detail).group(1)
    refused = bank.post(
        f"{stop_path}/release", data={"csrf_token": csrf, "reason": "x"}, follow_redirects=False
    )
    assert refused.status_code == 403
    assert console.operator("other.desk", "stop_requester").get(stop_path).status_code == 404
