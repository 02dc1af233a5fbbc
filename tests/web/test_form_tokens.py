"""A web form that creates or moves something carries a one-use token, its idempotency
key: sent twice (a double tap, a browser retry) it leaves one effect and answers with the
first answer; an expired or foreign token is refused in the page's language, nothing done."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from websupport import CONSENTS, Site, confirmed_fields

from giftcash.adapters.db import tables as t
from giftcash.entrypoints.web import form_tokens

CODE = "4180000000000021"


def form_token(site: Site, path: str) -> str:
    match = re.search(r'name="form_token" value="([^"]+)"', site.client.get(path).text)
    assert match, f"no form token on {path}"
    return match.group(1)


def sell_form(account_id: str, token: str, code: str = CODE) -> dict:
    return {
        "form_token": token,
        "bank_account_id": account_id,
        "brand_id": "cultureland",
        "face_value": "10000",
        "funding_source": "cash",
        "mode": "one",
        "code": code,
    }


def count(site: Site, table, *where) -> int:
    with site.deps.uow() as uow:  # type: ignore[attr-defined]
        return int(uow.conn.execute(select(func.count()).select_from(table).where(*where)).scalar())


def test_a_sell_form_sent_twice_makes_one_sale_and_flags_no_one(site: Site):
    site.sign_up()
    account_id = site.add_account()
    token = form_token(site, "/sell")
    shown = site.post("/sell", {**sell_form(account_id, token), "step": "review"})
    confirmed = {**sell_form(account_id, token), **confirmed_fields(shown.text)}
    first = site.post("/sell", confirmed)  # "Sell for ...", tapped twice
    again = site.post("/sell", confirmed)
    assert first.status_code == again.status_code == 303, again.text
    assert again.headers["location"] == first.headers["location"]  # the same receipt
    assert first.headers["location"].startswith("/submissions/")
    assert count(site, t.submissions) == count(site, t.items) == 1
    assert count(site, t.items, t.items.c.decline_code == "duplicate_code") == 0
    assert count(site, t.items, t.items.c.status == "declined") == 0
    assert count(site, t.aml_cases) == count(site, t.aml_case_evidence) == 0
    assert count(site, t.failed_attempts) == 0
    # a new form (a new token) with the same code is refused before it is sent
    second = site.post("/sell", sell_form(account_id, form_token(site, "/sell")))
    assert second.status_code == 422 and "이미 giftcash에 접수된 상품권 번호" in second.text
    assert count(site, t.submissions) == 1


def test_the_same_token_with_other_values_is_refused_and_does_nothing(site: Site):
    site.sign_up()
    account_id = site.add_account()
    token = form_token(site, "/sell")
    assert site.post("/sell", sell_form(account_id, token)).status_code == 303
    changed = site.post("/sell", sell_form(account_id, token, code="4180000000000022"))
    assert changed.status_code == 409
    assert "이미 다른 내용으로 보내졌습니다" in changed.text
    assert count(site, t.submissions) == count(site, t.items) == 1


def test_an_expired_token_is_refused_in_the_pages_language(site: Site, monkeypatch):
    site.sign_up()
    account_id = site.add_account()
    with monkeypatch.context() as m:
        m.setattr(form_tokens, "TTL_S", -1)
        stale = form_token(site, "/sell")
    r = site.post("/sell", sell_form(account_id, stale))
    assert r.status_code == 409 and "유효시간이 지났거나" in r.text
    assert CODE not in r.text
    site.client.post("/lang", data={"csrf_token": site.csrf(), "lang": "en"})
    r = site.post("/sell", sell_form(account_id, stale))
    assert r.status_code == 409 and "This form has expired" in r.text
    assert count(site, t.submissions) == count(site, t.items) == 0


def test_a_token_from_another_session_or_forged_is_refused(site: Site):
    site.sign_up()
    account_id = site.add_account()
    other = Site(
        TestClient(site.client.app, base_url="http://testserver"),
        site.deps,
        site.issuer,
        site.bank,
        site.sms,
    )
    other.sign_up(phone="010-4444-5555", name="김철수")
    foreign = form_token(other, "/accounts")  # any form of that session
    for token in (foreign, "x.1.y", "nonsense", foreign.rsplit(".", 1)[0] + ".00"):
        r = site.post("/sell", sell_form(account_id, token))
        assert r.status_code == 409 and "다른 세션에서 연 양식" in r.text, token
    assert count(site, t.submissions) == 0


def test_a_refused_form_keeps_its_token_so_the_corrected_form_can_be_sent(site: Site):
    site.sign_up()
    account_id = site.add_account()
    token = form_token(site, "/sell")
    refused = site.post(
        "/sell", sell_form("no-such-account", token), headers={"HX-Request": "true"}
    )
    assert refused.status_code >= 400 and count(site, t.submissions) == 0
    r = site.post("/sell", sell_form(account_id, token), headers={"HX-Request": "true"})
    assert r.status_code == 200 and r.headers["HX-Redirect"].startswith("/submissions/")
    assert count(site, t.submissions) == 1


def test_adding_and_verifying_an_account_twice_has_one_effect(site: Site):
    site.sign_up()
    site.bank.open("004", "55556666777788", "홍길동")
    form = {"bank_code": "004", "account_number": "55556666777788", "holder_name": "홍길동"}
    token = form_token(site, "/accounts")
    first = site.post("/accounts", {**form, "form_token": token})
    again = site.post("/accounts", {**form, "form_token": token})
    assert first.status_code == again.status_code == 303
    assert again.headers["location"] == first.headers["location"] == "/accounts?done=added"
    assert count(site, t.bank_accounts) == 1
    assert len(site.bank.transfers) == 1  # one 1-won deposit
    html = site.client.get("/accounts").text
    account_id = re.search(r'action="/accounts/([^/"]+)/verify"', html).group(1)
    token = re.search(
        r'action="/accounts/[^"]+/verify">.*?name="form_token" value="([^"]+)"', html, re.S
    ).group(1)
    code = {"code": site.bank.memo_to("004", "55556666777788"), "form_token": token}
    first = site.post(f"/accounts/{account_id}/verify", code)
    again = site.post(f"/accounts/{account_id}/verify", code)
    assert first.status_code == again.status_code == 303, again.text
    assert again.headers["location"] == "/accounts?done=verified"


def test_signup_and_its_phone_code_sent_twice_answer_as_the_first(site: Site):
    form = {"name": "홍길동", "phone": "010-2222-3333", "birth_date": "1990-01-02"}
    form["password"] = "a long enough password"
    form |= CONSENTS
    token = form_token(site, "/signup")
    first = site.post("/signup", {**form, "form_token": token})
    again = site.post("/signup", {**form, "form_token": token})
    assert first.status_code == again.status_code == 200
    assert 'action="/signup/verify"' in again.text  # not "this phone is taken"
    assert count(site, t.customers) == 1
    assert len(site.sms.outbox) == 1  # one code sent
    token = re.search(r'name="form_token" value="([^"]+)"', first.text).group(1)
    code = {"phone": form["phone"], "code": site.sms.last_code("01022223333")}
    first = site.post("/signup/verify", {**code, "form_token": token})
    again = site.post("/signup/verify", {**code, "form_token": token})
    assert first.status_code == 303, first.text  # confirmed and signed in
    assert again.status_code == 303, again.text  # the signed-in browser goes on, no error
    assert again.headers["location"] == "/accounts"
