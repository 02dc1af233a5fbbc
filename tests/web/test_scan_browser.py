"""The scan page in a real browser at phone width (375 px), against the running demo: the
demo's customer uploads two coupon screenshots and gets a list to paste into the sell form."""

from __future__ import annotations

import random
import re

import pytest
from browsing import needs_chromium, shot

from couponimages import coupon, png
from giftcash.domain.brands import find_brand
from giftcash.simulators.issuer import issue_code

pytestmark = [needs_chromium, pytest.mark.slow]  # Chromium over the running demo


def test_two_screenshots_give_a_list_to_paste_at_phone_width(demo, page):
    base = demo["web_url"].rstrip("/")
    page.goto(base + "/signin")
    page.fill("input[name=phone]", demo["customer"]["phone"])
    page.fill("input[name=password]", demo["customer"]["password"])
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/sell$"))

    brand, rng = find_brand("kyochon_coupon"), random.Random(375)
    codes = [issue_code(brand.code_format, rng) for _ in range(2)]
    files = [
        {"name": f"coupon{i}.png", "mimeType": "image/png", "buffer": png(coupon(c, s, brand))}
        for i, (c, s) in enumerate(zip(codes, ("QRCode", "Code128"), strict=True))
    ]
    page.goto(base + "/sell/scan")
    shot(page, "ko-scan-0-empty")
    page.set_input_files("input[name=images]", files)
    page.click("main form[action='/sell/scan'] button[type=submit]")
    page.wait_for_selector("#carry textarea")
    shot(page, "ko-scan-1-read")

    assert page.input_value("#carry textarea[data-brand=kyochon_coupon]") == "\n".join(codes)
    assert page.locator(".scanned-code").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scroll
    page.get_by_role("link", name="판매 화면으로 가기").click()
    page.wait_for_url(re.compile(r"/sell$"))
