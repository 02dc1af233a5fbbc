"""The customer's scan page (/sell/scan): screenshots in, what was read out (brand, masked
code, product and expiry or who tells them), and a paste-ready list per brand to carry to
the sell form; the same refusals as the API in the page's language; one-use form tokens."""

from __future__ import annotations

import logging
import random
import re
import shutil
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from PIL import Image
from test_form_tokens import form_token
from websupport import Site

from couponimages import PDF, coupon, png
from giftcash.domain.brands import find_brand
from giftcash.domain.coupons import KST
from giftcash.intake import scans
from giftcash.simulators.issuer import issue_code

RNG = random.Random(16)


def pictures(*images: bytes) -> list:
    return [("images", (f"coupon{i}.png", data, "image/png")) for i, data in enumerate(images)]


def scanned(brand_id: str, symbology: str) -> tuple[str, bytes]:
    brand = find_brand(brand_id)
    code = issue_code(brand.code_format, RNG)
    return code, png(coupon(code, symbology, brand))


def carry_lists(html: str) -> dict[str, str]:
    found = re.findall(r'data-brand="([^"]+)"[^>]*>([^<]*)</textarea>', html)
    return {brand: text for brand, text in found}


def test_screenshots_answer_brand_masked_code_and_a_list_to_paste(site: Site, caplog):
    site.sign_up()
    chicken, chicken_png = scanned("kyochon_coupon", "QRCode")
    other, other_png = scanned("kyochon_coupon", "Code128")
    token = form_token(site, "/sell/scan")
    with caplog.at_level(logging.DEBUG):
        r = site.post("/sell/scan", {"form_token": token}, files=pictures(chicken_png, other_png))
    assert r.status_code == 200, r.text
    assert "교촌치킨" in r.text  # Korean by default
    if shutil.which("tesseract"):  # the picture's print read: product and expiry shown
        assert "허니콤보" in r.text and "2026년 3월 31일" in r.text
    else:  # no OCR here: the issuer tells them at sale
        assert "판매 시 발행사 확인" in r.text
    assert chicken[-4:] in r.text and other[-4:] in r.text  # masked in the rows
    assert carry_lists(r.text) == {"kyochon_coupon": f"{chicken}\n{other}"}
    assert r.text.count(chicken) == 1  # whole only in the list the customer copies
    assert chicken not in caplog.text and other not in caplog.text


def test_a_pdf_named_png_is_refused_in_the_pages_language(site: Site):
    site.sign_up()
    r = site.post("/sell/scan", {"form_token": form_token(site, "/sell/scan")}, files=pictures(PDF))
    assert r.status_code == 415
    assert "이 파일은 PNG, JPEG, WebP 사진이 아닙니다." in r.text
    assert 'id="carry"' not in r.text


def test_more_pictures_than_a_scan_takes_are_refused_in_the_pages_language(site: Site):
    site.sign_up()
    _, one = scanned("kyochon_coupon", "QRCode")
    token = form_token(site, "/sell/scan")
    r = site.post("/sell/scan", {"form_token": token}, files=pictures(*[one] * 6))
    assert r.status_code == 422 and "사진은 한 번에 5장까지 보낼 수 있습니다." in r.text


@pytest.mark.slow  # decodes a picture over 1 MiB: about 10 s
def test_a_picture_over_a_mebibyte_is_read_past_the_pages_body_limit(site: Site):
    site.sign_up()
    code, _ = scanned("kyochon_coupon", "QRCode")
    page = Image.new("RGB", (1800, 1280), "white")
    page.paste(coupon(code, "QRCode", find_brand("kyochon_coupon")), (0, 0))
    noise = random.Random(3).randbytes(1080 * 1280)  # incompressible: the file > 1 MiB
    page.paste(Image.frombytes("L", (1080, 1280), noise), (720, 0))
    data = png(page)
    assert len(data) > 1 << 20
    r = site.post(
        "/sell/scan", {"form_token": form_token(site, "/sell/scan")}, files=pictures(data)
    )
    assert r.status_code == 200, r.text[:300]
    assert carry_lists(r.text) == {"kyochon_coupon": code}


def test_the_same_token_with_other_pictures_is_refused(site: Site):
    site.sign_up()
    _, first = scanned("kyochon_coupon", "QRCode")
    _, second = scanned("kyochon_coupon", "QRCode")
    token = form_token(site, "/sell/scan")
    assert site.post("/sell/scan", {"form_token": token}, files=pictures(first)).status_code == 200
    again = site.post("/sell/scan", {"form_token": token}, files=pictures(first))
    assert again.status_code == 200  # a resent form reads the same again
    changed = site.post("/sell/scan", {"form_token": token}, files=pictures(second))
    assert changed.status_code == 409 and 'id="carry"' not in changed.text


def test_the_scan_page_needs_a_signed_in_customer(site: Site):
    r = site.client.get("/sell/scan", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/signin")


class _Printed:
    """A reader that answers one Kyochon code and the text its picture prints."""

    def __init__(self, text: str) -> None:
        self.printed = text

    def read(self, image: bytes, limits):
        return [scans.Symbol("940141777631", "QRCode")], self.printed


def _read_with(site: Site, printed: str) -> str:
    app = site.client.app
    app.state.adapters = replace(app.state.adapters, barcode_reader=_Printed(printed))
    token = form_token(site, "/sell/scan")
    r = site.post("/sell/scan", {"form_token": token}, files=pictures(b"any picture"))
    assert r.status_code == 200, r.text
    return r.text


def test_a_printed_expiry_under_the_minimum_is_warned_of_before_selling(site: Site):
    site.sign_up()
    today = datetime.now(KST).date()
    soon = _read_with(site, f"허니콤보\n유효기간 {today + timedelta(days=3):%Y.%m.%d}")
    assert "허니콤보" in soon and "유효기간이 얼마 남지 않아" in soon
    later = _read_with(site, f"허니콤보\n유효기간 {today + timedelta(days=60):%Y.%m.%d}")
    assert "유효기간이 얼마 남지 않아" not in later


def test_the_sell_page_leads_to_the_scan_page(site: Site):
    site.sign_up()
    site.add_account()
    sell = site.client.get("/sell")
    assert 'href="/sell/scan"' in sell.text
    assert "사진에서 코드를 읽어 보세요" in sell.text  # the way there, in Korean
    assert site.client.get("/sell/scan").status_code == 200
