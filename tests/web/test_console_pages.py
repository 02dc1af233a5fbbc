"""The operator console through TestClient over in-memory issuer, bank and SMS fakes, on
SQLite (and PostgreSQL when GIFTCASH_TEST_POSTGRES_URL is set): every console route for
every role (a page, a 403 page or the sign-in redirect), CSRF on every console POST, and
the console's flows end to end: sign-in with TOTP, review to paid, brands and the kill
switch, customers, payouts, reconciliation, the audit log and the dashboard."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from websupport import Site

from giftcash.adapters.db import tables as t
from giftcash.catalogue import live as catalogue
from giftcash.domain.resale import ExpiryBand, ResalePricing
from giftcash.entrypoints.web import console_routers
from giftcash.entrypoints.worker import Worker
from giftcash.identity import operators
from giftcash.review import queue as review

OPERATOR_PASSWORD = "a long operator password"
ROLES = ("reviewer", "finance", "admin")

# The role matrix, written out here rather than read from the code it checks.
ALLOWED = {
    "dashboard": {"finance", "admin"},
    "review": {"reviewer", "admin"},
    "cases": {"reviewer", "admin"},
    "stops": {"finance", "admin"},
    "brands": {"admin"},
    "customers": {"admin"},
    "items": {"finance", "admin"},
    "payouts": {"finance", "admin"},
    "bank_hours": {"finance", "admin"},
    "resale": {"finance", "admin"},
    "reconciliation": {"finance", "admin"},
    "audit": {"finance", "admin"},
    "privacy": {"admin"},
}
GETS = {
    "/admin": "dashboard",
    "/admin/review": "review",
    "/admin/review/recent": "review",
    "/admin/cases": "cases",
    "/admin/cases/{case_id}": "cases",
    "/admin/stops": "stops",
    "/admin/stops/{stop_id}": "stops",
    "/admin/brands": "brands",
    "/admin/customers": "customers",
    "/admin/customers/{customer_id}": "customers",
    "/admin/items/{item_id}": "items",
    "/admin/items/{item_id}/state": "items",
    "/admin/payouts": "payouts",
    "/admin/payouts/{payout_id}": "payouts",
    "/admin/bank-hours": "bank_hours",
    "/admin/resale": "resale",
    "/admin/items/{item_id}/evidence.{fmt}": "items",
    "/admin/submissions/{submission_id}/evidence.{fmt}": "items",
    "/admin/reconciliation": "reconciliation",
    "/admin/audit": "audit",
    "/admin/privacy": "privacy",
}
POSTS = {
    "/admin/review/{item_id}/approve": "review",
    "/admin/review/{item_id}/decline": "review",
    "/admin/cases/{case_id}/status": "cases",
    "/admin/cases/{case_id}/require-edd": "cases",
    "/admin/cases/export": "cases",
    "/admin/stops": "stops",
    "/admin/stops/{stop_id}/release": "stops",
    "/admin/stops/{stop_id}/settle": "stops",
    "/admin/stops/{stop_id}/export": "stops",
    "/admin/customers/{customer_id}/block": "customers",
    "/admin/customers/{customer_id}/unblock": "customers",
    "/admin/customers/{customer_id}/notes": "customers",
    "/admin/customers/{customer_id}/require-edd": "customers",
    "/admin/brands/{brand_id}": "brands",
    "/admin/brands/{brand_id}/resale-pricing": "brands",
    "/admin/issuers/{issuer}": "brands",
    "/admin/payouts/{payout_id}/inquire": "payouts",
    "/admin/payouts/{payout_id}/retry": "payouts",
    "/admin/bank-hours": "bank_hours",
    "/admin/bank-hours/{maintenance_id}/remove": "bank_hours",
    "/admin/reconciliation/{kind}": "reconciliation",
    "/admin/resale/claims/{claim_id}/resolve": "resale",
}
OPEN = {("GET", "/admin/signin"), ("POST", "/admin/signin"), ("POST", "/admin/signout")}
OPEN |= {("POST", "/admin/lang")}


def filled(path: str) -> str:
    """A route's path with ids that exist nowhere (the role check comes first)."""
    return re.sub(r"\{[a-z_]+\}", "nope", path).replace(
        "/reconciliation/nope", "/reconciliation/bank"
    )


class Console:
    """Operators of any role, each with a browser-like session of its own."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.app = site.client.app
        self.secrets: dict[str, str] = {}

    def operator(self, username: str, role: str) -> TestClient:
        secret = pyotp.random_base32()
        operators.create_operator(
            self.site.deps,
            username=username,
            password=OPERATOR_PASSWORD,
            role=role,
            totp_secret=secret,
        )
        self.secrets[username] = secret
        client = TestClient(self.app, base_url="http://testserver")
        token = operators.issue_token(
            self.site.deps,
            username=username,
            password=OPERATOR_PASSWORD,
            totp=pyotp.TOTP(secret).now(),
        )
        client.cookies.set("gc_op_session", token.access_token)
        return client

    def anonymous(self) -> TestClient:
        return TestClient(self.app, base_url="http://testserver")


def csrf(client: TestClient, path: str = "/admin/signin") -> str:
    html = client.get(path).text
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post(client: TestClient, path: str, data: dict | None = None, token_from: str = "", **kw):
    token = csrf(client, token_from or "/admin/signin")
    return client.post(
        path, data={"csrf_token": token, **(data or {})}, follow_redirects=False, **kw
    )


@pytest.fixture
def console(site: Site) -> Console:
    return Console(site)


def audit_actions(site: Site, action: str) -> list:
    c = t.audit_log.c
    with site.deps.uow() as uow:
        rows = uow.conn.execute(select(t.audit_log).where(c.action == action).order_by(c.seq))
        return list(rows)


# -- the role matrix -----------------------------------------------------------------------


def test_the_matrix_names_every_console_route():
    routes = {
        (method, r.path)
        for router in console_routers()
        for r in router.routes
        for method in r.methods
    }
    named = {("GET", p) for p in GETS} | {("POST", p) for p in POSTS} | OPEN
    assert routes == named


def test_every_page_for_every_role(console: Console):
    clients = {role: console.operator(f"op.{role}", role) for role in ROLES}
    anonymous = console.anonymous()
    for path, area in GETS.items():
        url = filled(path)
        r = anonymous.get(url, follow_redirects=False)
        assert r.status_code == 303, url
        assert r.headers["location"].startswith("/admin/signin?next=")
        for role, client in clients.items():
            r = client.get(url, follow_redirects=False)
            if role in ALLOWED[area]:
                assert r.status_code in (200, 404), (url, role, r.status_code)
                if "{" not in path:
                    assert r.status_code == 200, (url, role)
            elif path == "/admin":  # a reviewer's console starts at the review queue
                assert r.status_code == 303 and r.headers["location"] == "/admin/review"
            else:
                assert r.status_code == 403, (url, role, r.status_code)
                assert "forbidden_role" in r.text
                assert "이 페이지를 열 권한이 없습니다" in r.text  # a page, not a stack trace
                assert "/static/console.css" in r.text  # in the console's frame
    denied = audit_actions(console.site, "access.denied")
    assert {"GET /admin/brands"} <= {row.subject for row in denied}


def test_every_post_for_every_role(console: Console):
    clients = {role: console.operator(f"op.{role}", role) for role in ROLES}
    for path, area in POSTS.items():
        url = filled(path)
        r = post(console.anonymous(), url)
        assert r.status_code == 303 and r.headers["location"].startswith("/admin/signin")
        for role, client in clients.items():
            r = post(client, url, token_from="/admin/signin", data={"reason": "x"})
            if role in ALLOWED[area]:
                assert r.status_code != 403, (url, role)
            else:
                assert r.status_code == 403, (url, role, r.status_code)
                assert "forbidden_role" in r.text


def test_a_reviewer_refused_the_brands_page_changes_nothing(console: Console):
    reviewer = console.operator("rev.lee", "reviewer")
    r = post(reviewer, "/admin/brands/cultureland", {"rate": "50", "enabled": "on"})
    assert r.status_code == 403
    brand = catalogue.live_catalogue(console.site.deps).brands["cultureland"]
    assert brand.buyback_rate_bps == 9_000
    assert not audit_actions(console.site, "brand.update")
    assert audit_actions(console.site, "access.denied")[-1].detail["role"] == "reviewer"


# -- CSRF ----------------------------------------------------------------------------------


def test_every_console_post_refuses_a_missing_wrong_or_cross_site_token(console: Console):
    client = console.operator("adm", "admin")
    token = csrf(client, "/admin")
    for path in [*map(filled, POSTS), "/admin/signin", "/admin/signout", "/admin/lang"]:
        missing = client.post(path, data={"reason": "x"}, follow_redirects=False)
        wrong = client.post(path, data={"csrf_token": "0" * 64}, follow_redirects=False)
        cross = client.post(
            path,
            data={"csrf_token": token},
            headers={"Origin": "https://evil.example"},
            follow_redirects=False,
        )
        for r in (missing, wrong, cross):
            assert r.status_code == 403, (path, r.status_code)
            assert "/static/console.css" in r.text  # the console's own error page
    # the customer site's token is no good here, nor the console's there
    customer_token = csrf(client, "/signin")
    r = client.post("/admin/lang", data={"csrf_token": customer_token, "lang": "en"})
    assert r.status_code == 403


def test_a_refused_approval_leaves_the_item_in_review(console: Console):
    site = console.site
    item_id = _items_in_review(site)[0]
    client = console.operator("adm", "admin")
    r = client.post(f"/admin/review/{item_id}/approve", data={"reason": "ok"})
    assert r.status_code == 403
    assert _status(site, item_id) == "review"


# -- sign-in -------------------------------------------------------------------------------


def test_sign_in_with_password_and_totp(console: Console):
    site = console.site
    secret = pyotp.random_base32()
    operators.create_operator(
        site.deps,
        username="fin.park",
        password=OPERATOR_PASSWORD,
        role="finance",
        totp_secret=secret,
    )
    client = console.anonymous()
    r = client.get("/admin/audit", follow_redirects=False)
    assert r.headers["location"] == "/admin/signin?next=/admin/audit"
    page = client.get(r.headers["location"]).text
    assert '<html lang="ko">' in page and "운영자 로그인" in page
    assert 'autocomplete="one-time-code"' in page
    form = {"username": "fin.park", "password": OPERATOR_PASSWORD, "next": "/admin/audit"}
    wrong = post(client, "/admin/signin", {**form, "totp": "000000"})
    assert wrong.status_code == 401
    assert "아이디, 비밀번호 또는 인증 코드가 올바르지 않습니다" in wrong.text
    assert "gc_op_session" not in wrong.headers.get("set-cookie", "")
    r = post(client, "/admin/signin", {**form, "totp": pyotp.TOTP(secret).now()})
    assert r.status_code == 303 and r.headers["location"] == "/admin/audit"
    cookie = r.headers["set-cookie"]
    assert "gc_op_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert client.get("/admin/audit").status_code == 200
    # the same code again is refused: one use per code
    again = post(console.anonymous(), "/admin/signin", {**form, "totp": pyotp.TOTP(secret).now()})
    assert again.status_code == 401
    token = cookie.split("gc_op_session=", 1)[1].split(";")[0].strip('"')
    bearer = {"Authorization": f"Bearer {token}"}
    other = console.anonymous()  # the same token, used from somewhere else
    assert other.get("/v1/admin/audit", headers=bearer).status_code == 200
    # signing out ends the session, in this browser and for the token anywhere
    r = post(client, "/admin/signout", token_from="/admin/audit")
    assert r.status_code == 303
    assert client.get("/admin/audit", follow_redirects=False).status_code == 303
    assert other.get("/v1/admin/audit", headers=bearer).status_code == 401


def test_sign_in_goes_to_a_console_page_only(console: Console):
    site = console.site
    secret = pyotp.random_base32()
    operators.create_operator(
        site.deps,
        username="rev.choi",
        password=OPERATOR_PASSWORD,
        role="reviewer",
        totp_secret=secret,
    )
    client = console.anonymous()
    form = {"username": "rev.choi", "password": OPERATOR_PASSWORD, "totp": pyotp.TOTP(secret).now()}
    r = post(client, "/admin/signin", {**form, "next": "https://evil.example/admin"})
    assert r.headers["location"] == "/admin/review"  # a reviewer's home, never elsewhere


def test_console_in_english_and_the_security_headers(console: Console):
    client = console.operator("adm", "admin")
    r = post(client, "/admin/lang", {"lang": "en", "next": "/admin/brands"}, token_from="/admin")
    assert r.status_code == 303 and r.headers["location"] == "/admin/brands"
    page = client.get("/admin/brands")
    assert '<html lang="en">' in page.text and "Brands and issuers" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text and " style=" not in page.text


# -- the review queue ----------------------------------------------------------------------

CODES = ["4180000000000111", "4180000000000112", "4180000000000113"]


def _items_in_review(site: Site) -> list[str]:
    """A first-time seller's three 100,000-won vouchers bought five minutes ago: the
    policy sends them to review."""
    site.sign_up("010-4444-5555", name="최영자")
    account = site.add_account("44445555666677", name="최영자")
    bought = datetime.now(UTC) - timedelta(minutes=5)
    for code in CODES:
        site.issuer.sell("cultureland", code, 100_000, purchased_at=bought)
    r = site.post(
        "/sell",
        {
            "bank_account_id": account,
            "brand_id": "cultureland",
            "face_value": "100000",
            "funding_source": "cash",
            "mode": "paste",
            "paste": "\n".join(CODES),
        },
    )
    assert r.status_code == 303, r.text
    Worker(site.deps).drain(20)
    with site.deps.uow() as uow:
        rows = uow.conn.execute(
            select(t.items.c.id, t.items.c.status).order_by(t.items.c.masked_code)
        ).all()
    assert [row.status for row in rows] == ["review"] * 3
    return [row.id for row in rows]


def _status(site: Site, item_id: str) -> str:
    with site.deps.uow() as uow:
        return uow.conn.execute(
            select(t.items.c.status).where(t.items.c.id == item_id)
        ).scalar_one()


def test_review_shows_the_evidence_and_an_approval_is_paid(console: Console):
    site = console.site
    first, second, _ = _items_in_review(site)
    reviewer = console.operator("rev.han", "reviewer")
    page = reviewer.get("/admin/review").text
    for code in CODES:
        assert code not in page and code[-4:] in page  # masked codes only
    assert page.count('class="card review-case"') == 3
    assert "최영자" in page and "첫 판매" in page
    assert "scam_victim_guard" in page and "검토" in page
    assert "판매 5분 전에 구매" in page  # the issuer's purchase time, against the sale
    assert "112" in page  # the warning the customer was shown
    assert "예금주 일치" in page  # the payout account is in her own name

    token = csrf(reviewer, "/admin/review")
    r = reviewer.post(f"/admin/review/{first}/approve", data={"csrf_token": token, "reason": " "})
    assert r.status_code == 422 and "사유를 입력하세요" in r.text
    assert _status(site, first) == "review"
    r = reviewer.post(
        f"/admin/review/{first}/approve",
        data={"csrf_token": token, "reason": "called her: gifts from her children"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin/review?done=approved"
    assert "승인했습니다" in reviewer.get(r.headers["location"]).text
    r = reviewer.post(
        f"/admin/review/{second}/decline",
        data={"csrf_token": token, "reason": "a caller told her to buy them"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    # deciding twice is refused: the item left review
    again = reviewer.post(
        f"/admin/review/{first}/approve", data={"csrf_token": token, "reason": "again"}
    )
    assert again.status_code == 409

    recent = reviewer.get("/admin/review/recent").text
    assert 'hx-trigger="every' in recent  # still moving: the fragment polls
    Worker(site.deps).drain(20)
    assert _status(site, first) == "paid" and _status(site, second) == "declined"
    recent = reviewer.get("/admin/review/recent").text
    assert 'data-state="paid"' in recent and 'data-state="declined"' in recent
    assert "hx-trigger" not in recent  # nothing moves any more: polling stops
    assert site.bank.paid_to("004", "44445555666677") == 90_000
    approvals = audit_actions(site, "item.approve")
    # the refusals (no reason, decided before) are audited beside the approval
    assert [a.actor for a in approvals] == ["operator:rev.han"] * 3
    assert [a.detail["outcome"] for a in approvals] == ["refused", "done", "refused"]


# -- brands and issuers --------------------------------------------------------------------


def test_brand_rate_switch_and_cap_are_changed_and_audited(console: Console):
    site = console.site
    client = console.operator("adm", "admin")
    page = client.get("/admin/brands").text
    assert 'value="90"' in page and "cultureland" in page
    form = {"rate": "88.5", "enabled": "on", "exposure_cap": "5,000,000"}
    r = post(client, "/admin/brands/cultureland", form, token_from="/admin/brands")
    assert r.status_code == 303 and "saved=brand" in r.headers["location"]
    live = catalogue.live_catalogue(site.deps)
    assert live.brands["cultureland"].buyback_rate_bps == 8_850
    assert live.brand_exposure_caps["cultureland"] == 5_000_000
    (update_row,) = audit_actions(site, "brand.update")
    assert update_row.detail["changes"] == {"buyback_rate_bps": 8850, "exposure_cap": 5_000_000}
    assert update_row.actor == "operator:adm"
    # the same form again changes nothing and writes nothing
    r = post(client, "/admin/brands/cultureland", form, token_from="/admin/brands")
    assert r.headers["location"].endswith("saved=unchanged")
    assert len(audit_actions(site, "brand.update")) == 1
    # empty restores the default rate
    r = post(client, "/admin/brands/cultureland", {**form, "rate": ""}, "/admin/brands")
    assert catalogue.live_catalogue(site.deps).brands["cultureland"].buyback_rate_bps == 9_000
    for bad in ("120", "90.125", "abc"):
        r = post(client, "/admin/brands/cultureland", {**form, "rate": bad}, "/admin/brands")
        assert r.status_code == 422 and "매입률은" in r.text, bad


def test_a_resold_brand_s_payout_hold_is_set_in_hours_and_audited(console: Console):
    site = console.site
    client = console.operator("adm", "admin")
    page = client.get("/admin/brands").text
    assert 'name="resell_hold_h"' in page and "재판매 지급 보류" in page
    assert "발행사에서 사용 처리" in page  # a redeemed brand has no hold to set
    form = {"rate": "90", "enabled": "on", "exposure_cap": "", "resell_hold_h": "48"}
    r = post(client, "/admin/brands/kyobo_gift", form, token_from="/admin/brands")
    assert r.status_code == 303 and "saved=brand" in r.headers["location"]
    assert catalogue.live_catalogue(site.deps).brands["kyobo_gift"].resell_hold_s == 48 * 3600
    (row,) = audit_actions(site, "brand.update")
    assert row.detail["changes"] == {"resell_hold_s": 172_800}
    for bad in ("721", "-1", "1.5", "abc"):
        r = post(
            client, "/admin/brands/kyobo_gift", {**form, "resell_hold_h": bad}, "/admin/brands"
        )
        assert r.status_code == 422 and "재판매 지급 보류는" in r.text, bad
    r = post(client, "/admin/brands/kyobo_gift", {**form, "resell_hold_h": ""}, "/admin/brands")
    assert catalogue.live_catalogue(site.deps).brands["kyobo_gift"].resell_hold_s == 0
    # a redeemed brand's form carries no hold, and none is set on it
    r = post(client, "/admin/brands/cultureland", {**form, "resell_hold_h": "5"}, "/admin/brands")
    assert r.headers["location"].endswith("saved=unchanged")


def test_a_brand_is_switched_between_redeemed_and_resold(console: Console):
    site = console.site
    client = console.operator("adm", "admin")
    page = client.get("/admin/brands").text
    assert "구매자에게 재판매" in page and "발행사에서 사용 처리" in page
    form = {"rate": "90", "enabled": "on", "exposure_cap": "", "disposition": "resell"}
    r = post(client, "/admin/brands/cultureland", form, token_from="/admin/brands")
    assert r.status_code == 303 and "saved=brand" in r.headers["location"]
    brand = catalogue.live_catalogue(site.deps).brands["cultureland"]
    assert brand.disposition.value == "resell" and brand.resale_pricing is not None
    page = client.get("/admin/brands").text
    assert 'data-prices="cultureland"' in page  # now priced for buyers
    (row,) = audit_actions(site, "brand.update")
    assert row.detail["changes"] == {"disposition": "resell"}
    # back to the catalogue's own: stored as no override at all
    r = post(
        client, "/admin/brands/cultureland", {**form, "disposition": "redeem"}, "/admin/brands"
    )
    assert r.status_code == 303
    assert catalogue.live_catalogue(site.deps).brand_rows["cultureland"]["disposition"] is None
    brand = catalogue.live_catalogue(site.deps).brands["cultureland"]
    assert brand.disposition.value == "redeem" and brand.resale_pricing is None


def test_a_resold_brand_s_prices_for_buyers_are_set_and_audited(console: Console):
    site = console.site
    client = console.operator("adm", "admin")
    page = client.get("/admin/brands").text
    # Kyobo's default: 5% off from 30 days left, 7.5% from 7, not sold under 7
    row = page[page.index('data-prices="kyobo_gift"') :].split("</tr>")[0]
    assert (
        'name="band_days_1" form="prices-kyobo_gift" inputmode="numeric" maxlength="5" value="30"'
        in row
    )
    assert 'value="7.5"' in row and "재판매 가격" in page
    assert 'data-prices="cultureland"' not in page  # redeemed at the issuer: never sold
    form = {"min_days_left": "10", "band_days_1": "10", "band_pct_1": "10"}
    form |= {"band_days_2": "60", "band_pct_2": "3", "band_days_3": "30", "band_pct_3": "6.5"}
    r = post(client, "/admin/brands/kyobo_gift/resale-pricing", form, "/admin/brands")
    assert r.status_code == 303 and "saved=prices" in r.headers["location"]
    pricing = catalogue.live_catalogue(site.deps).brands["kyobo_gift"].resale_pricing
    assert pricing == ResalePricing(
        10, (ExpiryBand(10, 1_000), ExpiryBand(30, 650), ExpiryBand(60, 300))
    )
    (audited,) = audit_actions(site, "brand.update")
    assert audited.detail["changes"]["resale_pricing"]["min_days_left"] == 10
    assert audited.actor == "operator:adm"
    refused = [
        {**form, "band_pct_1": "2"},  # nearer expiry but cheaper off: refused
        {**form, "band_pct_2": ""},  # a band without its discount
        {**form, "band_pct_1": "100"},
        {**form, "min_days_left": "5"},  # sold from 5 days, but no band starts under 10
        {**form, "min_days_left": "ten"},
    ]
    for bad in refused:
        r = post(client, "/admin/brands/kyobo_gift/resale-pricing", bad, "/admin/brands")
        assert r.status_code == 422 and "재판매 가격을 저장할 수 없습니다" in r.text, bad
    assert catalogue.live_catalogue(site.deps).brands["kyobo_gift"].resale_pricing == pricing
    # what the service refused is audited as refused; what the form refused never got there
    outcomes = [a.detail.get("outcome") for a in audit_actions(site, "brand.update")]
    assert outcomes == ["done", "refused", "refused"]
    r = post(client, "/admin/brands/cultureland/resale-pricing", form, "/admin/brands")
    assert r.status_code == 422
    # all empty: the catalogue's default again
    empty = {k: "" for k in form}
    r = post(client, "/admin/brands/kyobo_gift/resale-pricing", empty, "/admin/brands")
    assert r.status_code == 303
    brand = catalogue.live_catalogue(site.deps).brands["kyobo_gift"]
    assert brand.resale_pricing == ResalePricing(7, (ExpiryBand(7, 750), ExpiryBand(30, 500)))


def test_the_issuer_kill_switch_asks_for_confirmation(console: Console):
    site = console.site
    client = console.operator("adm", "admin")
    r = post(client, "/admin/issuers/cultureland", {"switch": "stop"}, "/admin/brands")
    assert r.status_code == 422 and "확인란에 체크하세요" in r.text
    assert "cultureland" not in catalogue.live_catalogue(site.deps).disabled_issuers
    r = post(
        client, "/admin/issuers/cultureland", {"switch": "stop", "confirm": "yes"}, "/admin/brands"
    )
    assert r.status_code == 303
    assert "cultureland" in catalogue.live_catalogue(site.deps).disabled_issuers
    assert "중단됨" in client.get("/admin/brands").text
    r = post(client, "/admin/issuers/cultureland", {"switch": "resume"}, "/admin/brands")
    assert "cultureland" not in catalogue.live_catalogue(site.deps).disabled_issuers
    assert [a.detail["changes"] for a in audit_actions(site, "issuer.update")] == [
        {"enabled": False},
        {"enabled": True},
    ]
    r = post(client, "/admin/issuers/nobody", {"switch": "resume"}, "/admin/brands")
    assert r.status_code == 404 and "해당 발행사가 없습니다" in r.text


# -- customers, items and payouts ----------------------------------------------------------


def test_customers_search_and_record(console: Console):
    site = console.site
    first, _, _ = _items_in_review(site)
    client = console.operator("adm", "admin")
    page = client.get("/admin/customers?q=5555").text
    assert "최영자" in page and "010-****-5555" in page and "01044445555" not in page
    assert "최영자" in client.get("/admin/customers?q=영자").text
    assert "고객 0명" in client.get("/admin/customers?q=9999").text
    short = client.get("/admin/customers?q=55")
    assert short.status_code == 422 and "4자리 이상" in short.text
    customer_id = re.search(r'href="/admin/customers/([^"]+)"', page).group(1)
    record = client.get(f"/admin/customers/{customer_id}").text
    assert "010-4444-5555" in record
    assert '3 <span class="of">/ 30</span>' in record  # items today against the daily limit
    assert "300,000원" in record  # value today
    assert "scam_check" in record  # the flagged items carry their review reason
    assert "예금주 일치" in record and "*6677" in record
    for code in CODES:
        assert code not in record
    item = client.get(f"/admin/items/{first}").text
    assert "검토 중" in item and CODES[0] not in item and "hx-trigger" not in item
    assert client.get("/admin/customers/nope").status_code == 404


def test_an_operator_asks_one_customer_for_due_diligence_and_reads_the_answers(
    console: Console,
):
    from giftcash.identity import tiers

    site = console.site
    site.sign_up("010-4545-0001", name="정하준")
    with site.deps.uow() as uow:  # type: ignore[attr-defined]
        customer_id = uow.customers.by_phone("01045450001").id
    client = console.operator("adm", "admin")
    record = client.get(f"/admin/customers/{customer_id}").text
    assert "고객확인" in record and "아직 답변이 없습니다" in record
    r = post(
        client,
        f"/admin/customers/{customer_id}/require-edd",
        {"reason": "사례 검토 중 자금 출처 확인"},
        token_from=f"/admin/customers/{customer_id}",
    )
    assert r.status_code == 303, r.text
    record = client.get(r.headers["location"]).text
    assert "강화된 고객확인을 요청했습니다" in record and "사례 검토 중 자금 출처 확인" in record
    (audited,) = audit_actions(site, "customer.require_edd")
    assert audited.detail["reason"] == "사례 검토 중 자금 출처 확인"
    tiers.answer_edd(
        site.deps, customer_id, occupation="자영업", source_of_funds="매출", purpose="정산"
    )
    record = client.get(f"/admin/customers/{customer_id}").text
    assert 'data-testid="edd-answers"' in record and "자영업" in record and "매출" in record


def test_payouts_list_inquiry_and_retry(console: Console):
    site = console.site
    first, _, _ = _items_in_review(site)
    approver = console.operator("adm", "admin")
    review.approve(
        site.deps,
        operators.authenticate(site.deps, approver.cookies["gc_op_session"]),
        first,
        "checked",
    )
    Worker(site.deps).drain(20)
    finance = console.operator("fin", "finance")
    page = finance.get("/admin/payouts").text
    payout_id = re.search(r'data-payout="([^"]+)"', page).group(1)
    assert "입금 확인" in page and "90,000원" in page
    assert payout_id not in finance.get("/admin/payouts?status=pending").text
    detail = finance.get(f"/admin/payouts/{payout_id}").text
    assert "은행에 조회" in detail and "지금 처리하도록 올리기" not in detail  # confirmed
    r = post(finance, f"/admin/payouts/{payout_id}/inquire", token_from="/admin/payouts")
    assert r.status_code == 200 and "은행이 이체를 완료했습니다" in r.text
    assert "은행과 장부가 일치합니다" in r.text
    r = post(finance, f"/admin/payouts/{payout_id}/retry", token_from="/admin/payouts")
    assert r.status_code == 409 and "다시 보낼 수 없습니다" in r.text
    assert not audit_actions(site, "payout.retry")
    item = finance.get(f"/admin/items/{first}").text
    assert 'data-state="paid"' in item and "assets:issuer:cultureland" in item


# -- reconciliation, audit, dashboard ------------------------------------------------------


def test_reconciliation_upload_shows_the_differences_and_keeps_the_last_run(console: Console):
    client = console.operator("fin", "finance")
    page = client.get("/admin/reconciliation").text
    assert page.count("아직 대사를 실행하지 않았습니다") == 2
    statement = "bank_tran_id,direction,amount,date\nM202600001U999999999,out,12345,2026-11-27\n"
    token = csrf(client, "/admin/reconciliation")
    r = client.post(
        "/admin/reconciliation/bank",
        data={"csrf_token": token},
        files={"file": ("statement.csv", statement.encode(), "text/csv")},
    )
    assert r.status_code == 200, r.text
    assert 'data-clean="no"' in r.text and "M202600001U999999999" in r.text
    assert "장부에 없음" in r.text and "12,345원" in r.text
    again = client.get("/admin/reconciliation").text
    assert "M202600001U999999999" in again and "statement.csv" in again
    bad = client.post(
        "/admin/reconciliation/bank",
        data={"csrf_token": token},
        files={"file": ("x.csv", b"nothing,useful\n1,2\n", "text/csv")},
    )
    assert bad.status_code == 422 and "statement_invalid" in bad.text
    none = client.post("/admin/reconciliation/bank", data={"csrf_token": token})
    assert none.status_code == 422 and "CSV 파일을 선택하세요" in none.text


def test_reconciliation_names_the_deposit_findings_in_korean(console: Console):
    """With virtual accounts, the statement's upload also compares the bank's records of
    the buyers' deposits: one the bank took that our books never recorded is shown under
    its Korean label; a bank that cannot list them makes the run unclean, said so."""
    from fakes import FakeClock, FakeVirtualAccounts

    bank = FakeVirtualAccounts(clock=FakeClock(datetime(2026, 11, 27, 9, 0, tzinfo=UTC)))
    va = bank.issue("o-1", 9_500, "giftcash", datetime(2026, 11, 28, tzinfo=UTC))
    unrecorded = bank.pay(va.account_number, 9_500, "홍길동").deposit.deposit_id
    console.site.deps.virtual_accounts = bank
    client = console.operator("fin", "finance")
    token = csrf(client, "/admin/reconciliation")
    statement = f"bank_tran_id,direction,amount,date\n{unrecorded},in,9500,2026-11-27\n"

    def upload() -> str:
        r = client.post(
            "/admin/reconciliation/bank",
            data={"csrf_token": token},
            files={"file": ("statement.csv", statement.encode(), "text/csv")},
        )
        assert r.status_code == 200, r.text
        return r.text

    page = upload()
    assert 'data-clean="no"' in page
    assert "은행 기록과 다른 구매자 입금·반환" in page
    assert 'data-finding="deposit_unrecorded"' in page
    assert "은행에는 있고 장부에 없는 입금" in page and unrecorded in page
    bank.down = True
    page = upload()
    assert 'data-clean="no"' in page and 'data-deposits="unread"' in page
    assert "은행의 구매자 입금 기록을 읽지 못해" in page


def test_the_audit_log_shows_whether_its_chain_verifies(console: Console):
    site = console.site
    client = console.operator("fin", "finance")
    page = client.get("/admin/audit").text
    assert 'data-verified="yes"' in page and "operator.login" in page
    with site.deps.uow() as uow:
        uow.conn.execute(
            update(t.audit_log).where(t.audit_log.c.seq == 1).values(actor="someone else")
        )
        uow.commit()
    assert 'data-verified="no"' in client.get("/admin/audit").text


def test_dashboard_figures_and_charts(console: Console):
    site = console.site
    first, _, _ = _items_in_review(site)
    op = console.operator("adm", "admin")
    review.approve(
        site.deps, operators.authenticate(site.deps, op.cookies["gc_op_session"]), first, "checked"
    )
    Worker(site.deps).drain(20)
    page = op.get("/admin").text
    assert page.count('<svg class="chart') == 5
    assert page.count('class="c-payout"') == 14 and page.count('class="c-margin"') == 14
    assert "100,000원" in page and "90,000원" in page and "10,000원" in page  # today
    assert "액면가의 10%" in page  # margin rate
    assert "검토 중 항목" in page  # the queues
    assert "오늘 입금이 확인된 지급 1건" in page  # the latency chart's description
    for code in CODES:
        assert code not in page
