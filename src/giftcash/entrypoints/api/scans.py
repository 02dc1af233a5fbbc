"""``POST /v1/scans`` (codes read from pictures) and ``POST /v1/codes/detect`` (the brand
of each line of a paste). Thin: parse, call the service, render.

The multipart body is parsed here rather than by FastAPI's ``UploadFile``: Starlette
spools an upload over 1 MiB to a temporary file, and an image is never to touch a disk.
The body is bounded first (``app.BodyLimit`` gives this path ``ScanLimits.max_body_bytes``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from giftcash.catalogue import live as catalogue
from giftcash.domain import code_detection as cd
from giftcash.domain.brands import Brand
from giftcash.entrypoints.api import schemas_scans as s
from giftcash.entrypoints.api.deps import CustomerDep, DepsDep
from giftcash.intake import scans as svc

router = APIRouter(prefix="/v1")
LIMITS = svc.ScanLimits()


def get_reader(request: Request) -> svc.BarcodeReader:
    """The composition root's reader (``bootstrap.http_adapters``), kept on the app."""
    reader: svc.BarcodeReader = request.app.state.adapters.barcode_reader
    return reader


ReaderDep = Annotated[svc.BarcodeReader, Depends(get_reader)]

_MULTIPART_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["images"],
                "properties": {
                    "images": {
                        "type": "array",
                        "maxItems": LIMITS.max_images,
                        "items": {"type": "string", "format": "binary"},
                        "description": (
                            f"PNG, JPEG or WebP screenshots or photos (by content, not name), "
                            f"at most {LIMITS.max_images} images, {LIMITS.max_image_bytes:,} "
                            f"bytes and {LIMITS.max_pixels:,} pixels each"
                        ),
                    }
                },
            }
        }
    },
}

_ERRORS = ", ".join(f"`{e.code}`" for e in svc.SCAN_ERRORS)


async def read_images_form(request: Request, max_files: int = LIMITS.max_images) -> FormData:
    """The multipart form with its files kept in memory (never spooled to a disk), at most
    ``max_files`` of them (the body limit bounds their bytes); the web's scan page reads
    its form with this too."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise svc.MalformedMultipart("send the images as multipart/form-data, field 'images'")
    parser = MultiPartParser(
        request.headers, request.stream(), max_files=max_files + 1, max_fields=8
    )
    parser.spool_max_size = LIMITS.max_body_bytes  # never rolled over to a file on disk
    try:
        return await parser.parse()
    except MultiPartException as e:
        if "files" in str(e).lower():
            raise svc.TooManyImages(
                f"send at most {LIMITS.max_images} images at once", limit=LIMITS.max_images
            ) from e
        raise svc.MalformedMultipart("the multipart body cannot be read") from e


async def images_of(form: FormData) -> list[bytes]:
    """The bytes of each file in the form's ``images`` field."""
    uploads = [f for f in form.getlist("images") if isinstance(f, UploadFile)]
    return [await f.read() for f in uploads]


async def _images(request: Request) -> list[bytes]:
    form = await read_images_form(request)
    try:
        return await images_of(form)
    finally:
        await form.close()


@router.post(
    "/scans",
    response_model=s.ScanOut,
    tags=["scans"],
    summary="Read voucher and coupon codes from pictures",
    description=(
        "Decodes each barcode (Code 128, EAN-13, QR, PDF417, Data Matrix) in the uploaded "
        "screenshots or photos, finds each code's brand from its format and prefix, and "
        "answers what was read for the customer to confirm before selling. Images are "
        "processed in memory and never stored or logged; nothing is sold or checked with "
        "an issuer. Per image, an `error` names why it could not be read; when no image "
        f"gives a code the request fails with the first image's problem. Problem codes: "
        f"{_ERRORS} (413 for size limits, 415 for a type that is not an image)."
    ),
    openapi_extra={"requestBody": _MULTIPART_BODY},
)
async def create_scan(
    request: Request, customer: CustomerDep, deps: DepsDep, reader: ReaderDep
) -> s.ScanOut:
    images = await _images(request)
    brands = catalogue.current_brands(deps)
    results = await run_in_threadpool(svc.scan, images, brands.values(), reader, LIMITS)
    return s.ScanOut(
        images=[_image(r, brands) for r in results],
        codes_read=sum(len(r.codes) for r in results),
    )


@router.post("/codes/detect", response_model=s.DetectOut, tags=["scans"])
def detect_codes(body: s.DetectIn, customer: CustomerDep, deps: DepsDep) -> s.DetectOut:
    """The brand of each line of a paste that may mix brands; a line more than one brand
    could hold lists its candidates for the customer to choose."""
    brands = catalogue.current_brands(deps)
    found = cd.detect_paste(body.text, brands.values())
    lines = [_detection(d, brands, line=i + 1) for i, d in enumerate(found)]
    by_brand: dict[str, list[int]] = {}
    for ln in lines:
        if ln.brand_id is not None:
            by_brand.setdefault(ln.brand_id, []).append(ln.line)
    undecided = [ln.line for ln in lines if ln.brand_id is None]
    return s.DetectOut(lines=lines, by_brand=by_brand, undecided=undecided)


def _candidate(b: Brand) -> s.CandidateOut:
    return s.CandidateOut(id=b.id, name=b.name, name_ko=b.name_ko, kind=b.kind.value)


def _detection(d: cd.Detection, brands: dict[str, Brand], line: int) -> s.DetectedLine:
    return s.DetectedLine(
        line=line,
        masked_code=d.masked_code,
        outcome=d.outcome.value,
        brand_id=d.brand_id,
        candidates=[_candidate(brands[c]) for c in d.candidates],
    )


def _image(r: svc.ScannedImage, brands: dict[str, Brand]) -> s.ScannedImageOut:
    error = None if r.error is None else s.ScanProblem(code=r.error.code, detail=r.error.message)
    return s.ScannedImageOut(
        index=r.index,
        error=error,
        codes=[
            s.ScannedCodeOut(
                code=c.detection.code,
                masked_code=c.detection.masked_code,
                symbology=c.symbology,
                outcome=c.detection.outcome.value,
                brand_id=c.detection.brand_id,
                candidates=[_candidate(brands[b]) for b in c.detection.candidates],
                product_id=c.product_id,
                expires_on=c.expires_on,
            )
            for c in r.codes
        ],
    )
