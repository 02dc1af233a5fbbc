"""Codes read from pictures, for the signed-in customer: upload screenshots, see what was
read (brand, masked code, product and expiry where the picture gives them), and carry the
codes to the sell form as a paste-ready list per brand (the customer copies a list and
pastes it into the sell form's "Paste a list"; the sell form itself is not touched here).

The same service as ``POST /v1/scans`` (``intake.scans.scan``), with the reader the
composition root put on the app. The form's files are read in memory by the API's own
parser (Starlette's default would spool a file over 1 MiB to disk). The picture is read
before the form's one-use token is spent, so no database transaction waits on decoding;
the token's stored answer holds only a count (codes are never stored in clear), and a
resent form (the same pictures, the same token) is read again, which changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from fastapi import APIRouter, Request
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from giftcash.catalogue import live as catalogue
from giftcash.domain import coupons
from giftcash.domain.brands import Brand, Kind
from giftcash.domain.code_detection import Outcome
from giftcash.domain.coupons import KST
from giftcash.domain.errors import DomainError
from giftcash.entrypoints.api.scans import LIMITS, read_images_form
from giftcash.entrypoints.web import form_tokens, messages
from giftcash.entrypoints.web.i18n import Tr
from giftcash.entrypoints.web.pages import form, render, require, route_class, status_of, tr_of
from giftcash.entrypoints.web.security import CUSTOMER, deps_of
from giftcash.intake import scans as svc
from giftcash.service.deps import Deps


async def _read_form(request: Request) -> FormData:
    # more files than a scan takes are still read (the body limit bounds their bytes), so
    # the form's CSRF token is seen and the page says how many pictures it takes
    return await read_images_form(request, max_files=4 * LIMITS.max_images)


router = APIRouter(route_class=route_class(CUSTOMER, read_form=_read_form), include_in_schema=False)


@dataclass(frozen=True, slots=True)
class CodeView:
    brand: str | None  # the brand's name in the page's language, when exactly one fits
    candidates: tuple[str, ...]  # names, when more than one brand fits
    masked_code: str
    product: str | None  # as the picture prints it (OCR); None: the issuer tells at sale
    expires_on: date | None
    too_soon: bool  # the printed expiry is under the brand's minimum days left


@dataclass(frozen=True, slots=True)
class ImageView:
    number: int  # 1-based, as the customer counts
    error: str | None
    codes: tuple[CodeView, ...]


@dataclass(frozen=True, slots=True)
class CarryList:
    """One brand's codes, one a line: what the customer pastes into the sell form."""

    brand_id: str
    brand: str
    codes: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.codes)


def _page(request: Request, *, status: int = 200, **extra: object) -> Response:
    context: dict[str, object] = {
        "limits": LIMITS,
        "images": [],
        "carry": [],
        "undecided": 0,
        "read": False,
        **extra,
    }
    return render(request, "customer/scan.html", context, status=status)


@router.get("/sell/scan")
def scan_page(request: Request) -> Response:
    require(request)
    return _page(request)


@router.post("/sell/scan")
def scan_upload(request: Request) -> Response:
    customer_id = require(request)
    tr = tr_of(request)
    deps = deps_of(request)
    brands = catalogue.current_brands(deps)
    try:
        images = [f.file.read() for f in _uploads(request)]
        reader: svc.BarcodeReader = request.app.state.adapters.barcode_reader
        results = svc.scan([i for i in images if i], brands.values(), reader, LIMITS)
        count = str(sum(len(r.codes) for r in results))

        def work(_: Deps) -> dict[str, str]:
            return {"codes_read": count}

        form_tokens.run(request, CUSTOMER, customer_id, work)
    except DomainError as e:
        return _page(request, status=status_of(e), error=messages.error_text(tr, e))
    now = deps.clock.now()
    views = [_image_view(tr, r, brands, now) for r in results]
    carry = _carry(tr, results, brands)
    undecided = sum(1 for v in views for c in v.codes if c.brand is None)
    return _page(request, images=views, carry=carry, undecided=undecided, read=True)


def _uploads(request: Request) -> list[UploadFile]:
    return [f for f in form(request).getlist("images") if isinstance(f, UploadFile)]


def _image_view(tr: Tr, r: svc.ScannedImage, brands: dict[str, Brand], now: datetime) -> ImageView:
    error = None if r.error is None else messages.error_text(tr, r.error)
    codes = tuple(
        CodeView(
            brand=tr.brand(brands[d.brand_id]) if d.brand_id else None,
            candidates=tuple(tr.brand(brands[b]) for b in d.candidates)
            if d.outcome is Outcome.AMBIGUOUS
            else (),
            masked_code=d.masked_code,
            product=_product_name(tr, brands, d.brand_id, c.product_id),
            expires_on=c.expires_on,
            too_soon=_too_soon(brands, d.brand_id, c.expires_on, now),
        )
        for c in r.codes
        for d in (c.detection,)
    )
    return ImageView(r.index + 1, error, codes)


def _too_soon(
    brands: dict[str, Brand], brand_id: str | None, expires_on: date | None, now: datetime
) -> bool:
    """A warning only: the issuer's expiry decides at admission (``coupon_near_expiry``)."""
    brand = brands[brand_id] if brand_id else None
    if brand is None or brand.kind is not Kind.PRODUCT or expires_on is None:
        return False
    expires_at = datetime.combine(expires_on, time(), KST)
    return coupons.band_for(brand, coupons.days_left(expires_at, now)) is None


def _product_name(
    tr: Tr, brands: dict[str, Brand], brand_id: str | None, product_id: str | None
) -> str | None:
    """The product the picture names, in the page's language (None: not read)."""
    product = brands[brand_id].product(product_id) if brand_id and product_id else None
    if product is None:
        return None
    return product.name_ko if tr.lang == "ko" else product.name


def _carry(tr: Tr, results: list[svc.ScannedImage], brands: dict[str, Brand]) -> list[CarryList]:
    by_brand: dict[str, list[str]] = {}
    for r in results:
        for c in r.codes:
            if c.detection.brand_id is not None:
                codes = by_brand.setdefault(c.detection.brand_id, [])
                if c.detection.code not in codes:  # one picture twice: the code once
                    codes.append(c.detection.code)
    return [CarryList(b, tr.brand(brands[b]), tuple(codes)) for b, codes in by_brand.items()]
