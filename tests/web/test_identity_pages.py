"""Sign-up through identity verification on the web (issue 14, item 1): the form sends the
request to the phone, the page asks the person to confirm there and go on, and a person
who has an account already is shown that account's masked phone, how to sign in and whom
to call, in Korean with no English and in English."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from test_korean_pages import english_in, missing  # noqa: F401 - a fixture
from websupport import CONSENTS, PASSWORD, Site

from appcache import app_for
from fakes import FakeBank, FakeIdentity, FakeIssuer, FakeSms
from giftcash.adapters.db import tables as t
from giftcash.bootstrap import build_deps
from giftcash.config import Settings
from giftcash.entrypoints.web import pages


@pytest.fixture
def idsite(engine, tmp_path) -> Iterator[tuple[Site, FakeIdentity]]:
    issuer, bank, sms, identity = FakeIssuer(), FakeBank(), FakeSms(), FakeIdentity()
    settings = Settings(data_dir=tmp_path, database_url=str(engine.url))
    deps = build_deps(
        settings,
        engine=engine,
        issuer=issuer,
        bank=bank,
        sms=sms,
        identity=identity,
        fast_passwords=True,
    )
    with TestClient(app_for(deps), base_url="http://testserver") as client:
        yield Site(client, deps, issuer, bank, sms), identity


def _signup(site: Site, phone: str):
    form = {"name": "아무개", "phone": phone, "birth_date": "2000-01-01", "password": PASSWORD}
    return site.post("/signup", form | CONSENTS)


def _count(site: Site, table) -> int:
    with site.deps.uow() as uow:  # type: ignore[attr-defined]
        return len(uow.conn.execute(table.select()).all())


def test_sign_up_waits_for_the_phone_then_signs_in_with_the_verified_name(idsite, missing):  # noqa: F811
    site, identity = idsite
    identity.person("01041000001", name="최지우", birth_date=date(1995, 3, 1))
    site.client.cookies.set("gc_lang", "ko")
    form_page = site.client.get("/signup").text
    assert "본인인증" in form_page
    waiting = _signup(site, "010-4100-0001")
    assert waiting.status_code == 200, waiting.text
    assert 'action="/signup/verify"' in waiting.text and 'name="code"' not in waiting.text
    early = site.post("/signup/verify", {"phone": "010-4100-0001"})
    assert early.status_code == 409
    assert "먼저 휴대폰에서 본인인증 요청을 확인한 뒤" in early.text
    identity.confirm("01041000001")
    done = site.post("/signup/verify", {"phone": "010-4100-0001"})
    assert done.status_code == 303, done.text
    assert done.headers["location"].startswith("/accounts")
    assert "최지우" in site.client.get("/accounts").text
    assert site.sms.outbox == []
    found = {name: english_in(html) for name, html in (("form", form_page), ("wait", waiting.text))}
    assert not any(found.values()), found
    assert not english_in(early.text), english_in(early.text)
    assert not missing, missing
    pages.environment.cache_clear()


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_same_person_on_another_phone_is_pointed_to_their_account(idsite, lang):
    site, identity = idsite
    identity.person("01042000001", ci="ci-one")
    identity.person("01042000002", ci="ci-one")
    _signup(site, "010-4200-0001")
    identity.confirm("01042000001")
    assert site.post("/signup/verify", {"phone": "010-4200-0001"}).status_code == 303
    site.client.cookies.clear()
    site.client.cookies.set("gc_lang", lang)
    _signup(site, "010-4200-0002")
    identity.confirm("01042000002")
    refused = site.post("/signup/verify", {"phone": "010-4200-0002"})
    assert refused.status_code == 409
    assert "010-****-0001" in refused.text and 'href="/signin"' in refused.text
    assert site.deps.business.support_phone in refused.text  # type: ignore[attr-defined]
    if lang == "ko":
        assert "이미 가입된 계정이 있습니다" in refused.text
        assert not english_in(refused.text), english_in(refused.text)
    else:
        assert "You already have an account" in refused.text
    assert _count(site, t.customers) == 1


def test_the_confirm_page_asks_the_catalogue_only_for_what_it_has(idsite, missing):  # noqa: F811
    site, identity = idsite
    site.client.cookies.set("gc_lang", "ko")
    identity.person("01043000001")
    _signup(site, "010-4300-0001")
    again = site.post("/signup/resend", {"phone": "010-4300-0001"})
    assert again.status_code == 200
    assert "다시 보냈습니다" in again.text
    assert not missing, missing
    pages.environment.cache_clear()


def _signed_up(site: Site, identity: FakeIdentity, phone: str) -> None:
    digits = phone.replace("-", "")
    identity.person(digits, name="최지우", birth_date=date(1995, 3, 1))
    _signup(site, phone)
    identity.confirm(digits)
    assert site.post("/signup/verify", {"phone": phone}).status_code == 303


def test_the_account_page_shows_the_level_limits_and_what_unlocks_more_in_korean(
    idsite,
    missing,  # noqa: F811
):
    site, identity = idsite
    site.client.cookies.set("gc_lang", "ko")
    _signed_up(site, identity, "010-4400-0001")
    identity.documents.add(("최지우", "9503012000000", date(2020, 1, 2)))
    page = site.client.get("/accounts").text
    assert 'data-tier="1"' in page and "본인인증 완료" in page
    assert "오늘 남은 한도" in page and "1,000,000" in page
    assert 'action="/accounts/id-document"' in page
    wrong = site.post(
        "/accounts/id-document", {"id_number": "950301-2000000", "issue_date": "2021-01-02"}
    )
    assert wrong.status_code == 422 and "유효한 신분증과 맞지 않습니다" in wrong.text
    done = site.post(
        "/accounts/id-document", {"id_number": "950301-2000000", "issue_date": "2020-01-02"}
    )
    assert done.status_code == 303, done.text
    page = site.client.get(done.headers["location"]).text
    assert 'data-tier="2"' in page and "신분증 확인 완료" in page
    assert 'action="/accounts/due-diligence"' in page  # the questions, before a large sale
    answered = site.post(
        "/accounts/due-diligence",
        {"occupation": "회사원", "source_of_funds": "급여", "purpose": "선물 받은 상품권"},
    )
    assert answered.status_code == 303, answered.text
    page = site.client.get(answered.headers["location"]).text
    assert "답변이 저장되었습니다" in page
    assert 'action="/accounts/due-diligence"' not in page
    assert not english_in(page), english_in(page)
    assert not english_in(wrong.text), english_in(wrong.text)
    assert not missing, missing
    pages.environment.cache_clear()


def test_the_account_page_in_english_names_the_level(idsite):
    site, identity = idsite
    site.client.cookies.set("gc_lang", "en")
    _signed_up(site, identity, "010-4400-0002")
    page = site.client.get("/accounts").text
    assert "Your verification level" in page and "Identity verified" in page
    assert "Left today" in page


def test_the_sell_preview_counts_what_the_level_leaves(idsite):
    site, identity = idsite
    site.client.cookies.set("gc_lang", "ko")
    _signed_up(site, identity, "010-4400-0003")
    account_id = site.add_account(name="최지우")
    form = {
        "bank_account_id": account_id,
        "brand_id": "cultureland",
        "face_value": "10000",
        "funding_source": "cash",
        "mode": "paste",
        "paste": "4180990000000001",
    }
    r = site.post("/sell/preview", form, headers={"HX-Request": "true"})
    assert r.status_code == 200, r.text
    # the day's 1,000,000 won of a verified identity, not the 3,000,000 velocity limit
    left = re.search(r'class="small limits-left">([^<]*)<', r.text)
    assert left and "1,000,000원" in left.group(1), r.text


def test_a_provider_not_answering_asks_to_try_again_and_then_goes_on(idsite):
    site, identity = idsite
    site.client.cookies.set("gc_lang", "ko")
    identity.person("01046000001")
    _signup(site, "010-4600-0001")
    identity.confirm("01046000001")
    identity.down = True
    r = site.post("/signup/verify", {"phone": "010-4600-0001"})
    assert r.status_code == 503
    assert "잠시 후 다시 시도해 주세요" in r.text and 'action="/signup/verify"' in r.text
    assert _count(site, t.customers) == 0
    identity.down = False
    assert site.post("/signup/verify", {"phone": "010-4600-0001"}).status_code == 303
    assert _count(site, t.customers) == 1
