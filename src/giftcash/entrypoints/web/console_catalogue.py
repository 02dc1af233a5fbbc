"""Brands (rate, on/off, exposure cap) and issuers (the kill switch, exposure cap): admin
only. Each form sends what it shows; only the fields that differ from what is bought now
go to ``catalogue/overrides.py`` (audited there, with the values before)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from starlette.responses import Response

from giftcash.catalogue import live as catalogue
from giftcash.catalogue import overrides
from giftcash.domain.brands import MAX_RESELL_HOLD_S, Disposition
from giftcash.domain.resale import BPS, InvalidResalePricing
from giftcash.entrypoints.web import form_tokens
from giftcash.entrypoints.web.console_pages import (
    OPERATOR,
    allow,
    console_errors,
    render_console,
    router,
)
from giftcash.entrypoints.web.pages import field, redirect
from giftcash.entrypoints.web.security import deps_of
from giftcash.service import errors
from giftcash.service.deps import Deps

brands = router()


def parse_rate_bps(text: str) -> int | None:
    """A percentage of face value ("90", "90.5") as basis points; empty: the default."""
    text = text.strip().removesuffix("%").strip()
    if not text:
        return None
    try:
        bps = Decimal(text) * 100
    except InvalidOperation:
        bps = Decimal(-1)
    if bps != bps.to_integral_value() or not 1 <= bps <= 10_000:
        raise errors.InvalidInput("a rate is 0.01 to 100 percent", field="buyback_rate_bps")
    return int(bps)


def rate_text(bps: int) -> str:
    """Basis points as the percentage the form shows: 9000 -> "90", 9050 -> "90.5"."""
    whole, rest = divmod(bps, 100)
    return str(whole) if rest == 0 else f"{whole}.{rest:02d}".rstrip("0")


def parse_cap(text: str) -> int | None:
    """A whole amount ("5,000,000"); empty: no cap of its own."""
    digits = text.strip().replace(",", "").replace(" ", "")
    if not digits:
        return None
    if not digits.isascii() or not digits.isdigit() or len(digits) > 15:
        raise errors.InvalidInput("a cap is a whole amount", field="exposure_cap")
    return int(digits)


MAX_HOLD_H = MAX_RESELL_HOLD_S // 3600


def parse_hold_h(text: str) -> int | None:
    """A resale payout hold in whole hours ("48") as seconds; empty: the default."""
    digits = text.strip().removesuffix("h").strip()
    if not digits:
        return None
    if not digits.isascii() or not digits.isdigit() or int(digits) > MAX_HOLD_H:
        raise errors.InvalidInput("a resale hold is 0 to 720 hours", field="resell_hold_s")
    return int(digits) * 3600


PRICE_BANDS = 3  # the console's rows of bands; the API takes up to 20


def _whole_days(text: str, what: str) -> int:
    digits = text.strip().removesuffix("일").removesuffix("days").strip()
    if not digits.isascii() or not digits.isdigit() or len(digits) > 5:
        raise InvalidResalePricing(f"{what} is a whole number of days", field=what)
    return int(digits)


def _discount_bps(text: str) -> int:
    """A discount off face value in percent ("5", "7.5") as basis points, 0 to under 100."""
    text = text.strip().removesuffix("%").strip()
    try:
        bps = Decimal(text) * 100
    except InvalidOperation:
        bps = Decimal(-1)
    if bps != bps.to_integral_value() or not 0 <= bps < BPS:
        raise InvalidResalePricing("a discount is 0 to under 100 percent", field="discount_bps")
    return int(bps)


def parse_pricing_form(request: Request) -> dict[str, Any] | None:
    """The resale prices form as the wire form ``parse_pricing`` checks: the least days
    left and up to three bands of (from days left, discount %), in any order (sorted here,
    longest first). Everything empty: the brand's default."""
    least = field(request, "min_days_left", 8).strip()
    bands: list[tuple[int, int]] = []
    for n in range(1, PRICE_BANDS + 1):
        days, pct = field(request, f"band_days_{n}", 8), field(request, f"band_pct_{n}", 8)
        if not days.strip() and not pct.strip():
            continue
        if not days.strip() or not pct.strip():
            raise InvalidResalePricing(
                "each band has its days left and its discount", field="bands"
            )
        bands.append((_whole_days(days, "bands"), _discount_bps(pct)))
    if not least and not bands:
        return None
    if not bands:
        raise InvalidResalePricing("give at least one band", field="bands")
    bands.sort(reverse=True)
    return {
        "min_days_left": _whole_days(least, "min_days_left"),
        "bands": [{"min_days_left": d, "discount_bps": b} for d, b in bands],
    }


def band_rows(s: overrides.BrandSetting) -> list[tuple[str, str]]:
    """The form's band rows for a resold brand: its bands longest first, then empty rows."""
    pricing = s.brand.resale_pricing
    shown = [] if pricing is None else list(reversed(pricing.bands))[:PRICE_BANDS]
    rows = [(str(b.min_days_left), rate_text(b.discount_bps)) for b in shown]
    return rows + [("", "")] * (PRICE_BANDS - len(rows))


@brands.get("/brands")
@console_errors
def brands_page(request: Request) -> Response:
    allow(request, "brands")
    deps = deps_of(request)
    live = catalogue.live_catalogue(deps)
    context = {
        "brands": overrides.list_brands(deps),
        "own": live.brands,  # each brand's own on/off, whatever its issuer's switch says
        "issuers": overrides.list_issuers(deps),
        "saved": request.query_params.get("saved", "")[:80],
        "rate_text": rate_text,
        "band_rows": band_rows,
        "RESELL": Disposition.RESELL,
    }
    return render_console(request, "console/brands.html", context)


def _brand_changes(request: Request, brand_id: str) -> dict[str, Any]:
    deps = deps_of(request)
    live = catalogue.live_catalogue(deps)
    now = live.brands.get(brand_id)
    if now is None:
        return {"buyback_rate_bps": None}  # the service answers brand_not_found, audited
    default = next(b for b in deps.brand_catalogue if b.id == brand_id)
    rate = parse_rate_bps(field(request, "rate", 12))
    enabled = field(request, "enabled", 8) == "on"
    cap = parse_cap(field(request, "exposure_cap", 24))
    hold_s = parse_hold_h(field(request, "resell_hold_h", 8))
    changes: dict[str, Any] = {}
    wanted = field(request, "disposition", 8)
    if wanted in {d.value for d in Disposition} and wanted != now.disposition.value:
        # the catalogue's own disposition is stored as no override at all
        changes["disposition"] = None if wanted == default.disposition.value else wanted
    resold = now.disposition is Disposition.RESELL
    if resold and (default.resell_hold_s if hold_s is None else hold_s) != now.resell_hold_s:
        changes["resell_hold_s"] = hold_s
    if (rate or default.buyback_rate_bps) != now.buyback_rate_bps:
        changes["buyback_rate_bps"] = rate
    if enabled != now.enabled:
        changes["enabled"] = enabled
    if cap != live.brand_exposure_caps.get(brand_id):
        changes["exposure_cap"] = cap
    return changes


@brands.post("/brands/{brand_id}")
@console_errors
def update_brand(request: Request, brand_id: str) -> Response:
    op = allow(request, "brands")
    brand_id = brand_id[:64]
    changes = _brand_changes(request, brand_id)

    def work(deps: Deps) -> dict[str, str]:
        if changes:
            overrides.patch_brand(deps, op, brand_id, changes)
        saved = f"brand:{brand_id}" if changes else "unchanged"
        return {"location": "/admin/brands?" + urlencode({"saved": saved})}

    answer = form_tokens.run(request, OPERATOR, f"operator:{op.id}", work)
    return redirect(request, answer["location"])


@brands.post("/brands/{brand_id}/resale-pricing")
@console_errors
def update_resale_pricing(request: Request, brand_id: str) -> Response:
    """A resold brand's prices for buyers (audited with the value before, like every
    brand change); empty fields restore the catalogue's default."""
    op = allow(request, "brands")
    brand_id = brand_id[:64]
    pricing = parse_pricing_form(request)

    def work(deps: Deps) -> dict[str, str]:
        overrides.patch_brand(deps, op, brand_id, {"resale_pricing": pricing})
        return {"location": "/admin/brands?" + urlencode({"saved": f"prices:{brand_id}"})}

    answer = form_tokens.run(request, OPERATOR, f"operator:{op.id}", work)
    return redirect(request, answer["location"])


@brands.post("/issuers/{issuer}")
@console_errors
def update_issuer(request: Request, issuer: str) -> Response:
    op = allow(request, "brands")
    issuer = issuer[:64]
    changes: dict[str, Any] = {}
    switch = field(request, "switch", 8)
    if switch in ("stop", "resume"):
        if switch == "stop" and field(request, "confirm", 8) != "yes":
            raise errors.InvalidInput("confirm stopping an issuer", field="confirm")
        changes["enabled"] = switch == "resume"
    else:
        changes["exposure_cap"] = parse_cap(field(request, "exposure_cap", 24))

    def work(deps: Deps) -> dict[str, str]:
        overrides.patch_issuer(deps, op, issuer, changes)
        return {"location": "/admin/brands?" + urlencode({"saved": f"issuer:{issuer}"})}

    answer = form_tokens.run(request, OPERATOR, f"operator:{op.id}", work)
    return redirect(request, answer["location"])
