"""Codes read from pictures: the customer's screenshots or photos of mobile coupons and
vouchers, each barcode decoded, its brand found from the number's format and prefix
(``domain.code_detection``), and the expiry read where the image prints it, for the
customer to confirm before selling. Nothing is sold, stored or checked with an issuer
here: the issuer's answer at submission is what counts, and wins over anything read.

Images stay in memory, are never written anywhere and never logged; every limit (bytes,
pixels, images per request, codes per image) is checked before the work it bounds. Each
refusal is an error with its own code (below), mapped to problem+json in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from giftcash.domain import code_detection as cd
from giftcash.domain.brands import Brand
from giftcash.domain.errors import DomainError
from giftcash.domain.printed import printed_expiry, printed_product

# -- the refusals, one code each ---------------------------------------------------------


class ScanError(DomainError):
    """A picture that cannot be read; ``context['image']`` is its 0-based index."""


class TooManyImages(ScanError):
    code = "too_many_images"


class ImageTooLarge(ScanError):
    code = "image_too_large"
    kind = "too_large"


class ImageTooManyPixels(ScanError):
    """More pixels than we decode, or a decompression bomb (a small file that would
    unpack into a huge image): refused from its header, before it is decoded."""

    code = "image_too_many_pixels"
    kind = "too_large"


class ImageTypeUnsupported(ScanError):
    """Not a PNG, JPEG or WebP by its first bytes, whatever its name or declared type."""

    code = "image_type_unsupported"
    kind = "unsupported"


class ImageCorrupt(ScanError):
    code = "image_corrupt"


class NoBarcodeFound(ScanError):
    code = "no_barcode_found"


class NoImages(ScanError):
    code = "no_images"


class MalformedMultipart(ScanError):
    code = "malformed_multipart"


SCAN_ERRORS: tuple[type[ScanError], ...] = (
    TooManyImages,
    ImageTooLarge,
    ImageTooManyPixels,
    ImageTypeUnsupported,
    ImageCorrupt,
    NoBarcodeFound,
    NoImages,
    MalformedMultipart,
)


@dataclass(frozen=True, slots=True)
class ScanLimits:
    max_images: int = 5
    max_image_bytes: int = 4 << 20  # a phone screenshot is well under this
    max_pixels: int = 24_000_000  # a 24-megapixel photo; 4000 x 6000
    max_codes_per_image: int = 8

    @property
    def max_body_bytes(self) -> int:
        return self.max_images * self.max_image_bytes + (64 << 10)  # plus multipart framing


# -- the ports --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Symbol:
    """One barcode as the reader decoded it (``symbology``: "Code128", "QRCode", ...)."""

    text: str
    symbology: str


class BarcodeReader(Protocol):
    def read(self, image: bytes, limits: ScanLimits) -> tuple[list[Symbol], str | None]:
        """The barcodes in one image and its printed text (None without OCR); raises a
        ``ScanError`` for an image it refuses."""
        ...


class ExpiryReader(Protocol):
    def expiry(self, printed_text: str) -> date | None: ...


class PrintedExpiry:
    """The expiry as the picture prints it (``domain.printed_expiry``)."""

    def expiry(self, printed_text: str) -> date | None:
        return printed_expiry(printed_text)


# -- the answer -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScannedCode:
    symbology: str
    detection: cd.Detection
    expires_on: date | None  # as printed on the image, if read; the issuer's answer wins
    product_id: str | None = None  # the product the image names, if read (product coupons)


@dataclass(frozen=True, slots=True)
class ScannedImage:
    index: int
    codes: tuple[ScannedCode, ...]
    error: ScanError | None


def scan(
    images: Sequence[bytes],
    brands: Iterable[Brand],
    reader: BarcodeReader,
    limits: ScanLimits = ScanLimits(),
    expiry_reader: ExpiryReader | None = None,
) -> list[ScannedImage]:
    """Every image read in turn (one in memory at a time). When no image gives a code, the
    first image's refusal is raised, so a one-picture request gets one clear problem."""
    if not images:
        raise NoImages("send at least one image (multipart field 'images')")
    if len(images) > limits.max_images:
        raise TooManyImages(
            f"send at most {limits.max_images} images at once", limit=limits.max_images
        )
    catalogue = tuple(brands)
    results = [_scan_one(i, data, catalogue, reader, limits, expiry_reader) for i, data in
               enumerate(images)]  # fmt: skip
    if all(r.error is not None for r in results):
        first = results[0].error
        assert first is not None
        raise first
    return results


def _scan_one(
    index: int,
    data: bytes,
    brands: tuple[Brand, ...],
    reader: BarcodeReader,
    limits: ScanLimits,
    expiry_reader: ExpiryReader | None,
) -> ScannedImage:
    try:
        if len(data) > limits.max_image_bytes:
            raise ImageTooLarge(
                f"an image may have at most {limits.max_image_bytes:,} bytes",
                limit=limits.max_image_bytes,
            )
        symbols, printed = reader.read(data, limits)
        if not symbols:
            raise NoBarcodeFound(
                "no barcode or QR code was found in this image; send a sharper screenshot "
                "or type the number"
            )
    except ScanError as e:
        e.context["image"] = index
        return ScannedImage(index, (), e)
    expiry = expiry_reader or PrintedExpiry()
    expires_on = expiry.expiry(printed) if printed else None
    by_id = {b.id: b for b in brands}
    seen: dict[str, ScannedCode] = {}
    for s in symbols[: limits.max_codes_per_image]:
        d = cd.detect(s.text, None, brands)
        named = printed_product(printed, by_id[d.brand_id]) if printed and d.brand_id else None
        product_id = named.id if named else None
        seen.setdefault(d.code, ScannedCode(s.symbology, d, expires_on, product_id))  # once
    return ScannedImage(index, tuple(seen.values()), None)
