"""Request and answer shapes of ``/v1/scans`` and ``/v1/codes/detect``."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from giftcash.domain.code_detection import MAX_PASTE_LINES

Outcome = Literal["detected", "ambiguous", "no_match"]


class CandidateOut(BaseModel):
    id: str
    name: str
    name_ko: str
    kind: Literal["amount", "product"]


class ScannedCodeOut(BaseModel):
    code: str = Field(description="the full code, to its owner only; never logged")
    masked_code: str
    symbology: str = Field(description="Code128, EAN13, QRCode, PDF417 or DataMatrix")
    outcome: Outcome
    brand_id: str | None = Field(description="set when exactly one brand fits")
    candidates: list[CandidateOut] = Field(description="every brand whose format fits")
    product_id: str | None = Field(
        default=None,
        description="the product a product coupon's picture names, when read; the issuer's wins",
    )
    expires_on: date | None = Field(
        default=None, description="as printed on the image, when read; the issuer's wins"
    )


class ScanProblem(BaseModel):
    code: str
    detail: str


class ScannedImageOut(BaseModel):
    index: int
    error: ScanProblem | None
    codes: list[ScannedCodeOut]


class ScanOut(BaseModel):
    images: list[ScannedImageOut]
    codes_read: int


class DetectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(
        min_length=1,
        max_length=MAX_PASTE_LINES * 64,
        description="one code per line; a PIN after a comma, tab or slash",
    )


class DetectedLine(BaseModel):
    line: int
    masked_code: str
    outcome: Outcome
    brand_id: str | None
    candidates: list[CandidateOut]


class DetectOut(BaseModel):
    lines: list[DetectedLine]
    by_brand: dict[str, list[int]] = Field(description="brand id → its line numbers")
    undecided: list[int] = Field(description="lines the customer must assign a brand")
