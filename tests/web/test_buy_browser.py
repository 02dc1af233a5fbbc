"""Buying in a real browser (Playwright driving Debian's Chromium) at phone width, in
Korean, against the whole demo: a resold voucher is sold to the exchange through the API
and verified by the worker, then the demo customer finds it on /buy, is sent to sign in
and back, sees the price, the total and the terms, agrees, and lands on the order with
the account to transfer to and its deadline. Screenshots of each step in Korean and in
English go to ``test-results/`` (``shop-<lang>-<step>.png``)."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from browsing import needs_chromium, shot
from test_browser import buy

pytestmark = [needs_chromium, pytest.mark.slow]  # Chromium over the running demo

BRAND = "kyobo_gift"  # resold (market.toml)
FACE = 10_000
STOCKED_TIMEOUT_S = 60
KEY = (BRAND, FACE)


def stock(demo: dict, count: int) -> None:
    """The demo customer sells ``count`` resold vouchers over the API; the worker checks
    them with the issuer and stocks them (not redeemed)."""
    api = demo["api_url"].rstrip("/")
    token = httpx.post(
        f"{api}/v1/tokens",
        json={"phone": demo["customer"]["phone"], "password": demo["customer"]["password"]},
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    account = httpx.get(f"{api}/v1/bank-accounts", headers=auth).json()["data"][0]["id"]
    vouchers = buy(demo, BRAND, FACE, count)
    items = [
        {"brand_id": BRAND, "code": v["code"], "face_value": FACE, "funding_source": "cash"}
        | ({"pin": v["pin"]} if v.get("pin") else {})
        for v in vouchers
    ]
    r = httpx.post(
        f"{api}/v1/submissions",
        headers={**auth, "Idempotency-Key": f"shop-{vouchers[0]['code'][-8:]}"},
        json={"bank_account_id": account, "items": items},
    )
    assert r.status_code == 201, r.text
    deadline = time.monotonic() + STOCKED_TIMEOUT_S
    while time.monotonic() < deadline:
        offers = httpx.get(f"{api}/v1/offers").json()["data"]
        if sum(o["in_stock"] for o in offers if (o["brand_id"], o["face_value"]) == KEY) >= count:
            return
        time.sleep(0.5)
    raise AssertionError("the sold voucher never came on offer")


def test_a_buyer_orders_in_korean_from_the_offers_to_the_account_to_pay(demo, page):
    stock(demo, 3)  # two to order, one left for the English confirmation
    base = demo["web_url"].rstrip("/")
    page.goto(base + "/buy")
    row = page.locator(f"li.offer[data-offer='{BRAND}:{FACE}']")
    assert "9,500원" in row.inner_text() and "할인" in row.inner_text()
    shot(page, "shop-ko-offers")
    row.locator("a.button").click()
    page.wait_for_url(re.compile(r"/signin\?next="))  # not signed in: sign in, then back
    page.fill("input[name=phone]", demo["customer"]["phone"])
    page.fill("input[name=password]", demo["customer"]["password"])
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(rf"/buy/offer/{BRAND}/{FACE}$"))
    terms = page.locator("[data-testid=order-terms]").inner_text()
    assert "9,500원" in terms and "결제할 총액" in terms
    page.select_option("select[name=quantity]", "2")  # the total follows (htmx)
    page.locator("[data-testid=order-total]", has_text="19,000원").wait_for()
    assert page.input_value("[data-testid=place-form] input[name=quantity]") == "2"
    body = page.locator("main").inner_text()
    assert "가상계좌" in body and "본인 명의" in body and "전액 돌려드립니다" in body
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing overflows
    shot(page, "shop-ko-confirm")
    page.click("[data-testid=place-form] button[type=submit]")
    page.wait_for_url(re.compile(r"/buy/orders/ord_\w+$"))
    number = page.locator("[data-testid=pay-account]").inner_text()
    assert re.fullmatch(r"\d{8,20}", number.strip())
    assert "년" in page.locator("[data-testid=pay-deadline]").inner_text()
    assert "입금 대기" in page.locator("main").inner_text()
    assert "19,000원" in page.locator("[data-testid=order-amount]").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "shop-ko-placed")
    placed = page.url

    page.click("footer form.lang button[value=en]")  # the same pages in English
    page.wait_for_url(re.compile(r"/buy/orders/ord_\w+$"))
    assert "Waiting for your transfer" in page.locator("main").inner_text()
    shot(page, "shop-en-placed")
    page.goto(base + "/buy")
    shot(page, "shop-en-offers")
    page.goto(f"{base}/buy/offer/{BRAND}/{FACE}")
    assert "Total to pay" in page.locator("main").inner_text()
    shot(page, "shop-en-confirm")
    assert page.url != placed
