"""Coupon-like pictures made in the suite: a code rendered as a barcode by zxing-cpp onto
a phone-screenshot layout with Pillow, then distorted the way photos and re-shared
screenshots are (rotated, scaled, blurred, JPEG-compressed, perspective-warped), and the
hostile files the scan must refuse."""

from __future__ import annotations

import io
import math
import random
import struct
import zlib
from dataclasses import dataclass

import zxingcpp
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from giftcash.domain.brands import Brand

SYMBOLOGIES = ("Code128", "QRCode", "PDF417", "DataMatrix")


def symbology_for(brand: Brand, rng: random.Random) -> str:
    """EAN-13 where the brand's codes carry its check digit; otherwise any of the others."""
    if brand.code_format.checksum == "ean13":
        return "EAN13"
    return rng.choice(SYMBOLOGIES)


def barcode(code: str, symbology: str) -> Image.Image:
    fmt = getattr(zxingcpp.BarcodeFormat, symbology)
    made = zxingcpp.write_barcode_to_image(zxingcpp.create_barcode(code, fmt), scale=1)
    height, width = made.shape
    img = Image.frombuffer("L", (width, height), bytes(made), "raw", "L", 0, 1)
    linear = symbology in ("Code128", "EAN13")
    module = 3 if linear else (6 if symbology != "PDF417" else 4)
    size = (width * module, (140 if linear else height * module))
    return img.resize(size, Image.Resampling.NEAREST)


def coupon(code: str, symbology: str, brand: Brand, expires: str = "2026.03.31") -> Image.Image:
    """A 720 x 1280 mobile-coupon screenshot: header, product, barcode, digits, expiry."""
    page = Image.new("RGB", (720, 1280), "white")
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=34)
    small = ImageFont.load_default(size=26)
    draw.rectangle((0, 0, 720, 150), fill=(0, 112, 74))
    draw.text((40, 50), brand.name[:34], fill="white", font=font)
    draw.rectangle((160, 200, 560, 560), fill=(235, 225, 210))  # the product picture
    face = (brand.face_values.fixed or (brand.face_values.minimum,))[0]
    name = brand.products[0].name if brand.products else f"{face:,} KRW"
    draw.text((40, 600), name[:36], fill="black", font=font)
    mark = barcode(code, symbology)
    if mark.width > 640:
        mark = mark.resize((640, mark.height * 640 // mark.width), Image.Resampling.NEAREST)
    page.paste(mark, ((720 - mark.width) // 2, 680))
    y = 680 + mark.height + 20
    draw.text((40, y), brand.code_format.display(code), fill="black", font=small)
    draw.text((40, y + 50), f"Valid until {expires}", fill="black", font=small)
    return page


def _solve(matrix: list[list[float]], rhs: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (8 x 8: the perspective coefficients)."""
    n = len(rhs)
    a = [[*row[:], r] for row, r in zip(matrix, rhs, strict=True)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        a[col], a[pivot] = a[pivot], a[col]
        for r in range(n):
            if r != col:
                f = a[r][col] / a[col][col]
                a[r] = [x - f * y for x, y in zip(a[r], a[col], strict=True)]
    return [a[i][n] / a[i][i] for i in range(n)]


def _warp(img: Image.Image, angle: float, scale: float, jitter: list[tuple[float, float]]):
    """One perspective transform that rotates by ``angle`` degrees, scales, and moves each
    corner by its jitter (a share of the side): a photo taken at an angle, in one pass."""
    w, h = img.size
    cx, cy = w / 2, h / 2
    rad = math.radians(angle)
    cos, sin = math.cos(rad), math.sin(rad)
    src = [(0, 0), (w, 0), (w, h), (0, h)]
    dst = []
    for (x, y), (jx, jy) in zip(src, jitter, strict=True):
        x, y = x + jx * w, y + jy * h
        dx, dy = (x - cx) * scale, (y - cy) * scale
        dst.append((dx * cos - dy * sin, dx * sin + dy * cos))
    min_x, min_y = min(x for x, _ in dst), min(y for _, y in dst)
    dst = [(x - min_x, y - min_y) for x, y in dst]
    out_w, out_h = int(max(x for x, _ in dst)) + 1, int(max(y for _, y in dst)) + 1
    rows, rhs = [], []
    for (x, y), (u, v) in zip(dst, src, strict=True):  # output point -> source point
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    return img.transform((out_w, out_h), Image.Transform.PERSPECTIVE, _solve(rows, rhs),
                         Image.Resampling.BILINEAR, fillcolor=(205, 205, 205))  # fmt: skip


def jpeg(img: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    img.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


@dataclass(frozen=True)
class Distortion:
    quarter_turns: int
    angle: float
    scale: float
    blur: float
    quality: int
    jitter: tuple[tuple[float, float], ...]

    def apply(self, img: Image.Image) -> bytes:
        for _ in range(self.quarter_turns):
            img = img.transpose(Image.Transpose.ROTATE_90)
        img = _warp(img, self.angle, self.scale, list(self.jitter))
        if self.blur:
            img = img.filter(ImageFilter.GaussianBlur(self.blur))
        return jpeg(img, self.quality)


def random_distortion(rng: random.Random) -> Distortion:
    """Bounded the way a readable photo is: a person photographs the code to be read."""
    warp = rng.uniform(0.0, 0.05)
    return Distortion(
        quarter_turns=rng.randrange(4),
        angle=rng.uniform(-12, 12),
        scale=rng.uniform(0.7, 1.3),
        blur=rng.uniform(0.0, 1.2),
        quality=rng.randint(35, 85),
        jitter=tuple((rng.uniform(-warp, warp), rng.uniform(-warp, warp)) for _ in range(4)),
    )


# -- hostile files ---------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_bomb(side: int = 20_000) -> bytes:
    """A valid 1-bit PNG of side x side white pixels, a few tens of kilobytes: decoded to
    grey it would take side² bytes (400 MB at 20,000)."""
    row = b"\x00" + b"\xff" * ((side + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row * 500) for _ in range(side // 500)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def blank_png() -> bytes:
    return png(Image.new("RGB", (720, 1280), "white"))
