"""Sign-up through the pages as a Korean customer meets it: the consents, the 인증번호
that signs in, a new code that keeps what was typed, under 14 told so, consents asked
again when their version changes, the bank list and the 1-won code as people type it."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from sqlalchemy import select
from websupport import CONSENTS, PASSWORD, Site

from giftcash.adapters.db import tables as t
from giftcash.identity import consents

FORM = {"name": "김민지", "phone": "010-4444-5555", "birth_date": "1990-01-02"}


def signup(site: Site, **extra: str):
    return site.post("/signup", {**FORM, "password": PASSWORD, **CONSENTS, **extra})


def test_the_code_signs_in_and_the_consents_are_stored_with_version_and_time(site: Site):
    form = site.client.get("/signup").text
    assert "[필수]" in form and "[선택]" in form and "이용약관" in form
    assert "개인정보 수집·이용" in form and "인증번호 받기" in form
    r = signup(site, consent_marketing_sms="on")
    assert r.status_code == 200 and "인증번호" in r.text and "코드" not in r.text
    (phone, text), *_ = site.sms.outbox
    assert "인증번호" in text and "code" not in text  # one language
    r = site.post("/signup/verify", {"phone": FORM["phone"], "code": site.sms.last_code(phone)})
    assert r.status_code == 303 and r.headers["location"] == "/accounts?done=welcome"
    page = site.client.get("/accounts?done=welcome")
    assert page.status_code == 200 and "로그인되었습니다" in page.text  # signed in
    with site.deps.uow() as uow:
        rows = uow.conn.execute(select(t.customer_consents)).all()  # type: ignore[attr-defined]
    assert {(r.document, r.version, r.agreed) for r in rows} == {
        ("terms", consents.TERMS.version, True),
        ("privacy_collection", consents.PRIVACY.version, True),
        ("marketing_sms", consents.MARKETING_SMS.version, True),
    }
    assert all(r.at is not None for r in rows)


def test_without_the_required_consents_nothing_is_sent(site: Site):
    r = site.post("/signup", {**FORM, "password": PASSWORD, "consent_terms": "on"})
    assert r.status_code == 422 and "개인정보 수집·이용에 동의해 주세요" in r.text
    assert 'value="김민지"' in r.text and "checked" in r.text  # what was typed stays
    assert not site.sms.outbox


def test_under_14_is_told_so(site: Site):
    r = signup(site, birth_date="2020-03-01")
    assert r.status_code == 422 and "만 14세 이상만" in r.text
    assert not site.sms.outbox


def test_a_new_code_keeps_what_was_typed(site: Site):
    signup(site)
    first = site.sms.last_code("01044445555")
    r = site.post("/signup/resend", {"phone": FORM["phone"]})
    assert r.status_code == 200 and "인증번호를 다시 보냈습니다" in r.text
    assert 'action="/signup/verify"' in r.text  # the same page, nothing to type again
    assert len(site.sms.outbox) == 2
    second = site.sms.last_code("01044445555")
    r = site.post("/signup/verify", {"phone": FORM["phone"], "code": second})
    assert r.status_code == 303, (first, second, r.text)
    with site.deps.uow() as uow:
        customer = uow.customers.by_phone("01044445555")
    assert customer is not None and customer.name == "김민지"


def test_a_changed_version_is_asked_before_any_signed_in_page(
    site: Site, monkeypatch: pytest.MonkeyPatch
):
    site.sign_up(phone=FORM["phone"])
    assert site.client.get("/sell", follow_redirects=False).status_code == 200
    terms_v2 = replace(consents.TERMS, version="2027-01-01")
    monkeypatch.setattr(consents, "DOCUMENTS", (terms_v2, consents.PRIVACY))
    r = site.client.get("/history", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/consents?next=/history"
    page = site.client.get("/consents?next=/history").text
    assert "약관 변경 안내" in page and "이용약관" in page and "개인정보" not in page
    r = site.post("/consents", {"next": "/history"})
    assert r.status_code == 422
    r = site.post("/consents", {"next": "/history", "consent_terms": "on"})
    assert r.status_code == 303 and r.headers["location"] == "/history"
    assert site.client.get("/history", follow_redirects=False).status_code == 200


def test_the_bank_list_starts_with_the_banks_most_people_use_and_can_be_searched(site: Site):
    site.sign_up(phone=FORM["phone"])
    html = site.client.get("/accounts").text
    order = re.findall(r'<option value="(\d{3})"', html)
    assert order[:6] == ["004", "088", "020", "081", "011", "003"]
    found = site.client.get("/accounts/banks", params={"bank_q": "토스"}).text
    assert re.findall(r'<option value="(\d{3})"', found) == ["092"]
    english = site.client.get("/accounts/banks", params={"bank_q": "shinhan"}).text
    assert re.findall(r'<option value="(\d{3})"', english) == ["088"]


def test_the_one_won_code_may_be_typed_with_spaces_and_lower_case(site: Site):
    site.sign_up(phone=FORM["phone"], name="김민지")
    site.bank.open("004", "11112222333344", "김민지")
    r = site.post(
        "/accounts",
        {"bank_code": "004", "account_number": "11112222333344", "holder_name": "김민지"},
    )
    assert r.status_code == 303, r.text
    html = site.client.get("/accounts").text
    account_id = re.search(r'action="/accounts/([^/"]+)/verify"', html).group(1)
    memo = site.bank.memo_to("004", "11112222333344")  # GC and four digits
    typed = f"gc {memo[2:4]} {memo[4:]}"
    r = site.post(f"/accounts/{account_id}/verify", {"code": typed})
    assert r.status_code == 303 and r.headers["location"] == "/accounts?done=verified"
