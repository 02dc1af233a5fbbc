"""The buyer's guarantee on the web site (resale, issue 15 items 2 and 5), on SQLite and
PostgreSQL: the order's terms name the window; a delivered order's page offers "this code
doesn't work" per voucher until the window's last day; a code spent before delivery is
refunded (said how), one spent after is refused with the issuer's record of when and
where; one form sent twice files one claim; past the window there is no button and a
claim is refused in words; another customer's order is not found; the Korean pages carry
no English."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import test_buy_pages
from sqlalchemy import func, select, update
from test_buy_pages import Shop, text
from test_korean_pages import english_in, missing  # noqa: F401 - a fixture

from giftcash.adapters.db import tables as t
from giftcash.entrypoints.web import pages
from giftcash.entrypoints.worker import Worker
from giftcash.service.ports import Unavailable

SHOP = "GS25 역삼점"
shop = test_buy_pages.shop  # the fixture: a buyer's shop on the site


def delivered(shop: Shop, phone: str, quantity: int = 1, lang: str = "en") -> str:
    """A buyer's order of ``quantity`` vouchers, paid and delivered now; its page's path."""
    first = len(shop.codes)
    shop.stock(quantity)
    shop.buyer(phone)
    shop.client.cookies.set("gc_lang", lang)
    location = shop.place(shop.confirmation(quantity=quantity).text).headers["location"]
    shop.pay_and_deliver(shop.client.get(location).text)
    assert len(shop.codes) == first + quantity
    return location


def spend(shop: Shop, unit: str, hours_from_now: float) -> None:
    """Someone spends the unit's voucher at a shop, the issuer records it at that time."""
    code = shop.codes[int(unit.removeprefix("u-"))]
    at = datetime.now(UTC) + timedelta(hours=hours_from_now)
    shop.site.issuer.spend(code, at, SHOP)


def claim_form(html: str, unit: str) -> dict[str, str]:
    """The claim form's fields for one unit, as the page carries them."""
    forms = re.findall(r'<form method="post" action="[^"]+/claims".*?</form>', html, re.S)
    (mine,) = [f for f in forms if f'name="unit_id" value="{unit}"' in f]
    return dict(re.findall(r'name="(\w+)" value="([^"]*)"', mine))


def claim_rows(shop: Shop) -> list[tuple[str, str, str | None]]:
    with shop.engine.connect() as conn:
        rows = conn.execute(select(t.claims.c.unit_id, t.claims.c.status, t.claims.c.refund))
        return [tuple(r) for r in rows.all()]


def units_of(html: str) -> list[str]:
    return re.findall(r'<li data-unit="([^"]+)"', html)


def test_the_terms_name_the_guarantee_window(shop: Shop):
    shop.stock(1)
    shop.buyer("010-7200-0001")
    shop.client.cookies.set("gc_lang", "en")
    terms = text(shop.confirmation().text)
    assert (
        "If a code does not work, report it within 30 days of delivery: if the issuer's "
        "records show it was used before you received it, you get your money back."
    ) in terms
    assert "goes back to the account you paid from" in terms
    shop.client.cookies.set("gc_lang", "ko")
    assert "받은 날부터 30일 안에 신고하세요" in text(shop.confirmation().text)


def test_a_code_spent_before_delivery_is_refunded_once_per_form(shop: Shop):
    location = delivered(shop, "010-7200-0002")
    page = shop.client.get(location).text
    (unit,) = units_of(page)
    assert "This code doesn't work" in page
    until = (datetime.now(UTC) + timedelta(days=30)).astimezone(pages_tz())
    assert f"Report it by {until.strftime('%B')} {until.day}, {until.year}." in text(page)
    spend(shop, unit, hours_from_now=-1)  # before delivery: by someone before the buyer

    fields = claim_form(page, unit) | {"reason": "the shop said it was used"}
    first = shop.client.post(f"{location}/claims", data=fields, follow_redirects=False)
    second = shop.client.post(f"{location}/claims", data=fields, follow_redirects=False)
    assert first.status_code == second.status_code == 303, first.text
    assert first.headers["location"] == second.headers["location"]
    assert first.headers["location"].startswith(f"{location}/claims/")
    assert claim_rows(shop) == [(unit, "refunded", "deposit_return")]

    answer = text(shop.client.get(first.headers["location"]).text)
    assert "Refunded: ₩9,500 goes back to the bank account you paid from." in answer
    assert "You wrote: the shop said it was used" in answer
    after = shop.client.get(location).text
    assert 'data-claim="refunded"' in after and "claim-form" not in after
    assert "Being returned to you" in text(after)  # the deposit, queued to go back whole
    assert "it had been used before you received it, so your payment is returned" in text(after)
    shop.client.cookies.set("gc_lang", "ko")
    korean = shop.client.get(location).text
    assert "입금하신 계좌로 돌려드립니다" in text(korean) and not english_in(korean)


def test_a_refund_with_no_account_to_pay_says_what_to_do(shop: Shop):
    location = delivered(shop, "010-7200-0003", quantity=2)
    page = shop.client.get(location).text
    first, second = units_of(page)
    spend(shop, first, hours_from_now=-1)
    r = shop.client.post(f"{location}/claims", data=claim_form(page, first))
    assert r.status_code == 200  # followed to the answer
    words = text(r.text)
    assert "We owe you ₩9,500, but you have no verified bank account" in words
    assert 'href="/accounts"' in r.text
    assert claim_rows(shop) == [(first, "refunded", "owed")]
    after = shop.client.get(location).text
    assert claim_form(after, second)["unit_id"] == second  # the other one still claimable

    # the buyer adds an account as the page says; the worker's next pass pays it there
    shop.site.add_account("11112222333355", "홍길동")
    assert Worker(shop.site.deps)._resale_steps() >= 1  # type: ignore[arg-type]
    assert claim_rows(shop) == [(first, "refunded", "payout")]
    paid = text(shop.client.get(r.url.path).text)
    assert "Refunded: ₩9,500 is paid to your own verified bank account." in paid


def test_a_code_spent_after_delivery_is_refused_with_the_issuers_record(shop: Shop):
    location = delivered(shop, "010-7200-0004")
    page = shop.client.get(location).text
    (unit,) = units_of(page)
    spend(shop, unit, hours_from_now=0.01)  # after delivery: the buyer had it
    r = shop.client.post(f"{location}/claims", data=claim_form(page, unit))
    assert r.status_code == 200
    words = text(r.text)
    used = re.search(
        r"Not refunded: the issuer's records show this voucher was used on (.+?) at "
        + SHOP
        + ", after it was delivered to you.",
        words,
    )
    assert used, words
    assert re.fullmatch(r"\w+ \d{1,2}, \d{4}, \d{1,2}:\d{2}\s[AP]M", used.group(1))
    assert claim_rows(shop) == [(unit, "refused", None)]
    shop.client.cookies.set("gc_lang", "ko")
    korean = text(shop.client.get(location).text)
    assert f"에 {SHOP}에서 사용되었습니다" in korean and "환불 불가" in korean


def test_past_the_window_there_is_no_button_and_a_claim_is_refused_in_words(shop: Shop):
    location = delivered(shop, "010-7200-0005", lang="ko")
    page = shop.client.get(location).text
    (unit,) = units_of(page)
    fields = claim_form(page, unit)
    order_id = location.rsplit("/", 1)[-1]
    with shop.engine.begin() as conn:
        conn.execute(
            update(t.orders)
            .where(t.orders.c.id == order_id)
            .values(delivered_at=datetime.now(UTC) - timedelta(days=31))
        )
    closed = shop.client.get(location).text
    assert "claim-form" not in closed and "이 번호가 사용되지 않아요" not in closed
    ended = re.search(r'data-testid="guarantee-ended">([^<]+)<', closed).group(1)
    assert re.fullmatch(r"보증 기간이 \d{4}년 \d{1,2}월 \d{1,2}일에 끝났습니다\.", ended)
    r = shop.client.post(f"{location}/claims", data=fields)
    assert r.status_code == 409
    assert "이 주문의 보증 기간이 끝나 더 이상 번호를 신고할 수 없습니다." in text(r.text)
    assert claim_rows(shop) == []


def test_errors_are_said_in_words_and_another_customers_order_is_not_found(shop: Shop, monkeypatch):
    location = delivered(shop, "010-7200-0006")
    page = shop.client.get(location).text
    (unit,) = units_of(page)
    fields = claim_form(page, unit)
    missing_unit = shop.client.post(f"{location}/claims", data=fields | {"unit_id": "u-404"})
    assert missing_unit.status_code == 404
    assert "We could not find that voucher in this order." in text(missing_unit.text)

    def unanswered(*a):
        raise Unavailable("scripted")

    with monkeypatch.context() as m:  # the issuer does not answer: nothing recorded
        m.setattr(shop.site.issuer, "inquire_balance", unanswered)
        down = shop.client.post(f"{location}/claims", data=fields)
    assert down.status_code == 503 and "The issuer did not answer" in text(down.text)
    assert claim_rows(shop) == []
    again = shop.client.post(f"{location}/claims", data=fields)  # the same form, answered
    assert again.status_code == 200 and claim_rows(shop) == [(unit, "review", None)]
    assert "Our staff are checking this voucher" in text(again.text)

    shop.buyer("010-7200-0007", name="김철수")  # another customer
    theirs = shop.client.post(
        f"{location}/claims", data={"csrf_token": shop.site.csrf("/buy"), "unit_id": unit}
    )
    assert theirs.status_code == 404
    assert claim_rows(shop) == [(unit, "review", None)]


def test_an_order_not_delivered_yet_is_not_claimed(shop: Shop):
    shop.stock(1)
    shop.buyer("010-7200-0011")
    shop.client.cookies.set("gc_lang", "en")
    location = shop.place(shop.confirmation().text).headers["location"]
    page = shop.client.get(location).text
    assert 'data-testid="guarantee"' not in page  # waiting for the transfer: nothing to claim
    csrf = shop.site.csrf(location)
    r = shop.client.post(f"{location}/claims", data={"csrf_token": csrf, "unit_id": "u-0"})
    assert r.status_code == 409
    assert "Only a delivered voucher can be reported." in text(r.text)
    assert claim_rows(shop) == []


def test_another_customer_does_not_see_a_claim(shop: Shop):
    location = delivered(shop, "010-7200-0008")
    page = shop.client.get(location).text
    (unit,) = units_of(page)
    spend(shop, unit, hours_from_now=-1)
    answer = shop.client.post(f"{location}/claims", data=claim_form(page, unit))
    assert answer.status_code == 200
    claim_path = str(answer.url.path)
    shop.buyer("010-7200-0009", name="김철수")
    assert shop.client.get(claim_path).status_code == 404
    assert shop.client.get(location).status_code == 404


def test_the_korean_claim_pages_have_no_english(shop: Shop, missing):  # noqa: F811
    location = delivered(shop, "010-7200-0010", quantity=3, lang="ko")
    page = shop.client.get(location).text
    one, two, three = units_of(page)
    seen = {"delivered": page}
    spend(shop, one, hours_from_now=-1)
    spend(shop, two, hours_from_now=0.01)
    seen["not_found"] = shop.client.post(
        f"{location}/claims", data=claim_form(page, three) | {"unit_id": "u-404"}
    ).text
    seen["refunded"] = shop.client.post(f"{location}/claims", data=claim_form(page, one)).text
    seen["refused"] = shop.client.post(f"{location}/claims", data=claim_form(page, two)).text
    seen["review"] = shop.client.post(f"{location}/claims", data=claim_form(page, three)).text
    seen["claimed"] = shop.client.get(location).text
    assert 'data-claim="review"' in seen["claimed"]
    with shop.engine.begin() as conn:
        conn.execute(update(t.orders).values(delivered_at=datetime.now(UTC) - timedelta(days=40)))
    seen["closed"] = shop.client.get(location).text
    with shop.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(t.claims)) == 3
    found = {name: english_in(p) for name, p in seen.items()}
    found = {name: runs for name, runs in found.items() if runs}
    assert not missing, sorted(set(missing))
    assert not found, found
    pages.environment.cache_clear()


def pages_tz():
    from zoneinfo import ZoneInfo

    from giftcash.entrypoints.web.i18n import TIMEZONE

    return ZoneInfo(TIMEZONE)
