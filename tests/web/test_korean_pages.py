"""No English sentence on the Korean site (issue 13, item 5): every customer page,
signed out and signed in, with a sale in each end state (paid, declined, held for
review, returned by the bank), rendered in Korean; the test fails on any message the
pages ask the catalogue for that it does not have, and on any run of English words in
the page's text or in what a screen reader reads (placeholder, aria-label, title, alt).
Proper nouns may stay. Every date is written one way per language."""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from websupport import Site

from apiworld import bounce_the_payout
from giftcash.entrypoints.web import i18n, pages
from giftcash.entrypoints.worker import Worker

PAID, UNKNOWN, HELD, RETURNED = (
    "4180000000000011",
    "4180000000000021",
    "4180000000000031",
    "4180000000000041",
)
STOCKED = "6107000000000051"  # a resold brand's voucher (kyobo_gift), its payout held
# Names that stay as they are in Korean text: the service, formats people type, file
# columns, the language switch's own name.
PROPER = re.compile(
    r"giftcash|brand_id,code,pin,face_value,funding_source|YYYYMMDD|English|PIN|CSV|"
    r"GC1234|UTF-8|KB|NH|IBK|SC|iM|KDB|MG"
)
EXPECTED = {
    "returned": "redeemed",
    "held": "review",
    "paid": "paid",
    "declined": "declined",
    "stocked": "stocked",
}
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z']+(?:[ ,.:;]+[A-Za-z][A-Za-z']+)+")
READ_ALOUD = re.compile(r'(?:placeholder|aria-label|title|alt)="([^"]*)"')


@pytest.fixture
def missing(monkeypatch: pytest.MonkeyPatch):
    """Every msgid the Korean pages ask for that the catalogue does not have."""
    catalogue = i18n.translations("ko")
    known = catalogue._catalog  # type: ignore[attr-defined]
    asked: list[str] = []
    gettext, ngettext = catalogue.gettext, catalogue.ngettext

    def recording_gettext(message: str) -> str:
        if message and message not in known:
            asked.append(message)
        return gettext(message)

    def recording_ngettext(singular: str, plural: str, n: int) -> str:
        if (singular, 0) not in known:
            asked.append(singular)
        return ngettext(singular, plural, n)

    monkeypatch.setattr(catalogue, "gettext", recording_gettext)
    monkeypatch.setattr(catalogue, "ngettext", recording_ngettext)
    pages.environment.cache_clear()
    yield asked
    pages.environment.cache_clear()


def english_in(page: str) -> list[str]:
    body = page.split("<body", 1)[-1].split(">", 1)[-1]
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    spoken = " | ".join(READ_ALOUD.findall(body))
    text = htmllib.unescape(re.sub(r"<[^>]+>", " | ", body) + " | " + spoken)
    text = PROPER.sub(" ", text)
    return [m.group(0) for m in ENGLISH_RUN.finditer(text)]


def sales_in_every_end_state(site: Site, engine) -> dict[str, str]:
    """Sale pages by end state (the returned one's page as its customer saw it)."""
    d = site.deps
    d.limits = replace(d.limits, backoff_base_s=0.0, backoff_cap_s=0.0)  # type: ignore[attr-defined]
    accounts: list[str] = []

    def sell(code: str, face: int = 10_000, brand: str = "cultureland") -> str:
        r = site.post(
            "/sell",
            {
                "bank_account_id": accounts[-1],
                "brand_id": brand,
                "face_value": str(face),
                "funding_source": "cash",
                "mode": "paste",
                "paste": code,
            },
        )
        assert r.status_code == 303, r.text
        return r.headers["location"]

    # one customer's sale the bank returns (the only payout there is, as the helper needs)
    site.sign_up(phone="010-3333-4444")
    accounts.append(site.add_account(number="99998888777766"))
    site.issuer.sell("cultureland", RETURNED, 10_000)
    urls = {"returned": sell(RETURNED)}
    bounce_the_payout(d, site.bank, engine)
    returned_page = site.client.get(urls["returned"]).text
    site.post("/signout", {})
    # another's first sale, of vouchers bought minutes ago for a large amount: review
    site.sign_up(phone="010-5555-6666")
    accounts.append(site.add_account(number="77776666555544"))
    minutes_ago = datetime.now(UTC) - timedelta(minutes=5)
    site.issuer.sell("cultureland", HELD, 200_000, purchased_at=minutes_ago)
    held = sell(HELD, 200_000)
    Worker(d).drain(20)
    urls["held"] = site.client.get(held).text
    site.post("/signout", {})
    # a third's paid and declined sales
    site.sign_up()
    accounts.append(site.add_account())
    site.issuer.sell("cultureland", PAID, 10_000)
    urls["paid"] = sell(PAID)
    Worker(d).drain(20)
    urls["declined"] = sell(UNKNOWN)
    Worker(d).drain(20)
    # a resold voucher, verified and stocked, its payout held by its brand for a day
    d.brand_catalogue = tuple(  # type: ignore[attr-defined]
        replace(b, resell_hold_s=86_400) if b.id == "kyobo_gift" else b
        for b in d.brand_catalogue  # type: ignore[attr-defined]
    )
    site.issuer.sell("kyobo", STOCKED, 10_000)
    urls["stocked"] = sell(STOCKED, brand="kyobo_gift")
    Worker(d).drain(20)
    urls["returned"] = returned_page
    return urls


def test_every_customer_page_in_korean_has_no_english_sentence(site: Site, engine, missing):
    site.client.cookies.set("gc_lang", "ko")
    signed_out = ["/", "/quote", "/signup", "/signin", "/buy"]
    seen = {path: site.client.get(path).text for path in signed_out}
    seen["verify_phone"] = site.post(
        "/signup",
        {"name": "김민지", "phone": "010-7777-8888", "birth_date": "1990-01-02"}
        | {"password": "a long enough password"}
        | {"consent_terms": "on", "consent_privacy_collection": "on"},
    ).text
    urls = sales_in_every_end_state(site, engine)
    for state, url in urls.items():
        seen[state] = url if url.startswith("<") else site.client.get(url).text
        statuses = re.findall(r'data-status="(\w+)"', seen[state])
        assert statuses == [EXPECTED[state]], (state, statuses)
    assert "확인 완료 · 입금 대기" in seen["stocked"]  # verified, not redeemed; paid later
    for path in ["/sell", "/accounts", "/history", "/buy/orders"]:
        seen[path] = site.client.get(path).text
    receipts = re.findall(r'href="(/payouts/[^"]+)"', seen["/history"])
    assert receipts, "a paid sale has a receipt"
    seen["receipt"] = site.client.get(receipts[0]).text
    found = {name: english_in(page) for name, page in seen.items()}
    found = {name: runs for name, runs in found.items() if runs}
    assert not missing, "asked for but not in the catalogue:\n" + "\n".join(sorted(set(missing)))
    assert not found, "English on the Korean site:\n" + "\n".join(
        f"{name}: {runs[:8]}" for name, runs in found.items()
    )


def test_one_date_format_per_language():
    moment = datetime(2026, 12, 4, 8, 30, tzinfo=UTC)  # 17:30 in Seoul
    ko, en = i18n.Formats("ko"), i18n.Formats("en")
    assert ko.date(moment) == "2026년 12월 4일"
    assert ko.datetime(moment).startswith(ko.date(moment) + " ")
    assert en.date(moment) == "December 4, 2026"
    assert en.datetime(moment) == "December 4, 2026, 5:30\u202fPM"
    assert ko.datetime(moment) == "2026년 12월 4일 오후 5:30"


def test_the_detector_finds_english_where_there_is_some(site: Site):
    site.client.cookies.set("gc_lang", "en")
    assert len(english_in(site.client.get("/signup").text)) > 5
