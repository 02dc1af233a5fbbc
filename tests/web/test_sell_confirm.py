"""The customer's moment of decision on the sell form, through TestClient on SQLite and
PostgreSQL: the price and today's limits before agreeing, a confirmation that is what is
paid (a rate change asks again, never silently), a paste larger than fits refused before
it is sent, the live check applying the submit's rules, the scam warning before submit."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from websupport import Site, confirmed_fields

from giftcash.adapters.db import tables as t
from giftcash.catalogue import overrides as admin
from giftcash.domain.advisor import KST
from giftcash.entrypoints.worker import Worker
from giftcash.identity.operators import Operator

HX = {"HX-Request": "true"}


def form(account_id: str, codes: list[str], face: int = 10_000, **extra) -> dict:
    return {
        "bank_account_id": account_id,
        "brand_id": "cultureland",
        "face_value": str(face),
        "funding_source": "cash",
        "mode": "paste",
        "paste": "\n".join(codes),
        **extra,
    }


def stored(site: Site) -> int:
    with site.deps.uow() as uow:  # type: ignore[attr-defined]
        return int(uow.conn.execute(select(func.count()).select_from(t.items)).scalar())


def codes(n: int, start: int = 0) -> list[str]:
    return [f"418099{start + i:010d}" for i in range(n)]


def test_the_confirmation_shows_what_is_paid_and_is_what_the_bank_receives(site: Site):
    site.sign_up()
    account_id = site.add_account()
    two = codes(2)
    for c in two:
        site.issuer.sell("cultureland", c, 10_000)
    r = site.post("/sell", {**form(account_id, two), "step": "review"}, headers=HX)
    assert r.status_code == 200 and "<html" not in r.text
    assert "18,000원" in r.text  # 2 × 10,000 at 90%
    assert "국민은행" in r.text or "KB" in r.text  # the receiving bank
    assert "3344" in r.text and "홍길동" in r.text  # masked account, holder
    assert "이번 판매 후 오늘 남는 한도" in r.text and "28장" in r.text
    assert not any(c in r.text for c in two)  # the codes are never sent back
    assert stored(site) == 0  # nothing submitted before the confirmation
    done = site.post("/sell", {**form(account_id, two), **confirmed_fields(r.text)})
    assert done.status_code == 303, done.text
    Worker(site.deps).drain(30)
    assert site.bank.paid_to("004", "11112222333344") == 18_000


def test_a_rate_change_after_the_confirmation_asks_again(site: Site):
    site.sign_up()
    account_id = site.add_account()
    [code] = codes(1, 10)
    site.issuer.sell("cultureland", code, 10_000)
    shown = site.post("/sell", {**form(account_id, [code]), "step": "review"}, headers=HX)
    assert "9,000원" in shown.text
    op = Operator("op", "rates", "admin")
    admin.patch_brand(site.deps, op, "cultureland", {"buyback_rate_bps": 8_000})
    r = site.post("/sell", {**form(account_id, [code]), **confirmed_fields(shown.text)}, headers=HX)
    assert r.status_code == 200 and "수수료율이 바뀌었습니다" in r.text and "8,000원" in r.text
    assert stored(site) == 0  # never at the new rate silently
    again = site.post("/sell", {**form(account_id, [code]), **confirmed_fields(r.text)})
    assert again.status_code == 303
    Worker(site.deps).drain(30)
    assert site.bank.paid_to("004", "11112222333344") == 8_000


def test_a_form_changed_after_the_confirmation_is_confirmed_again(site: Site):
    site.sign_up()
    account_id = site.add_account()
    shown = site.post("/sell", {**form(account_id, codes(1)), "step": "review"}, headers=HX)
    changed = form(account_id, codes(2))  # a second code added after the confirmation
    r = site.post("/sell", {**changed, **confirmed_fields(shown.text)}, headers=HX)
    assert r.status_code == 200 and 'data-testid="confirm"' in r.text and "18,000원" in r.text
    assert stored(site) == 0


def test_a_paste_larger_than_today_allows_is_refused_before_it_is_sent(site: Site):
    site.sign_up()
    account_id = site.add_account()
    page = site.client.get("/sell").text
    assert "오늘 남은 한도: 30장" in page  # the limits, up front
    r = site.post("/sell", form(account_id, codes(31)), headers=HX)
    assert r.status_code == 422 and "30장까지" in r.text
    assert stored(site) == 0
    check = site.post("/sell/check", form(account_id, codes(31)), headers=HX)
    assert "30장까지" in check.text and "올바릅니다" not in check.text


def test_the_live_check_applies_the_submits_rules_and_never_echoes_a_code(site: Site):
    site.sign_up()
    account_id = site.add_account()
    a, b = codes(2, 20)
    site.issuer.sell("cultureland", a, 10_000)
    r = site.post("/sell/check", form(account_id, [a, b, a]), headers=HX)
    assert "1번째 줄과 3번째 줄의 상품권 번호가 같습니다" in r.text and "올바릅니다" not in r.text
    assert a not in r.text and b not in r.text
    assert site.post("/sell", form(account_id, [a])).status_code == 303
    r = site.post("/sell/check", form(account_id, [b, a]), headers=HX)
    assert "2번째 줄: 이미 giftcash에 접수된 상품권 번호" in r.text and a not in r.text
    one = site.post("/sell/check", {**form(account_id, []), "mode": "one", "code": a}, headers=HX)
    assert "이미 giftcash에 접수된 상품권 번호" in one.text and "올바릅니다" not in one.text
    big = site.post("/sell/check", form(account_id, codes(1001)), headers=HX)
    assert "1000" in big.text and "올바릅니다" not in big.text


def test_the_scam_warning_shows_before_submit_for_the_pattern_only(site: Site):
    site.sign_up()
    account_id = site.add_account()
    today = datetime.now(KST).date().isoformat()  # the customer's day
    fresh_and_large = form(account_id, codes(3), face=50_000, purchased_on=today)
    r = site.post("/sell/preview", fresh_and_large, headers=HX)
    assert 'data-testid="scam-warning"' in r.text and "112" in r.text
    r = site.post("/sell", {**fresh_and_large, "step": "review"}, headers=HX)
    assert 'data-testid="scam-warning"' in r.text and stored(site) == 0
    last_month = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()
    for calm in (
        form(account_id, codes(3), face=50_000, purchased_on=last_month),
        form(account_id, codes(1), face=50_000, purchased_on=today),
    ):
        r = site.post("/sell/preview", calm, headers=HX)
        assert "scam-warning" not in r.text, calm


def test_the_preview_shows_each_fee_payout_and_total_in_won(site: Site):
    site.sign_up()
    account_id = site.add_account()
    r = site.post("/sell/preview", form(account_id, codes(3)), headers=HX)
    text = re.sub(r"\s+", " ", r.text)
    assert "1,000원" in text and "9,000원" in text and "27,000원" in text
    declined = site.post(
        "/sell/preview",
        {**form(account_id, codes(1)), "funding_source": "carrier_billing"},
        headers=HX,
    )
    assert 'role="alert"' in declined.text and "/quote?" in declined.text


def test_every_customer_page_carries_the_business_details(site: Site):
    site.sign_up()
    for path in ("/", "/quote", "/sell", "/history", "/accounts", "/buy", "/buy/orders"):
        html = site.client.get(path).text
        assert "사업자등록번호" in html and "통신판매업 신고번호" in html, path
        assert "고객센터" in html and "1588-0000" in html, path


def test_a_brand_change_keeps_a_face_value_typed_meanwhile(site: Site):
    r = site.client.get("/face-values", params={"brand_id": "cultureland", "face_value": "30000"})
    assert 'value="30000"' in r.text or 'value="30000" selected' in r.text


def test_history_rows_show_brand_count_and_amount(site: Site):
    site.sign_up()
    account_id = site.add_account()
    assert site.post("/sell", form(account_id, codes(2, 40))).status_code == 303
    html = re.sub(r"\s+", " ", site.client.get("/history").text)
    assert "컬쳐랜드" in html and "2장" in html and "18,000원" in html
