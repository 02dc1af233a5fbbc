"""The expiry a coupon prints, read from its picture's text: Korean and English forms, the
latest real date of a period, OCR noise that is not a date ignored; and Tesseract, where
Debian's package is installed, reads it off a generated coupon (skipped where missing)."""

from __future__ import annotations

import random
import shutil
from datetime import date

import pytest

from couponimages import coupon, png
from giftcash.domain.brands import CATALOGUE, find_brand
from giftcash.domain.printed import printed_expiry, printed_product
from giftcash.intake import scans
from giftcash.simulators.issuer import issue_code


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("유효기간 2026.03.31", date(2026, 3, 31)),
        ("유효기간: 2025.12.01 ~ 2026.03.31", date(2026, 3, 31)),  # a period: its end
        ("2026년 3월 31일까지 사용 가능", date(2026, 3, 31)),
        ("Valid until 2026-3-9", date(2026, 3, 9)),
        ("교환처 스타벅스\n유효기간 2026 . 03 . 31\n주문번호 1234", date(2026, 3, 31)),
        ("2026.02.30", None),  # not a day: OCR noise
        ("9401-4177-7631 20261231999", None),  # digits of a code are not a date
        ("no date here", None),
    ],
)
def test_the_printed_expiry_is_the_latest_real_date(text: str, expected: date | None) -> None:
    assert printed_expiry(text) == expected


def test_the_product_is_the_one_its_brand_names_in_the_print() -> None:
    kyochon = find_brand("kyochon_coupon")
    assert printed_product("교촌치킨\n허 니 콤 보\n9401-0000-0000", kyochon).id == "honey_combo"
    assert printed_product("Honey Combo", kyochon).id == "honey_combo"
    assert printed_product("허니콤보 교촌오리지날", kyochon) is None  # two: the issuer tells
    assert printed_product("아메리카노", kyochon) is None  # another brand's product


class _Printed:
    """A reader that answers a code and the text a picture prints."""

    def __init__(self, text: str | None) -> None:
        self.printed = text

    def read(self, image: bytes, limits: scans.ScanLimits):
        return [scans.Symbol("940141777631", "QRCode")], self.printed


def test_a_scan_shows_the_printed_expiry_and_none_without_text() -> None:
    (read,) = scans.scan([b"x"], CATALOGUE, _Printed("허니콤보\n유효기간 2026.05.22"))
    assert read.codes[0].expires_on == date(2026, 5, 22)
    assert read.codes[0].product_id == "honey_combo"
    (unread,) = scans.scan([b"x"], CATALOGUE, _Printed(None))  # no OCR installed
    assert unread.codes[0].expires_on is None and unread.codes[0].product_id is None


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr is not installed")
def test_tesseract_reads_the_expiry_off_a_coupon_screenshot() -> None:
    from giftcash.adapters.barcodes import ZxingReader
    from giftcash.adapters.ocr import TesseractOcr

    ocr = TesseractOcr.if_installed()
    assert ocr is not None and "kor" in ocr.langs
    brand = find_brand("kyochon_coupon")
    code = issue_code(brand.code_format, random.Random(5))
    data = png(coupon(code, "QRCode", brand, expires="2026.04.21"))
    (read,) = scans.scan([data], CATALOGUE, ZxingReader(ocr=ocr))
    found = [(c.detection.code, c.expires_on, c.product_id) for c in read.codes]
    assert found == [(code, date(2026, 4, 21), "honey_combo")]


def test_without_tesseract_the_reader_is_none(monkeypatch) -> None:
    from giftcash.adapters import ocr

    monkeypatch.setattr(ocr.shutil, "which", lambda name: None)
    assert ocr.TesseractOcr.if_installed() is None
