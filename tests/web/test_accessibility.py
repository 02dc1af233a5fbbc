"""Accessible to everyone (issue 13, item 11; 장애인차별금지법 and KWCAG follow WCAG 2.x):
axe-core (bundled by axe-playwright-python, nothing downloaded at run time) over every
customer page and every console page in Korean and in English at 375x812 finds no
serious or critical violation; selling (form, confirmation, submit) and verifying a bank
account work by keyboard alone.
"""

from __future__ import annotations

import re
from datetime import date

import httpx
import pytest
from browsing import needs_chromium, shot
from sqlalchemy import select
from test_browser import PAID_TIMEOUT_MS, PASSWORD, buy, deposit_memo
from test_console_browser import first_time_seller_in_review
from test_console_browser import sign_in as operator_sign_in

from giftcash.adapters.db import tables as t
from giftcash.domain.aml import Evidence
from giftcash.simulators.identity import add_person, confirm_on_phone

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

    for path in ["/", "/quote", "/signup", "/signin", "/buy"]:
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
    page.wait_for_selector("main form[action='/signup/verify']")
    check("confirm on the phone")
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
    for path in ["/history", "/accounts", "/buy/orders"]:
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
    assert add_person(demo["identity_url"], phone, "박지훈", date(1985, 3, 4), sex="M")
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
    page.wait_for_selector("main form[action='/signup/verify']")
    assert confirm_on_phone(demo["identity_url"], phone) == 1  # the tap on the phone
    tab_to(page, "main form[action='/signup/verify'] button[type=submit]")
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


def _open_case(demo_stack, item_id: str) -> None:
    """A velocity-spike case on the item's seller, with the item as its evidence (the
    scan's thresholds need weeks of history; the page only needs a case to show)."""
    deps, kind = demo_stack.deps, "velocity_spike"
    now, case_id = deps.clock.now(), deps.new_id()
    with deps.uow() as uow:
        seller = select(t.items.c.customer_id).where(t.items.c.id == item_id)
        customer_id = uow.conn.execute(seller).scalar_one()
        subject = f"customer:{customer_id}"
        uow.cases.open(
            id=case_id,
            kind=kind,
            subject=subject,
            active_key=f"{kind}|{subject}",
            currency="KRW",
            summary="",
            now=now,
        )
        evidence = [Evidence(f"item:{item_id}", now, 100_000, item_id, customer_id, "", "")]
        uow.cases.add_evidence(case_id, kind, subject, evidence, now)
        uow.commit()


def test_no_serious_violation_on_any_console_page(demo, demo_stack, page):
    """Every console page in Korean and English; one sign-in (a TOTP code may be refused
    when reused within its window), the language switched by its cookie."""
    base = demo["web_url"].rstrip("/")
    sale = first_time_seller_in_review(demo, "010-7300-0001", "최영희", "330987654321")
    approve_id = sale["items"][0]["id"]
    found: dict[str, list[str]] = {}
    for lang in ["ko", "en"]:
        set_language(page, base, lang)
        page.goto(f"{base}/admin/signin")
        found[f"{lang} /admin/signin"] = violations(page)
    op = demo["operator"]
    operator_sign_in(page, base, op["username"], op["password"], op["totp_secret"])
    page.goto(f"{base}/admin/review")
    case = page.locator(f"article[data-item='{approve_id}']")
    case.locator("textarea[name=reason]").fill("고객과 통화함")
    case.locator("button.approve-button").click()
    approved = page.locator(f"#recent tr[data-item='{approve_id}']")
    approved.locator("[data-state=paid]").wait_for(timeout=PAID_TIMEOUT_MS)
    _open_case(demo_stack, approve_id)

    def first_link(path: str, prefix: str) -> str:
        page.goto(base + path)
        href = page.locator(f"main a[href^='{prefix}']").first.get_attribute("href")
        assert href, f"{path} links to nothing under {prefix}"
        return href

    pages = ["/admin", "/admin/review", "/admin/cases", "/admin/customers"]
    pages += ["/admin/payouts", f"/admin/items/{approve_id}", "/admin/brands"]
    pages += ["/admin/reconciliation", "/admin/audit"]  # issuers are on the brands page
    pages.append("/admin/bank-hours")
    pages.append("/admin/privacy")  # by now it logged the views above
    pages.append(first_link("/admin/cases", "/admin/cases/"))
    pages.append(first_link("/admin/customers", "/admin/customers/"))
    pages.append(first_link("/admin/payouts", "/admin/payouts/"))
    for lang in ["ko", "en"]:
        set_language(page, base, lang)
        for path in pages:
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            assert (page.locator("html").get_attribute("lang") or "").startswith(lang)
            found[f"{lang} {path}"] = violations(page)
        shot(page, f"{lang}-a11y-console")
    serious = {name: v for name, v in found.items() if v}
    assert not serious, "\n".join(f"{name}: {v}" for name, v in serious.items())
