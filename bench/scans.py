"""Codes read from pictures: images decoded per second per core and the peak memory per
image, through ``intake.scans`` (sniffing, limits, Pillow, zxing-cpp, brand detection)
against zxing-cpp decoding the same images directly (Pillow open, grey, read_barcodes):
the ratio is our overhead. One thread, so images/s is per core.

The images are the test suite's coupon screenshots (tests/couponimages.py), half clean
PNG, half photographed-like JPEG, made once before timing.
"""

from __future__ import annotations

import io
import random
import sys
import time
import tracemalloc

from bench.core import ROOT, Result, Scale, best_rates


def _images(n: int) -> list[bytes]:
    sys.path.insert(0, str(ROOT / "tests"))
    from couponimages import coupon, png, random_distortion, symbology_for
    from giftcash.domain.brands import CATALOGUE
    from giftcash.simulators.issuer import issue_code

    rng = random.Random(15_16)
    brands = [b for b in CATALOGUE if b.code_format.pin_length is None]
    out = []
    for i in range(n):
        brand = rng.choice(brands)
        code = issue_code(brand.code_format, rng)  # type: ignore[arg-type]
        img = coupon(code, symbology_for(brand, rng), brand)
        out.append(png(img) if i % 2 else random_distortion(rng).apply(img))
    return out


def run(scale: Scale) -> list[Result]:
    import zxingcpp
    from PIL import Image

    from giftcash.adapters.barcodes import FORMATS, ZxingReader
    from giftcash.domain.brands import CATALOGUE
    from giftcash.intake import scans

    n = 8 if scale.intake_n < 1_000 else 40
    images = _images(n)
    reader = ZxingReader()

    def bare(data: bytes) -> int:
        with Image.open(io.BytesIO(data)) as im, im.convert("L") as grey:
            return len(zxingcpp.read_barcodes(grey, formats=FORMATS))

    def ours(data: bytes) -> int:
        return sum(len(r.codes) for r in scans.scan([data], CATALOGUE, reader))

    def rate(fn) -> tuple[int, float]:
        start = time.perf_counter()
        found = sum(fn(d) for d in images)
        assert found >= len(images) * 0.9, found
        return len(images), time.perf_counter() - start

    best = best_rates(
        max(scale.rounds, 2), {"bare": lambda: rate(bare), "ours": lambda: rate(ours)}
    )

    def peak(fn) -> float:
        worst = 0
        for d in images:
            tracemalloc.start()
            fn(d)
            worst = max(worst, tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
        return worst / 1e6

    bare_mb, ours_mb = peak(bare), peak(ours)
    note = f"{n} coupon screenshots 720x1280, half distorted JPEG; one thread"
    return [
        Result(
            "scans: images decoded per second per core",
            round(best["ours"], 1),
            "images/s",
            round(best["bare"], 1),
            "zxing-cpp direct",
            goal_min=0.8,
            note=note,
        ),
        Result(
            "scans: peak memory per image",
            round(ours_mb, 2),
            "MB (traced)",
            round(bare_mb, 2),
            "zxing-cpp direct",
            goal_max=1.5,
            note="tracemalloc peak of the worst image; the pixel limit bounds it",
        ),
    ]
