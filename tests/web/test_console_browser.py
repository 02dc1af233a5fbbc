"""The operator console in a real browser (Playwright driving Debian's Chromium) against
the whole demo started in-process (fixtures in conftest.py).

A first-time seller sells 300,000 won of vouchers bought minutes ago (through the API and
the simulators, as the customer site would): the policy sends the sale to review. The
demo operator signs in with a TOTP code computed from the demo's secret, approves one
item and declines another, and follows the approved one to ``paid``. Another admin sees
the dashboard's charts; a reviewer is refused the brands page with a 403 page.

Screenshots go to ``test-results/console-*.png``; a failing test leaves one more.
"""

from __future__ import annotations

import re
import time
from datetime import date

import httpx
import pyotp
import pytest
from browsing import PHONE_WIDTH, needs_chromium, shot

from giftcash.identity import operators
from giftcash.simulators.identity import add_person, confirm_on_phone

pytestmark = [needs_chromium, pytest.mark.slow]  # Chromium over the running demo

CUSTOMER_PASSWORD = "a long enough password"
OPERATOR_PASSWORD = "a long operator password"
PAID_TIMEOUT_MS = 60_000
REVIEW_TIMEOUT_S = 60


def _memo(info: dict, bank_code: str, number: str) -> str:
    url = f"{info['bank_url']}/sim/accounts/{bank_code}/{number}/transactions"
    txs = httpx.get(url).json()["transactions"]
    return [t["memo"] for t in txs if t.get("memo", "").startswith("GC")][-1]


def first_time_seller_in_review(info: dict, phone: str, name: str, number: str) -> dict:
    """A new customer with a verified account sells three 100,000-won vouchers bought a
    moment ago; answers the submission once the pipeline has put all three in review."""
    api = httpx.Client(base_url=info["api_url"], timeout=30)
    assert add_person(info["identity_url"], phone, name, date(1957, 3, 2))
    r = api.post(
        "/v1/signup",
        json={
            "phone": phone,
            "name": name,
            "birth_date": "1957-03-02",
            "password": CUSTOMER_PASSWORD,
        },
    )
    assert r.status_code == 201, r.text
    assert confirm_on_phone(info["identity_url"], phone) == 1  # the tap on the phone
    r = api.post("/v1/signup/identity", json={"phone": phone})
    assert r.status_code == 200, r.text
    token = api.post("/v1/tokens", json={"phone": phone, "password": CUSTOMER_PASSWORD})
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    httpx.post(
        f"{info['bank_url']}/sim/accounts",
        json={
            "bank_code": "088",
            "account_number": number,
            "holder_name": name,
            "birth_date": "1957-03-02",
        },
    ).raise_for_status()
    r = api.post(
        "/v1/bank-accounts",
        headers={**auth, "Idempotency-Key": f"acct-{phone}"},
        json={"bank_code": "088", "account_number": number, "holder_name": name},
    )
    assert r.status_code == 201, r.text
    account = r.json()["id"]
    r = api.post(
        f"/v1/bank-accounts/{account}/verify",
        headers=auth,
        json={"code": _memo(info, "088", number)},
    )
    assert r.status_code == 200, r.text
    r = httpx.post(
        f"{info['issuer_url']}/sim/vouchers",
        json={
            "brand_id": "cultureland",
            "face_value": 100_000,
            "purchase_channel": "cash",
            "count": 3,
        },
    )
    assert r.status_code == 201, r.text
    vouchers = r.json()["vouchers"]
    items = [
        {
            "brand_id": "cultureland",
            "code": v["code"],
            "face_value": 100_000,
            "funding_source": "cash",
        }
        for v in vouchers
    ]
    r = api.post(
        "/v1/submissions",
        headers={**auth, "Idempotency-Key": f"sale-{phone}"},
        json={"bank_account_id": account, "items": items},
    )
    assert r.status_code == 201, r.text
    sub = r.json()
    deadline = time.monotonic() + REVIEW_TIMEOUT_S
    while time.monotonic() < deadline:
        sub = api.get(f"/v1/submissions/{sub['id']}", headers=auth).json()
        if all(i["status"] == "review" for i in sub["items"]):
            return {**sub, "codes": [v["code"] for v in vouchers]}
        time.sleep(0.5)
    raise AssertionError(f"the sale never reached review: {[i['status'] for i in sub['items']]}")


def sign_in(pg, base: str, username: str, password: str, secret: str) -> None:
    pg.goto(f"{base}/admin")
    pg.wait_for_url(re.compile(r"/admin/signin"))
    pg.fill("input[name=username]", username)
    pg.fill("input[name=password]", password)
    pg.fill("input[name=totp]", pyotp.TOTP(secret).now())
    pg.click("main form button[type=submit]")
    pg.locator(".op-who").wait_for()


def new_operator(demo_stack, username: str, role: str) -> str:
    secret = pyotp.random_base32()
    operators.create_operator(
        demo_stack.deps,
        username=username,
        password=OPERATOR_PASSWORD,
        role=role,
        totp_secret=secret,
    )
    return secret


def test_operator_approves_a_reviewed_sale_and_sees_it_paid(demo, desk_page):
    pg, base = desk_page, demo["web_url"].rstrip("/")
    sale = first_time_seller_in_review(demo, "010-7100-0001", "박순자", "330123456789")
    approve_id, decline_id, _ = (i["id"] for i in sale["items"])

    pg.goto(f"{base}/admin/signin")
    shot(pg, "console-signin")
    op = demo["operator"]
    sign_in(pg, base, op["username"], op["password"], op["totp_secret"])
    assert re.search(r"/admin$", pg.url)  # an admin starts at the dashboard

    pg.goto(f"{base}/admin/review")
    case = pg.locator(f"article[data-item='{approve_id}']")
    case.wait_for()
    text = case.inner_text()
    assert "박순자" in text and "60~69세" in text  # born 1957: a band, not the birthday
    assert "첫 판매" in text  # no sale paid before
    assert "scam_victim_guard" in text  # the rule that sent it here
    assert "112" in text  # the warning the customer saw
    html = pg.content()
    for code in sale["codes"]:  # masked: the last four only
        assert code not in html and code[-4:] in html
    shot(pg, "console-review-queue")

    case.locator("textarea[name=reason]").fill("고객과 통화함: 선물 받은 상품권을 직접 판매")
    case.locator("button.approve-button").click()
    pg.get_by_text("승인했습니다").wait_for()
    other = pg.locator(f"article[data-item='{decline_id}']")
    other.locator("textarea[name=reason]").fill("모르는 사람의 지시로 구매했다고 함")
    other.locator("button.decline-button").click()
    pg.get_by_text("거절했습니다").wait_for()

    approved = pg.locator(f"#recent tr[data-item='{approve_id}']")
    approved.locator("[data-state=paid]").wait_for(timeout=PAID_TIMEOUT_MS)
    declined = pg.locator(f"#recent tr[data-item='{decline_id}']")
    assert declined.locator("[data-state=declined]").count() == 1
    assert pg.locator("article.review-case").count() == 1  # the third still waits
    shot(pg, "console-review-decided")

    pg.goto(f"{base}/admin/items/{approve_id}")
    pg.locator("#item-state [data-state=paid]").wait_for()
    assert "assets:issuer:cultureland" in pg.content()  # the redemption is in the ledger
    shot(pg, "console-item-paid")


def test_dashboard_renders_its_charts(demo, demo_stack, desk_page):
    pg, base = desk_page, demo["web_url"].rstrip("/")
    secret = new_operator(demo_stack, "desk.admin", "admin")
    sign_in(pg, base, "desk.admin", OPERATOR_PASSWORD, secret)
    pg.goto(f"{base}/admin")
    charts = pg.locator("svg.chart")
    assert charts.count() == 5
    for name in ("volume", "states", "latency", "exposure"):
        chart = pg.locator(f"svg.chart-{name}")
        assert chart.locator("title").count() >= 1
        assert chart.locator("rect").count() >= 1, name
    # one bar per day of the last 14, each a payout part and a margin part
    assert pg.locator("svg.chart-volume rect.c-payout").count() == 14
    assert pg.locator("svg.chart-volume rect.c-margin").count() == 14
    assert pg.locator(".stat-value").first.inner_text().endswith("원")
    shot(pg, "console-dashboard")

    for path, name in (
        ("/admin/brands", "brands"),
        ("/admin/payouts", "payouts"),
        ("/admin/customers?q=7100-0001", "customers"),
        ("/admin/audit", "audit"),
        ("/admin/reconciliation", "reconciliation"),
    ):
        pg.goto(base + path)
        pg.locator("main h1").wait_for()
        shot(pg, f"console-{name}")
    assert pg.locator("[data-kind=bank] .empty-state").count() == 1  # no run yet
    pg.goto(f"{base}/admin/customers?q=7100-0001")
    pg.get_by_role("link", name="박순자").click()
    pg.locator("main h1", has_text="박순자").wait_for()
    assert "010-7100-0001" in pg.content()
    shot(pg, "console-customer")
    pg.goto(f"{base}/admin/reconciliation")
    # finance reconciles the bank's statement (the simulator's) with the books
    statement = httpx.get(f"{demo['bank_url']}/sim/statement").text
    pg.set_input_files(
        "section[data-kind=bank] input[type=file]",
        files=[{"name": "statement.csv", "mimeType": "text/csv", "buffer": statement.encode()}],
    )
    pg.click("section[data-kind=bank] button[type=submit]")
    clean = pg.locator("section[data-kind=bank] .pill[data-clean]")
    clean.wait_for()
    assert clean.get_attribute("data-clean") == "yes", pg.locator("[data-kind=bank]").inner_text()
    shot(pg, "console-reconciliation-run")
    pg.goto(f"{base}/admin/audit")
    assert pg.locator(".verify[data-verified=yes]").count() == 1

    pg.set_viewport_size(PHONE_WIDTH)
    pg.goto(f"{base}/admin")
    assert pg.locator("svg.chart").count() == 5
    shot(pg, "console-dashboard-phone")
    pg.click("form.lang button[value=en]")
    pg.wait_for_selector("html[lang=en]")
    assert "Dashboard" in pg.locator("main h1").inner_text()
    shot(pg, "console-dashboard-phone-en")


@pytest.mark.parametrize("page", [403], indirect=True, ids=["refused"])
def test_a_reviewer_cannot_open_the_brands_page(demo, demo_stack, page):
    pg, base = page, demo["web_url"].rstrip("/")
    secret = new_operator(demo_stack, "rev.kim", "reviewer")
    sign_in(pg, base, "rev.kim", OPERATOR_PASSWORD, secret)
    assert re.search(r"/admin/review$", pg.url)  # a reviewer's console is the queue
    nav = pg.locator("header nav").inner_text()
    assert "검토" in nav and "브랜드" not in nav
    response = pg.goto(f"{base}/admin/brands")
    assert response.status == 403
    assert "권한" in pg.locator("main").inner_text()
    assert pg.locator("input[name=rate]").count() == 0
    shot(pg, "console-reviewer-403")
