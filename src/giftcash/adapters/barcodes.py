"""The barcode reader: Pillow opens the image in memory, zxing-cpp decodes the barcodes.

The vendors' quirks stay here: Pillow's decompression-bomb warning and its many
exception types become the scan errors of ``intake.scans``; zxing's result objects
become ``Symbol`` records. The type is sniffed from the first bytes and Pillow is told to
open only that format, so a PDF named ``coupon.png`` is refused, not guessed at. The
header's size is checked against the pixel limit before a single pixel is decoded.
"""

from __future__ import annotations

import io
import warnings
from typing import Protocol

import zxingcpp
from PIL import Image, UnidentifiedImageError

from giftcash.intake.scans import (
    ImageCorrupt,
    ImageTooManyPixels,
    ImageTypeUnsupported,
    ScanLimits,
    Symbol,
)

# The symbologies of Korean mobile coupons and vouchers, and no others: fewer formats,
# fewer false reads.
FORMATS = (
    zxingcpp.BarcodeFormat.Code128,
    zxingcpp.BarcodeFormat.EAN13,
    zxingcpp.BarcodeFormat.QRCode,
    zxingcpp.BarcodeFormat.PDF417,
    zxingcpp.BarcodeFormat.DataMatrix,
)
_SYMBOLOGY = {
    zxingcpp.BarcodeFormat.Code128: "Code128",
    zxingcpp.BarcodeFormat.EAN13: "EAN13",
    zxingcpp.BarcodeFormat.QRCode: "QRCode",
    zxingcpp.BarcodeFormat.PDF417: "PDF417",
    zxingcpp.BarcodeFormat.DataMatrix: "DataMatrix",
}


def sniff(data: bytes) -> str:
    """The Pillow format name from the magic bytes, or raise ``ImageTypeUnsupported``."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    what = "a PDF" if data.startswith(b"%PDF") else "not a PNG, JPEG or WebP image"
    raise ImageTypeUnsupported(f"this file is {what}; send a screenshot or a photo")


def open_grey(data: bytes, limits: ScanLimits) -> Image.Image:
    """The image decoded to 8-bit grey, after its header passed the pixel limit."""
    kind = sniff(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[kind])
            width, height = image.size
            if width * height > limits.max_pixels:
                raise ImageTooManyPixels(
                    f"the image has {width * height:,} pixels; at most {limits.max_pixels:,}",
                    limit=limits.max_pixels,
                )
            if kind == "JPEG":
                image.draft("L", image.size)  # decode straight to grey: a third of the memory
            grey = image.convert("L")  # decodes; a truncated or broken file fails here
            image.close()
            return grey
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageTooManyPixels("the image would unpack into too many pixels") from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as e:
        raise ImageCorrupt("the image is damaged or incomplete and cannot be read") from e


# zxing's PDF417 detector misses a symbol tilted by about 10 degrees (a photo held at a
# slant); when nothing is found, the picture is turned back by these angles and read
# again, at most this many more passes, and only for a picture that gave nothing.
_RETRY_ANGLES = (-10, 10, -5, 5, -15, 15)


def _decode(grey: Image.Image) -> list[zxingcpp.Barcode]:
    # only symbols whose own checks (check digits, error correction) passed
    return [r for r in zxingcpp.read_barcodes(grey, formats=FORMATS) if r.valid]


class PrintedText(Protocol):
    def text(self, grey: Image.Image) -> str | None: ...


class ZxingReader:
    """``intake.scans.BarcodeReader`` with zxing-cpp; with ``ocr`` (``adapters.ocr``), the
    printed text of a picture that gave a code (the expiry is read from it), else None."""

    def __init__(self, ocr: PrintedText | None = None) -> None:
        self.ocr = ocr

    def read(self, image: bytes, limits: ScanLimits) -> tuple[list[Symbol], str | None]:
        grey = open_grey(image, limits)
        try:
            found = _decode(grey)
            for angle in _RETRY_ANGLES:
                if found:
                    break
                turned = grey.rotate(angle, expand=True, fillcolor=255)
                try:
                    found = _decode(turned)
                finally:
                    turned.close()
            printed = self.ocr.text(grey) if self.ocr is not None and found else None
        finally:
            grey.close()
        symbols = [
            Symbol(r.text, _SYMBOLOGY.get(r.format, str(r.format))) for r in found if r.valid
        ]
        return symbols, printed
