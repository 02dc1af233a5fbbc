"""Codes read from pictures, at the service with the real reader (Pillow + zxing-cpp):
clean screenshots decode at >= 99%, distorted photos at >= 90% over a seeded sample, a
misread never fits the brand it came from, hostile files are refused with their codes,
and memory stays bounded."""

from __future__ import annotations

import random
import secrets
import tracemalloc

import pytest

from couponimages import (
    PDF,
    blank_png,
    coupon,
    png,
    png_bomb,
    random_distortion,
    symbology_for,
    truncated,
)
from giftcash.adapters.barcodes import ZxingReader
from giftcash.domain.brands import CATALOGUE, Brand
from giftcash.intake import scans
from giftcash.simulators.issuer import issue_code

READER = ZxingReader()
# Brands whose codes a scan meets: every brand without a separate PIN (a PIN is typed).
SCANNABLE = [b for b in CATALOGUE if b.code_format.pin_length is None]


def sample(n: int, seed: int) -> list[tuple[Brand, str, str, random.Random]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        brand = rng.choice(SCANNABLE)
        code = issue_code(brand.code_format, rng)  # type: ignore[arg-type]
        out.append((brand, code, symbology_for(brand, rng), rng))
    return out


def read(data: bytes) -> scans.ScannedImage:
    return scans.scan([data], CATALOGUE, READER)[0]


def rates(n: int, seed: int, distorted: bool) -> tuple[float, int]:
    """(share decoded to exactly the sold code, misreads that fit the sold code's brand)."""
    good = wrong_accepted = 0
    for brand, code, symbology, rng in sample(n, seed):
        img = coupon(code, symbology, brand)
        data = random_distortion(rng).apply(img) if distorted else png(img)
        try:
            result = read(data)
        except scans.NoBarcodeFound:
            continue
        texts = [c.detection.code for c in result.codes]
        if code in texts:
            good += 1
        for c in result.codes:
            if c.detection.code != code and brand.id in c.detection.candidates:
                wrong_accepted += 1  # a misread that the format check would let through
    return good / n, wrong_accepted


def test_clean_screenshots_decode_at_99_percent_and_nothing_wrong_fits() -> None:
    rate, wrong = rates(30, seed=16, distorted=False)
    assert rate >= 0.99 and wrong == 0, (rate, wrong)


@pytest.mark.slow  # decodes a hundred photos: over 2 s
def test_distorted_photos_decode_at_90_percent_and_nothing_wrong_fits() -> None:
    rate, wrong = rates(30, seed=1616, distorted=True)
    assert rate >= 0.90 and wrong == 0, (rate, wrong)


@pytest.mark.slow
def test_a_larger_seeded_run_holds_the_same_rates() -> None:
    clean, wrong_clean = rates(300, seed=7, distorted=False)
    photo, wrong_photo = rates(300, seed=77, distorted=True)
    print(
        f"decoded: clean {clean:.1%}, distorted {photo:.1%}; wrong fits {wrong_clean + wrong_photo}"
    )
    assert clean >= 0.99 and photo >= 0.90 and wrong_clean == wrong_photo == 0, (clean, photo)


def test_a_scanned_code_is_detected_with_its_brand() -> None:
    brand = next(b for b in CATALOGUE if b.id == "baskin_robbins_coupon")
    code = issue_code(brand.code_format, secrets.SystemRandom())
    (found,) = read(png(coupon(code, "Code128", brand))).codes
    assert found.detection.brand_id == brand.id and found.symbology == "Code128"
    assert found.detection.masked_code.endswith(code[-4:])


# -- hostile files -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (png_bomb, scans.ImageTooManyPixels),
        (
            lambda: truncated(png(coupon("910112345678", "Code128", SCANNABLE[0]))),
            scans.ImageCorrupt,
        ),
        (lambda: b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(4000), scans.ImageCorrupt),
        (lambda: PDF, scans.ImageTypeUnsupported),  # a PDF, whatever its name
        (lambda: b"GIF89a" + bytes(100), scans.ImageTypeUnsupported),
        (
            lambda: b"\x89PNG\r\n\x1a\n" + bytes(scans.ScanLimits().max_image_bytes),
            scans.ImageTooLarge,
        ),
        (blank_png, scans.NoBarcodeFound),
    ],
    ids=["bomb", "truncated", "garbage", "pdf", "gif", "oversize", "no-barcode"],
)
def test_hostile_images_are_refused_with_their_codes(make, error) -> None:
    with pytest.raises(error) as caught:
        read(make())
    assert caught.value.context["image"] == 0 and caught.value.code in {
        e.code for e in scans.SCAN_ERRORS
    }


def test_the_bomb_is_refused_from_its_header_without_unpacking() -> None:
    bomb = png_bomb()
    assert len(bomb) < 200_000  # 400 MB of pixels when unpacked
    tracemalloc.start()
    with pytest.raises(scans.ImageTooManyPixels):
        read(bomb)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 4 * len(bomb) + (1 << 20), peak


def test_one_bad_picture_among_good_ones_is_named_not_fatal() -> None:
    brand = SCANNABLE[-1]
    code = issue_code(brand.code_format, secrets.SystemRandom())
    good = png(coupon(code, "QRCode", brand))
    results = scans.scan([PDF, good], CATALOGUE, READER)
    assert results[0].error is not None and results[0].error.code == "image_type_unsupported"
    assert [c.detection.code for c in results[1].codes] == [code]
    with pytest.raises(scans.TooManyImages):
        scans.scan([good] * 6, CATALOGUE, READER)


def test_memory_per_picture_is_bounded() -> None:
    """Python-side peak per 720 x 1280 screenshot: the file and little else (Pillow's and
    zxing's pixel buffers live outside tracemalloc; the pixel limit bounds those)."""
    brand = SCANNABLE[0]
    data = png(coupon(issue_code(brand.code_format, secrets.SystemRandom()), "PDF417", brand))
    read(data)  # warm imports and caches
    tracemalloc.start()
    read(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    pixels = 720 * 1280
    assert peak < 4 * pixels + 2 * len(data), (peak, len(data))  # measured: ~2 bytes a pixel
