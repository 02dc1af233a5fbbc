"""Tried as a new user would: vouchers the issuer does not know, has seen used, or says
have expired, sold on the Korean site, are declined at the issuer's inquiry with the
registry's Korean text and their lawful routes, and in English on the English site; no
internal note of the service reaches the page. (SQLite, and PostgreSQL when
GIFTCASH_TEST_POSTGRES_URL is set.)"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from websupport import Site

from giftcash.domain import declines as dc
from giftcash.entrypoints.web.i18n import Tr
from giftcash.entrypoints.worker import Worker

UNKNOWN, USED, EXPIRED = "4180000000000021", "4180000000000022", "4180000000000023"
ANSWERS = {UNKNOWN: dc.VOUCHER_NOT_FOUND, USED: dc.VOUCHER_USED, EXPIRED: dc.VOUCHER_EXPIRED}


def sell_three(site: Site) -> str:
    site.sign_up()
    account_id = site.add_account()
    now = datetime.now(UTC)
    site.issuer.sell("cultureland", USED, 10_000, purchased_at=now - timedelta(days=40))
    site.issuer.vouchers[USED].spent_by = "spent-at-a-shop"
    site.issuer.sell(
        "cultureland",
        EXPIRED,
        10_000,
        purchased_at=now - timedelta(days=400),
        expires_at=now - timedelta(days=35),
    )
    r = site.post(
        "/sell",
        {
            "bank_account_id": account_id,
            "brand_id": "cultureland",
            "face_value": "10000",
            "funding_source": "cash",
            "mode": "paste",
            "paste": "\n".join([UNKNOWN, USED, EXPIRED]),
        },
    )
    assert r.status_code == 303, r.text
    Worker(site.deps).drain(20)
    assert site.issuer.redemptions == {}  # declined at the inquiry: nothing captured
    return r.headers["location"]


def item_blocks(page: str) -> dict[str, str]:
    """Each item's part of the page, by the masked code's last four digits."""
    blocks = re.split(r"(?=<li[^>]*data-status=)", page)[1:]
    out = {}
    for code in ANSWERS:
        (block,) = [b for b in blocks if f"*{code[-4:]}<" in b]
        out[code] = block
    return out


def test_inquiry_declines_are_explained_with_their_routes_in_the_page_s_language(site: Site):
    url = sell_three(site)
    ko = site.client.get(url).text
    assert '<html lang="ko">' in ko and ko.count('data-status="declined"') == 3
    for code, block in item_blocks(ko).items():
        entry = ANSWERS[code]
        assert Tr("ko")(entry.text) in block and entry.text not in block, entry.code
        assert "합법적으로 돈을 돌려받는 방법" in block, entry.code
    blocks = item_blocks(ko)
    assert "결제 취소" in blocks[UNKNOWN] and "7일 이내 청약철회" in blocks[UNKNOWN]
    assert "유효기간 경과 후 발행사 환불" in blocks[EXPIRED]
    assert "지금 giftcash에 판매" not in ko  # selling here is no route for any of them

    site.post("/lang", {"lang": "en", "next": url})
    en = site.client.get(url).text
    assert '<html lang="en">' in en and en.count('data-status="declined"') == 3
    for code, block in item_blocks(en).items():
        entry = ANSWERS[code]
        assert entry.text in block and Tr("ko")(entry.text) not in block, entry.code
        assert "Lawful ways to get your money back" in block, entry.code
    assert "Issuer's refund after expiry" in item_blocks(en)[EXPIRED]

    for page in (ko, en):
        assert "rounded down" not in page and "inquiry answer" not in page  # internal notes
        assert not any(code in page for code in ANSWERS)  # codes never in full
