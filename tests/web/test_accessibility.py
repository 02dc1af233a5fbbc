"""Accessible to everyone (issue 13, item 11; 장애인차별금지법 and KWCAG follow WCAG 2.x):
axe-core (bundled by axe-playwright-python, nothing downloaded at run time) over every
customer page in Korean and in English at 375x812 finds no serious or critical
violation; selling (form, confirmation, submit) and verifying a bank account work by
keyboard alone.
"""

from __future__ import annotations

import re

import httpx
import pytest
from browsing import needs_chromium, shot
from test_browser import PAID_TIMEOUT_MS, PASSWORD, buy, deposit_memo, sms_code

pytestmark = [needs_chromium, pytest.mark.slow]

SERIOUS = ("serious", "critical")
MAX_TABS = 80  # a page whose control is further than this is itself a finding


def violations(pg) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(pg).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:4]}"
        for v in found
        if v["impact"] in SERIOUS
    ]


def set_language(pg, base: str, lang: str) -> None:
    pg.context.add_cookies([{"name": "gc_lang", "value": lang, "url": base}])


def sign_in(pg, demo: dict) -> None:
    base = demo["web_url"].rstrip("/")
    pg.goto(base + "/signin")
    pg.fill("input[name=phone]", demo["customer"]["phone"])
    pg.fill("input[name=password]", demo["customer"]["password"])
    pg.click("main form button[type=submit]")
    pg.wait_for_url(re.compile(r"/sell$"))


def tab_to(pg, selector: str) -> None:
    """Tab (only) until ``selector`` has the focus."""
    for _ in range(MAX_TABS):
        pg.keyboard.press("Tab")
        if pg.locator(selector).evaluate("e => e === document.activeElement"):
            return
    raise AssertionError(f"{selector} cannot be reached by Tab")


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_no_serious_violation_on_any_customer_page(demo, page, lang):
    base = demo["web_url"].rstrip("/")
    set_language(page, base, lang)
    found: dict[str, list[str]] = {}

    def check(name: str) -> None:
        page.wait_for_load_state("networkidle")
        found[name] = violations(page)

    for path in ["/", "/quote", "/signup", "/signin"]:
        page.goto(base + path)
        check(path)
    page.goto(base + "/signup")
    page.fill("input[name=name]", "김민지")
    page.fill("input[name=phone]", f"010-3200-000{1 if lang == 'ko' else 2}")
    page.fill("input[name=birth_date]", "1990-01-02")
    page.fill("input[name=password]", PASSWORD)
    page.check("input[name=consent_terms]")
    page.check("input[name=consent_privacy_collection]")
    page.click("main form button[type=submit]")
    page.wait_for_selector("input[name=code]")
    check("verify phone")
    page.context.clear_cookies()
    set_language(page, base, lang)
    sign_in(page, demo)
    check("/sell")
    (voucher,) = buy(demo, "cultureland", 10_000, 1)
    page.click("label[for=mode-paste]")
    page.select_option("select[name=funding_source]", "cash")
    page.fill("textarea[name=paste]", voucher["code"])
    page.locator("#sell-preview [data-testid=payout-total]").wait_for()
    check("sell with its preview")
    page.click("#sell-form button[value=review]")
    page.locator("[data-testid=confirm]").wait_for()
    check("confirmation")
    page.click("#sell-form button[value=submit]")
    page.wait_for_url(re.compile(r"/submissions/[^/]+$"))
    page.locator("li.item[data-status=paid]").wait_for(timeout=PAID_TIMEOUT_MS)
    check("sale")
    page.locator("a[href^='/payouts/']").first.click()
    page.wait_for_url(re.compile(r"/payouts/[^/]+$"))
    check("receipt")
    shot(page, f"{lang}-a11y-receipt")
    for path in ["/history", "/accounts"]:
        page.goto(base + path)
        check(path)
    serious = {name: v for name, v in found.items() if v}
    assert not serious, "\n".join(f"{name}: {v}" for name, v in serious.items())


def test_selling_and_confirming_by_keyboard_alone(demo, page):
    base = demo["web_url"].rstrip("/")
    sign_in(page, demo)
    (voucher,) = buy(demo, "cultureland", 10_000, 1)
    page.goto(base + "/sell")
    tab_to(page, "select[name=funding_source]")
    page.keyboard.press("ArrowDown")  # the first way of paying: cash
    assert page.input_value("select[name=funding_source]") == "cash"
    tab_to(page, "input[name=code]")
    page.keyboard.type(voucher["code"])
    page.locator("#sell-preview [data-testid=payout-total]").wait_for()
    tab_to(page, "#sell-form button[value=review]")
    page.keyboard.press("Enter")
    page.locator("[data-testid=confirm]").wait_for()
    tab_to(page, "#sell-form button[value=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/submissions/[^/]+$"))
    page.locator("li.item[data-status=paid]").wait_for(timeout=PAID_TIMEOUT_MS)


def test_verifying_a_bank_account_by_keyboard_alone(demo, page):
    base = demo["web_url"].rstrip("/")
    page.goto(base + "/signup")
    phone, number = "010-3200-0009", "330123456789"
    for name, value in [
        ("name", "박지훈"),
        ("phone", phone),
        ("birth_date", "1985-03-04"),
        ("password", PASSWORD),
    ]:
        tab_to(page, f"input[name={name}]")
        # Chromium's date field here reads month, day, year, each moving on when full
        page.keyboard.type("03041985" if name == "birth_date" else value)
    assert page.input_value("input[name=birth_date]") == "1985-03-04"
    for consent in ["consent_terms", "consent_privacy_collection"]:
        tab_to(page, f"input[name={consent}]")
        page.keyboard.press("Space")
    tab_to(page, "main form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("input[name=code]")
    tab_to(page, "input[name=code]")
    page.keyboard.type(sms_code(demo, phone))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/accounts\?done=welcome$"))
    httpx.post(
        f"{demo['bank_url']}/sim/accounts",
        json={
            "bank_code": "004",
            "account_number": number,
            "holder_name": "박지훈",
            "birth_date": "1985-03-04",
        },
    ).raise_for_status()
    tab_to(page, "select[name=bank_code]")
    page.keyboard.press("ArrowDown")  # the most used bank first: KB국민은행
    assert page.input_value("select[name=bank_code]") == "004"
    tab_to(page, "input[name=account_number]")
    page.keyboard.type(number)
    tab_to(page, "main form[action='/accounts'] button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("form[action$='/verify'] input[name=code]")
    tab_to(page, "form[action$='/verify'] input[name=code]")
    memo = deposit_memo(demo, "004", number)
    page.keyboard.type(f"{memo[:2].lower()} {memo[2:]}")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/accounts\?done=verified$"))
