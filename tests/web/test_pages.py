"""The customer pages through TestClient over in-memory issuer, bank and SMS fakes, on
SQLite (and PostgreSQL when GIFTCASH_TEST_POSTGRES_URL is set): the flow, the forms'
answers, and the page security (CSRF, cookies, headers, no code echoed)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from websupport import CONSENTS, PASSWORD, Site

from apiworld import bounce_the_payout
from giftcash.adapters.db import tables as t
from giftcash.entrypoints.web import customer_routers
from giftcash.entrypoints.web.security import CONTENT_SECURITY_POLICY, safe_next
from giftcash.entrypoints.worker import Worker

CODES = ["4180000000000011", "4180000000000012", "4160000000000013"]


def paste(site: Site, account_id: str, lines: list[str], **extra) -> object:
    data = {
        "bank_account_id": account_id,
        "brand_id": "cultureland",
        "face_value": "10000",  # three of these stay under the first-sale hold
        "funding_source": "cash",
        "mode": "paste",
        "paste": "\n".join(lines),
        **extra,
    }
    return site.post("/sell", data)


def test_home_lists_todays_rates_in_korean_with_security_headers(site: Site):
    r = site.client.get("/")
    assert r.status_code == 200
    assert '<html lang="ko">' in r.text
    assert "컬쳐랜드 모바일 문화상품권" in r.text and "90%" in r.text
    assert "100,000원 → 90,000원" in r.text
    assert "해피머니 상품권" in r.text and "중단" in r.text  # disabled brands say so
    csp = r.headers["content-security-policy"]
    assert csp == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in csp and "unsafe" not in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["cache-control"] == "no-store"
    assert "<script>" not in r.text and " style=" not in r.text  # nothing inline
    assert "gc_pre=" in r.headers["set-cookie"]  # the pre-session CSRF binding


def test_static_files_are_served_from_the_package(site: Site):
    r = site.client.get("/static/htmx.min.js")
    assert r.status_code == 200 and "htmx" in r.text[:2000]
    assert site.client.get("/static/app.css").status_code == 200


def test_language_switch_persists_in_a_cookie(site: Site):
    r = site.post("/lang", {"lang": "en", "next": "/quote"})
    assert r.status_code == 303 and r.headers["location"] == "/quote"
    assert "gc_lang=en" in r.headers["set-cookie"]
    page = site.client.get("/").text
    assert '<html lang="en">' in page and "Today's rates" in page
    assert "₩100,000 pays ₩90,000" in page
    r = site.post("/lang", {"lang": "ko", "next": "https://evil.example/"})
    assert r.headers["location"] == "/"  # never an open redirect
    assert '<html lang="ko">' in site.client.get("/").text


def test_every_post_refuses_a_missing_wrong_or_cross_site_csrf_token(site: Site):
    site.sign_up()
    posts = sorted(
        {
            r.path.replace("{account_id}", "x")
            for router in customer_routers()
            for r in router.routes
            if "POST" in r.methods
        }
    )
    assert {"/signup", "/signin", "/sell", "/sell/check", "/accounts", "/lang"} <= set(posts)
    token = site.csrf()
    for path in posts:
        assert site.client.post(path, data={"phone": "x"}).status_code == 403, path
        r = site.client.post(path, data={"csrf_token": "0" * 64})
        assert r.status_code == 403, path
        assert "text/html" in r.headers["content-type"]
        r = site.client.post(path, headers={"X-CSRF-Token": "bad", "HX-Request": "true"})
        assert r.status_code == 403, path
        r = site.client.post(
            path, data={"csrf_token": token}, headers={"Origin": "https://evil.example"}
        )
        assert r.status_code == 403, path
    same_site = site.client.post(
        "/lang",
        data={"csrf_token": site.csrf(), "lang": "en"},
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert same_site.status_code == 303  # the same token from this site goes through


def test_a_token_from_another_session_is_refused(site: Site, engine):
    other = TestClient(site.client.app)
    stolen = Site(other, site.deps, site.issuer, site.bank, site.sms).csrf()
    r = site.client.post("/lang", data={"csrf_token": stolen, "lang": "en"})
    assert r.status_code == 403


def test_pages_that_need_a_session_send_you_to_sign_in(site: Site):
    r = site.client.get("/sell", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=/sell"
    r = site.client.get("/history", headers={"HX-Request": "true"}, follow_redirects=False)
    assert r.headers["hx-redirect"] == "/signin?next=/history"
    assert 'name="next" value="/sell"' in site.client.get("/signin?next=/sell").text
    assert 'value="/sell"' in site.client.get("/signin?next=//evil.example").text


def session_cookie(response) -> str:
    return next(c for c in response.headers.get_list("set-cookie") if c.startswith("gc_session="))


def test_session_cookie_is_httponly_samesite_and_secure_over_https(site: Site):
    site.sign_up()
    r = site.post("/signin", {"phone": "010-2222-3333", "password": PASSWORD})
    cookie = session_cookie(r)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    https = TestClient(site.client.app, base_url="https://testserver")
    s = Site(https, site.deps, site.issuer, site.bank, site.sms)
    r = s.post("/signin", {"phone": "010-2222-3333", "password": PASSWORD})
    assert r.status_code == 303
    cookie = session_cookie(r)
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert r.headers["location"] == "/sell"


def test_wrong_password_and_unverified_phone_are_explained(site: Site):
    r = site.post("/signin", {"phone": "010-9999-0000", "password": "wrong password!"})
    assert r.status_code == 401 and "휴대폰 번호 또는 비밀번호가 맞지 않습니다" in r.text
    site.post(
        "/signup",
        {
            "name": "홍길동",
            "phone": "010-9999-0000",
            "birth_date": "1990-01-02",
            "password": PASSWORD,
            **CONSENTS,
        },
    )
    r = site.post("/signin", {"phone": "010-9999-0000", "password": PASSWORD})
    assert r.status_code == 403 and "인증번호로 휴대폰 번호를 확인" in r.text
    r = site.post("/signup/verify", {"phone": "010-9999-0000", "code": "000000"})
    assert r.status_code == 422 and "인증번호가 맞지 않습니다" in r.text


def test_signup_form_reports_bad_input_and_keeps_what_was_typed(site: Site):
    r = site.post(
        "/signup", {"name": "홍길동", "phone": "12345", "birth_date": "1990-01-02", "password": "x"}
    )
    assert r.status_code == 422 and "010-1234-5678" in r.text
    assert 'value="홍길동"' in r.text and 'value="12345"' in r.text
    r = site.post(
        "/signup", {"name": "홍길동", "phone": "010-1111-2222", "birth_date": "yesterday"}
    )
    assert r.status_code == 422 and "생년월일" in r.text


def test_signup_to_paid_through_the_pages(site: Site):
    site.sign_up()
    assert "먼저 본인 명의 계좌를 등록" in site.client.get("/sell").text
    account_id = site.add_account()
    accounts = site.client.get("/accounts").text
    assert "인증 완료" in accounts and "11112222333344" not in accounts  # masked
    for c in CODES:
        site.issuer.sell("cultureland", c, 10_000)
    seen = []
    r = paste(site, account_id, CODES)
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    assert re.fullmatch(r"/submissions/[0-9a-f-]{36}", url)
    seen.append(site.client.get(url).text)
    assert seen[-1].count('data-status="received"') == 3
    assert 'hx-trigger="every 1500ms"' in seen[-1]  # polling while items move
    Worker(site.deps).drain(20)
    seen.append(site.client.get(url + "/live").text)
    assert seen[-1].count('data-status="paid"') == 3
    assert "hx-trigger" not in seen[-1]  # done: the polling stops
    assert "27,000원" in seen[-1]
    history = site.client.get("/history").text
    seen.append(history)
    assert "완료" in history and "입금 확인" in history
    receipt_url = re.search(r'href="(/payouts/[^"]+)"', history).group(1)
    receipt = site.client.get(receipt_url).text
    seen.append(receipt)
    assert "27,000원" in receipt and "30,000원" in receipt and "**********3344" in receipt
    for page in seen:
        for c in CODES:
            assert c not in page  # never in full
    for page in (seen[0], seen[1], receipt):
        assert all(f"*{c[-4:]}<" in page for c in CODES)  # masked: the last four only


def test_receipts_and_sales_of_another_customer_are_not_found(site: Site):
    site.sign_up()
    account_id = site.add_account()
    site.issuer.sell("cultureland", CODES[0], 10_000)
    url = paste(site, account_id, CODES[:1]).headers["location"]
    Worker(site.deps).drain(20)
    receipt = re.search(r'href="(/payouts/[^"]+)"', site.client.get(url).text).group(1)
    stranger = Site(TestClient(site.client.app), site.deps, site.issuer, site.bank, site.sms)
    stranger.sign_up(phone="010-4444-5555", name="김철수")
    for path in (url, receipt):
        r = stranger.client.get(path)
        assert r.status_code == 404 and "text/html" in r.headers["content-type"]
        assert "찾을 수 없습니다" in r.text


def test_paste_with_a_bad_line_is_refused_by_line_without_echoing_codes(site: Site):
    site.sign_up()
    account_id = site.add_account()
    r = paste(site, account_id, [CODES[0], "41800000000000", CODES[1]])
    assert r.status_code == 422
    assert "2번째 줄" in r.text and "14자리" in r.text
    assert CODES[0] not in r.text and "41800000000000" not in r.text
    assert "<textarea" in r.text and "</textarea>" in r.text
    r = paste(site, account_id, [CODES[0], CODES[0]], **{"HX": "1"})
    assert r.status_code == 422 and "1번째 줄과 2번째 줄의 상품권 번호가 같습니다" in r.text
    htmx = site.client.post(
        "/sell",
        data={
            "csrf_token": site.csrf(),
            "bank_account_id": account_id,
            "brand_id": "cultureland",
            "face_value": "50000",
            "funding_source": "cash",
            "mode": "paste",
            "paste": "4180",
        },
        headers={"HX-Request": "true"},
    )
    assert htmx.status_code == 422 and "<html" not in htmx.text  # only the message area
    assert "1번째 줄" in htmx.text


def test_format_check_answers_ok_or_a_reason_never_the_code(site: Site):
    site.sign_up()
    token = site.csrf("/sell")

    def check(**data) -> str:
        r = site.client.post(
            "/sell/check",
            data={"brand_id": "cultureland", **data},
            headers={"HX-Request": "true", "X-CSRF-Token": token},
        )
        assert r.status_code == 200
        return r.text

    assert "형식이 올바릅니다" in check(mode="one", code=CODES[0])
    answer = check(mode="one", code="999912345678")
    assert "12자리" in answer and "999912345678" not in answer and "1번째" not in answer
    assert "시작 번호" in check(mode="one", code="9999123456789012")
    answer = check(mode="paste", paste=f"{CODES[0]}\n{CODES[1]}\nABC")
    assert "3번째 줄" in answer and CODES[0] not in answer
    assert "상품권 번호 2개" not in answer
    assert "상품권 번호 2개의 형식이 올바릅니다" in check(mode="paste", paste="\n".join(CODES[:2]))
    pin_brand = site.client.post(
        "/sell/check",
        data={"brand_id": "booknlife", "mode": "paste", "paste": "1234567890123456 2026010"},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    ).text
    assert "8자리 발행일(YYYYMMDD)" in pin_brand and "1234567890123456" not in pin_brand


def items_stored(site: Site) -> int:
    with site.deps.uow() as uow:  # type: ignore[attr-defined]
        return int(uow.conn.execute(select(func.count()).select_from(t.items)).scalar())


def test_csv_upload_is_confirmed_like_a_paste_then_sells_each_row(site: Site):
    site.sign_up()
    account_id = site.add_account()
    site.issuer.sell("cultureland", CODES[0], 10_000)
    site.issuer.sell("booknlife", "1234567890123456", 5_000, pin="20260101")
    body = (
        "brand_id,code,pin,face_value,funding_source\n"
        f"cultureland,{CODES[0]},,10000,cash\n"
        "booknlife,1234-5678-9012-3456,20260101,5000,gift\n"
    )

    def upload(**fields: str):
        return site.client.post(
            "/sell/csv",
            data={"csrf_token": site.csrf(), "bank_account_id": account_id, **fields},
            files={"file": ("vouchers.csv", body.encode(), "text/csv")},
            follow_redirects=False,
        )

    first = upload()
    # nothing is sent yet: the confirmation repeats the total, the account and limits
    assert first.status_code == 200 and 'data-testid="confirm"' in first.text
    assert "13,500원" in first.text and "1111****3344" not in first.text
    assert "**********3344" in first.text and "오늘 남는 한도" in first.text
    assert CODES[0] not in first.text
    assert items_stored(site) == 0
    sale = re.search(r'name="sale" value="([^"]+)"', first.text).group(1)
    rates = re.search(r'name="quoted_rates" value="([^"]+)"', first.text).group(1)
    # a file changed after the confirmation is confirmed again, not sold
    body_then, body = body, body.replace("10000", "5000")
    changed = upload(step="submit", sale=sale, quoted_rates=rates)
    assert changed.status_code == 200 and 'data-testid="confirm"' in changed.text
    assert items_stored(site) == 0
    body = body_then
    r = upload(step="submit", sale=sale, quoted_rates=rates)
    assert r.status_code == 303, r.text
    Worker(site.deps).drain(20)
    page = site.client.get(r.headers["location"]).text
    assert page.count('data-status="paid"') == 2 and "13,500원" in page
    bad = site.client.post(
        "/sell/csv",
        data={"csrf_token": site.csrf(), "bank_account_id": account_id},
        files={"file": ("v.csv", b"code;pin\n1;2\n", "text/csv")},
        follow_redirects=False,
    )
    assert bad.status_code == 422 and "brand_id,code,pin,face_value,funding_source" in bad.text
    rows = site.client.post(
        "/sell/csv",
        data={"csrf_token": site.csrf(), "bank_account_id": account_id},
        files={
            "file": (
                "v.csv",
                b"brand_id,code,face_value,funding_source\nnope,1,5000,cash\n"
                b"cultureland,4180111122223333,abc,cash\n",
                "text/csv",
            )
        },
        follow_redirects=False,
    )
    assert rows.status_code == 422
    assert "2번째 줄: 알 수 없는 brand_id" in rows.text and "3번째 줄" in rows.text
    assert "4180111122223333" not in rows.text


def test_a_declined_code_is_explained(site: Site):
    site.sign_up()
    account_id = site.add_account()
    site.issuer.sell("cultureland", CODES[0], 10_000)
    first = paste(site, account_id, CODES[:1]).headers["location"]
    Worker(site.deps).drain(20)
    # the same code again is refused on the form, before anything is sent or stored
    again = paste(site, account_id, CODES[:1])
    assert again.status_code == 422 and "이미 giftcash에 접수된 상품권 번호입니다" in again.text
    assert CODES[0] not in again.text
    page = site.client.get(first).text
    assert "hx-trigger" not in page


def test_bank_account_errors_are_shown_on_the_page(site: Site):
    site.sign_up()
    r = site.post(
        "/accounts",
        {"bank_code": "004", "account_number": "99998888777766", "holder_name": "홍길동"},
    )
    assert r.status_code == 422 and "은행에서 확인되지 않는 계좌" in r.text
    r = site.post(
        "/accounts", {"bank_code": "004", "account_number": "123", "holder_name": "홍길동"}
    )
    assert r.status_code == 422 and "10~16자리" in r.text
    site.bank.open("004", "55556666777788", "홍길동")
    site.post(
        "/accounts",
        {"bank_code": "004", "account_number": "55556666777788", "holder_name": "홍길동"},
    )
    account_id = re.search(
        r'action="/accounts/([^/"]+)/verify"', site.client.get("/accounts").text
    ).group(1)
    r = site.post(f"/accounts/{account_id}/verify", {"code": "GC0000"})
    assert r.status_code == 422 and "인증번호가 맞지 않습니다" in r.text


def test_quote_shows_fee_payout_and_the_yearly_cost_on_credit(site: Site):
    r = site.post("/quote", {"brand_id": "munhwa", "face_value": "50000", "funding_source": "cash"})
    assert r.status_code == 200 and "45,000원" in r.text and "수수료 (10%)" in r.text
    assert "연 환산 비용:" not in r.text
    r = site.client.post(
        "/quote",
        data={
            "csrf_token": site.csrf(),
            "brand_id": "munhwa",
            "face_value": "50,000",
            "funding_source": "credit_card",
            "days_to_bill": "30",
        },
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200 and "<html" not in r.text
    assert "연 환산 비용: 135.19%" in r.text  # 5,000/45,000 · 365/30, rounded up
    r = site.post("/quote", {"brand_id": "munhwa", "face_value": "12345", "funding_source": "cash"})
    assert r.status_code == 422 and "해당 금액으로 판매되지 않습니다" in r.text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/sell", "/sell"),
        ("/submissions/1?x=2", "/submissions/1?x=2"),
        ("//evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/sell\r\nSet-Cookie: x=1", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_safe_next_allows_only_local_paths(value, expected):
    assert safe_next(value, "/") == expected


def test_a_carrier_billed_voucher_is_declined_with_its_lawful_routes(site: Site):
    site.sign_up()
    account_id = site.add_account()
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    site.issuer.sell(
        "cultureland", CODES[0], 10_000, channel="carrier_billing", purchased_at=two_hours_ago
    )
    url = paste(site, account_id, CODES[:1]).headers["location"]  # declared: cash
    Worker(site.deps).drain(20)
    page = site.client.get(url).text
    assert 'data-status="declined"' in page
    assert "휴대폰 소액결제로 구매한 상품권입니다" in page and "정보통신망법" in page
    assert "합법적으로 돈을 돌려받는 방법" in page
    assert "결제 취소" in page and "7일 이내 청약철회" in page and "까지" in page
    assert "지금 giftcash에 판매" not in page  # selling here is no route for it
    assert site.issuer.redemptions == {}


def test_a_first_sale_of_fresh_vouchers_shows_the_scam_warning(site: Site):
    site.sign_up()
    account_id = site.add_account()
    minutes_ago = datetime.now(UTC) - timedelta(minutes=5)
    site.issuer.sell("cultureland", CODES[0], 200_000, purchased_at=minutes_ago)
    url = paste(site, account_id, CODES[:1], face_value="200000").headers["location"]
    Worker(site.deps).drain(20)
    page = site.client.get(url).text
    assert 'data-status="review"' in page and "검토 중" in page
    assert "진행하기 전에 확인하세요" in page and "112(경찰)" in page and "1332" in page
    assert "사기 피해를 막기 위해" in page


def test_quote_with_a_purchase_date_lists_the_routes_and_their_deadlines(site: Site):
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    r = site.post(
        "/quote",
        {
            "brand_id": "munhwa",
            "face_value": "50000",
            "funding_source": "carrier_billing",
            "purchased_on": yesterday,
        },
    )
    assert r.status_code == 200
    assert "이 상품권은 지금 매입할 수 없습니다" in r.text
    assert "결제 취소" in r.text and "7일 이내 청약철회" in r.text and "까지" in r.text
    assert "구매일을 알 수 없어" not in r.text
    r = site.post("/quote", {"brand_id": "munhwa", "face_value": "50000", "funding_source": "cash"})
    assert "구매일을 알 수 없어" in r.text  # the advisor's note, in Korean
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    r = site.post(
        "/quote",
        {
            "brand_id": "munhwa",
            "face_value": "50000",
            "funding_source": "cash",
            "purchased_on": tomorrow,
        },
    )
    assert r.status_code == 422 and "구매일은 오늘이거나 그 이전" in r.text


def test_the_sell_page_says_so_when_nothing_is_being_bought(site: Site):
    from giftcash.domain.brands import HAPPYMONEY

    site.sign_up()
    site.add_account()
    site.deps.brand_catalogue = (HAPPYMONEY,)  # the only brand, and switched off
    r = site.client.get("/sell")
    assert r.status_code == 200 and "지금은 매입하는 상품권이 없습니다" in r.text
    assert 'id="sell-form"' not in r.text


def test_repeated_wrong_passwords_lock_the_sign_in_for_a_while(site: Site):
    site.sign_up()
    site.client.cookies.clear()
    for _ in range(5):
        r = site.post("/signin", {"phone": "010-2222-3333", "password": "not the password"})
        assert r.status_code == 401
    r = site.post("/signin", {"phone": "010-2222-3333", "password": PASSWORD})
    assert r.status_code == 429 and "15분 뒤에 다시 시도해 주세요" in r.text
    assert 'name="password"' in r.text  # the form again, not a dead end


def test_signing_out_ends_the_session_everywhere_not_only_in_this_browser(site: Site):
    site.sign_up()
    r = site.post("/signin", {"phone": "010-2222-3333", "password": PASSWORD})
    token = session_cookie(r).split(";")[0].split("=", 1)[1].strip('"')
    bearer = {"Authorization": f"Bearer {token}"}
    other = TestClient(site.client.app)  # the same token, used from somewhere else
    assert other.get("/v1/submissions", headers=bearer).status_code == 200
    r = site.post("/signout", {})
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert other.get("/v1/submissions", headers=bearer).status_code == 401
    r = site.client.get("/sell", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=/sell"


def test_a_returned_payout_is_sent_to_another_account_from_the_sale_page(site: Site, engine):
    d = site.deps
    d.limits = replace(d.limits, backoff_base_s=0.0, backoff_cap_s=0.0)
    site.sign_up()
    first = site.add_account()
    site.issuer.sell("cultureland", CODES[0], 10_000)
    url = paste(site, first, CODES[:1]).headers["location"]
    bounce_the_payout(d, site.bank, engine)

    page = site.client.get(url).text
    assert "은행이 지급금을 돌려보냈습니다" in page
    assert 'href="/accounts"' in page and "본인 명의 계좌 추가" in page  # no other account yet
    assert 'action="' + url + '/account"' not in page
    second = site.add_account(number="55556666777788")
    page = site.client.get(url).text
    assert f'<option value="{second}">' in page and f'<option value="{first}">' not in page
    r = site.post(url + "/account", {"bank_account_id": second})
    assert r.status_code == 303 and r.headers["location"] == url + "?done=moved"
    page = site.client.get(r.headers["location"]).text
    assert "기다리던 지급금은 고르신 계좌로" in page and "돌려보냈습니다" not in page
    Worker(d).drain(10)
    assert site.client.get(url + "/live").text.count('data-status="paid"') == 1
    assert site.bank.paid_to("004", "55556666777788") == 9_000
    assert site.bank.paid_to("004", "11112222333344") == 0


def test_a_working_account_is_not_changed_from_the_sale_page(site: Site):
    site.sign_up()
    first = site.add_account()
    second = site.add_account(number="55556666777788")
    site.issuer.sell("cultureland", CODES[0], 10_000)
    url = paste(site, first, CODES[:1]).headers["location"]
    assert "돌려보냈습니다" not in site.client.get(url).text  # no form while it works
    r = site.post(url + "/account", {"bank_account_id": second})
    assert r.status_code == 409
    assert "은행이 지급금을 돌려보낸 뒤에만 바꿀 수 있습니다" in r.text
