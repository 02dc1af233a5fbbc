"""Public pages: today's rates (the home page) and the quote calculator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from fastapi import APIRouter, Request
from starlette.responses import Response

from giftcash.catalogue import live as catalogue
from giftcash.domain.advisor import KST
from giftcash.domain.brands import Brand
from giftcash.domain.errors import DomainError
from giftcash.domain.quotes import FundingSource, fee_for
from giftcash.entrypoints.web import messages
from giftcash.entrypoints.web.i18n import N_
from giftcash.entrypoints.web.pages import (
    field,
    is_htmx,
    render,
    route_class,
    status_of,
    tr_of,
)
from giftcash.entrypoints.web.security import CUSTOMER, deps_of
from giftcash.intake import quoting

router = APIRouter(route_class=route_class(CUSTOMER), include_in_schema=False)

EXAMPLE_FACE_VALUE = 100_000  # the price list shows what this much face value pays
MAX_DAYS_TO_BILL = 366
PURCHASE_DATE_ERROR = N_("The date of purchase must be today or earlier.")


def parse_amount(text: str) -> int | None:
    """A whole amount as people type it: ``50000``, ``50,000``, ``50 000``."""
    digits = text.replace(",", "").replace(" ", "").replace("_", "")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 15:
        return None
    return int(digits)


COMMON_FACE_VALUE = 10_000  # what a range brand's face value field starts at, if sold


def first_face_value(brand: Brand) -> int:
    fv = brand.face_values
    if fv.fixed:
        return fv.fixed[0]
    return COMMON_FACE_VALUE if fv.allows(COMMON_FACE_VALUE) else fv.minimum


@dataclass(frozen=True, slots=True)
class RateRow:
    brand: Brand
    payout: int  # for EXAMPLE_FACE_VALUE of face value


@router.get("/")
def home(request: Request) -> Response:
    deps = deps_of(request)
    rates = [
        RateRow(b, EXAMPLE_FACE_VALUE - fee_for(EXAMPLE_FACE_VALUE, b.fee_bps))
        for b in catalogue.current_brands(deps).values()
    ]
    context = {"rates": rates, "example": EXAMPLE_FACE_VALUE, "today": deps.clock.now()}
    return render(request, "customer/home.html", context)


@router.get("/face-values")
def face_values(
    request: Request, brand_id: str = "", purpose: str = "quote", face_value: str = ""
) -> Response:
    """The fields that depend on the brand (face value; in the sell form also the PIN).
    A face value typed meanwhile stays where the new brand can take it."""
    brands = catalogue.current_brands(deps_of(request))
    brand = brands.get(brand_id[:64]) or next(iter(brands.values()))
    typed = parse_amount(face_value[:20])
    keep = typed is not None and (not brand.face_values.fixed or typed in brand.face_values.fixed)
    return render(
        request,
        "customer/_brand_fields.html",
        {
            "brand": brand,
            "purpose": purpose,
            "face_value": typed if keep else first_face_value(brand),
        },
    )


def purchase_moment(text: str, now: datetime) -> datetime | bool | None:
    """A purchase date as the advisor's moment (noon, Korean time: the day is what counts
    for its periods); None when not given, False when not a past or present date."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return False
    moment = datetime.combine(day, time(12), tzinfo=KST)
    return False if day > now.astimezone(KST).date() else min(moment, now)


def _quote_context(request: Request, values: dict[str, str]) -> dict[str, object]:
    deps = deps_of(request)
    brands = catalogue.current_brands(deps)
    brand = brands.get(values["brand_id"]) or next(iter(brands.values()))
    face = parse_amount(values["face_value"]) or first_face_value(brand)
    return {
        "brands": list(brands.values()),
        "brand": brand,
        "face_value": face,
        "values": values,
        "sources": [s.value for s in FundingSource],
        "result": None,
        "today": deps.clock.now().astimezone(KST).date().isoformat(),
    }


@router.get("/quote")
def quote_page(request: Request, brand_id: str = "") -> Response:
    values = {
        "brand_id": brand_id[:64],
        "face_value": "",
        "funding_source": "cash",
        "days": "",
        "purchased_on": "",
    }
    return render(request, "customer/quote.html", _quote_context(request, values))


@router.post("/quote")
def quote(request: Request) -> Response:
    tr = tr_of(request)
    values = {
        "brand_id": field(request, "brand_id", 64),
        "face_value": field(request, "face_value", 20),
        "funding_source": field(request, "funding_source", 32),
        "days": field(request, "days_to_bill", 4),
        "purchased_on": field(request, "purchased_on", 10),
    }
    context = _quote_context(request, values)
    template = "customer/_quote_result.html" if is_htmx(request) else "customer/quote.html"
    face = parse_amount(values["face_value"])
    days = parse_amount(values["days"]) if values["days"] else None
    if face is None or face <= 0:
        context["error"] = tr(messages.ERRORS["invalid_amount"])
        return render(request, template, context, status=422)
    if days is not None and not (1 <= days <= MAX_DAYS_TO_BILL):
        context["error"] = tr("Days until the bill is due: 1 to 366.")
        return render(request, template, context, status=422)
    deps = deps_of(request)
    purchased_at = purchase_moment(values["purchased_on"], deps.clock.now())
    if purchased_at is False:
        context["error"] = tr(PURCHASE_DATE_ERROR)
        return render(request, template, context, status=422)
    try:
        context["result"] = quoting.make_quote(
            deps,
            values["brand_id"],
            face,
            values["funding_source"],
            days,
            purchased_at=purchased_at or None,
        )
    except DomainError as e:
        context["error"] = messages.error_text(tr, e)
        return render(request, template, context, status=status_of(e))
    return render(request, template, context)
