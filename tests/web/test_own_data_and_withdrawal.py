"""The customer's own data and withdrawal (탈퇴) on the account page (issue 14, item 4):
the download is the customer's own JSON with account numbers masked; withdrawal asks the
password again, waits for open sales, uses its form once, ends the session, and the
Korean pages say all of it in Korean."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import select
from starlette.datastructures import FormData
from test_form_tokens import form_token, sell_form
from test_identity_pages import idsite  # noqa: F401 - a fixture
from test_korean_pages import english_in
from websupport import CONSENTS, PASSWORD, Site

from giftcash.adapters.db import tables as t
from giftcash.entrypoints.web import form_tokens
from giftcash.identity import tiers
from giftcash.identity.operators import Operator
from giftcash.stops import filing


def _withdraw(site: Site, password: str = PASSWORD, token: str | None = None):
    token = token or form_token(site, "/accounts")
    return site.post("/accounts/withdraw", {"form_token": token, "password": password})


def _status(site: Site, phone: str) -> str:
    with site.deps.uow() as uow:  # type: ignore[attr-defined]
        return uow.conn.execute(
            select(t.customers.c.status).where(t.customers.c.phone == phone)
        ).scalar_one()


def test_the_customer_downloads_their_own_data(site: Site):
    site.sign_up(phone="010-3100-0001", name="김민지")
    site.add_account("31000000000001", name="김민지")
    r = site.client.get("/accounts/data")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["content-disposition"].startswith("attachment;")
    doc = json.loads(r.text)
    assert doc["format"] == "giftcash.own-data.v1"
    assert (doc["profile"]["name"], doc["profile"]["phone"]) == ("김민지", "01031000001")
    assert doc["profile"]["birth_date"] == "1990-01-02"
    assert {c["document"] for c in doc["consents"] if c["agreed"]} >= {
        "terms",
        "privacy_collection",
    }
    [account] = doc["bank_accounts"]
    assert account["status"] == "verified" and account["holder_name"] == "김민지"
    assert account["account_number_masked"].endswith("0001")
    assert "31000000000001" not in r.text  # the full number never leaves
    assert doc["sales"] == [] and doc["payouts"] == [] and doc["truncated"] is False


def test_signed_out_there_is_no_download(site: Site):
    r = site.client.get("/accounts/data", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/signin")


def test_withdrawal_in_korean_ends_the_account_and_the_session(site: Site):
    site.client.cookies.set("gc_lang", "ko")
    site.sign_up(phone="010-3100-0002")
    page = site.client.get("/accounts").text
    assert "회원 탈퇴" in page and "365일" in page and "5년" in page
    assert english_in(page) == []

    wrong = _withdraw(site, password="not the password")
    assert wrong.status_code == 401
    assert "비밀번호가 맞지 않습니다." in wrong.text and english_in(wrong.text) == []
    assert _status(site, "01031000002") == "active"
    for _ in range(4):  # five wrong in all: then even the right one waits
        _withdraw(site, password="still not it")
    locked = _withdraw(site)
    assert locked.status_code == 429 and "몇 분 뒤에 다시" in locked.text
    assert english_in(locked.text) == [] and _status(site, "01031000002") == "active"
    site.deps.clock = _Later(site.deps.clock)  # type: ignore[attr-defined]

    done = _withdraw(site)
    assert done.status_code == 200, done.text
    assert "회원 탈퇴가 완료되었습니다" in done.text and english_in(done.text) == []
    assert _status(site, "01031000002") == "withdrawn"
    # the session is over: the account page sends to sign-in, and sign-in is refused
    assert site.client.get("/accounts", follow_redirects=False).status_code == 303
    again = site.post("/signin", {"phone": "010-3100-0002", "password": PASSWORD})
    assert "탈퇴한 계정입니다" in again.text and english_in(again.text) == []


def test_an_open_sale_finishes_before_withdrawal(site: Site):
    site.client.cookies.set("gc_lang", "ko")
    site.sign_up(phone="010-3100-0003")
    account_id = site.add_account("31000000000003")
    site.issuer.sell("cultureland", "4180000000310003", 10_000)
    sold = site.post("/sell", sell_form(account_id, form_token(site, "/sell"), "4180000000310003"))
    assert sold.status_code == 303, sold.text  # received: the worker has not run
    refused = _withdraw(site)
    assert refused.status_code == 409
    assert "진행 중인 판매가 있습니다" in refused.text and english_in(refused.text) == []
    assert _status(site, "01031000003") == "active"
    # the sale is in the download, its code masked
    r = site.client.get("/accounts/data")
    [sale] = json.loads(r.text)["sales"]
    [item] = sale["items"]
    assert (item["brand_id"], item["face_value"], item["status"]) == (
        "cultureland",
        10_000,
        "received",
    )
    assert item["masked_code"].endswith("0003") and "4180000000310003" not in r.text


def test_the_withdrawal_form_is_used_once(site: Site):
    site.sign_up(phone="010-3100-0004")
    token = form_token(site, "/accounts")
    assert _withdraw(site, token=token).status_code == 200
    with site.deps.uow() as uow:  # type: ignore[attr-defined]
        withdrawals = uow.conn.execute(
            select(t.audit_log.c.seq).where(t.audit_log.c.action == "customer.withdraw")
        ).all()
    assert len(withdrawals) == 1
    # sent again (a browser retry): the session is over, so nothing more is done
    replay = _withdraw(site, token=token)
    assert replay.status_code == 303 and replay.headers["location"].startswith("/signin")


def test_the_password_is_not_in_the_forms_stored_request_hash():
    request = SimpleNamespace(method="POST", url=SimpleNamespace(path="/accounts/withdraw"))
    one = FormData([("form_token", "a"), ("password", "first password")])
    other = FormData([("form_token", "a"), ("password", "another one")])
    assert form_tokens._request_hash(request, one) == form_tokens._request_hash(request, other)


class _Later:
    """The clock past the failures' window (15 minutes), within the session's hour."""

    def __init__(self, clock: object) -> None:
        self.clock = clock

    def now(self) -> datetime:
        return self.clock.now() + timedelta(minutes=20)  # type: ignore[attr-defined]


def _customer_id(site: Site, phone: str) -> str:
    with site.deps.uow() as uow:  # type: ignore[attr-defined]
        return uow.conn.execute(
            select(t.customers.c.id).where(t.customers.c.phone == phone)
        ).scalar_one()


def test_the_download_has_the_tier_the_verified_identity_and_the_edd_answers(idsite):  # noqa: F811
    site, identity = idsite
    identity.person("01031000007", name="정확인", birth_date=date(1985, 4, 3), ci="ci-own")
    form = {"name": "정확인", "phone": "010-3100-0007", "birth_date": "1985-04-03"}
    assert site.post("/signup", form | {"password": PASSWORD, **CONSENTS}).status_code == 200
    identity.confirm("01031000007")
    assert site.post("/signup/verify", {"phone": "010-3100-0007"}).status_code == 303
    customer_id = _customer_id(site, "01031000007")
    op = Operator("op-1", "adm", "admin")
    tiers.require_edd(site.deps, op, customer_id, "case 12345678: 자금 출처 확인")
    tiers.answer_edd(
        site.deps, customer_id, occupation="자영업", source_of_funds="사업 소득", purpose="정산"
    )
    r = site.client.get("/accounts/data")
    assert r.status_code == 200
    dd = json.loads(r.text)["due_diligence"]
    assert dd["level"] == 1 and dd["edd_asked"] is False  # answered after it was asked
    person = dd["identity"]
    assert (person["name"], person["birth_date"], person["phone"]) == (
        "정확인",
        "1985-04-03",
        "01031000007",
    )
    answers = dd["edd_answers"]
    assert (answers["occupation"], answers["source_of_funds"], answers["purpose"]) == (
        "자영업",
        "사업 소득",
        "정산",
    )
    # not the provider's identifiers, not the operator's reason for asking
    assert "ci-own" not in r.text and "di-ci-own" not in r.text
    assert "자금 출처 확인" not in r.text and "12345678" not in r.text


def test_a_payment_stop_refuses_withdrawal_in_korean(site: Site):
    site.client.cookies.set("gc_lang", "ko")
    site.sign_up(phone="010-3100-0008")
    finance = Operator("op-f", "finance1", "finance")
    request = filing.StopRequest(
        scope="customer",
        requester="police",
        requester_name="서울경찰청",
        requester_contact="112",
        reference="P-2026-1",
        reason="보이스피싱 수사",
        customer_id=_customer_id(site, "01031000008"),
    )
    filing.file_stop(site.deps, finance, request)
    refused = _withdraw(site)
    assert refused.status_code == 409
    assert "지급정지가 걸려 있습니다" in refused.text and english_in(refused.text) == []
    assert _status(site, "01031000008") == "active"
