"""Reports for the people who run the exchange: daily or monthly volume, margin, declines
by code and the average time from submission to payout, per brand or per issuer, as CSV
and as an SVG bar chart; and the exposure per issuer against its cap.

Amounts are integer minor units throughout; the one ratio shown (margin in basis points)
is rounded down, because it describes rather than charges. Periods are calendar days or
months in the time zone asked for (UTC by default), over when an item was received.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from giftcash.catalogue import live as catalogue
from giftcash.service import errors
from giftcash.service.deps import Deps
from giftcash.service.ports.records import RowView

# bought: redeemed at the issuer, or (resale) verified and stocked; then paying or paid
CAPTURED = frozenset({"redeemed", "stocked", "paying", "paid"})
REJECTED = frozenset({"declined", "invalid"})
PERIODS = ("day", "month")
GROUPS = ("brand", "issuer")
MAX_DAYS = 3660  # a bound on one report


@dataclass
class ReportRow:
    period: str  # YYYY-MM-DD or YYYY-MM
    group: str  # a brand id or an issuer
    currency: str
    received: int = 0
    declined: int = 0  # declined or found invalid by the issuer
    captured: int = 0  # redeemed at the issuer or stocked for resale (then paying or paid)
    paid: int = 0
    face_value: int = 0  # of the captured items
    payout: int = 0  # of the captured items
    declines_by_code: dict[str, int] = field(default_factory=dict)
    _payout_seconds: list[float] = field(default_factory=list, repr=False)

    @property
    def margin(self) -> int:
        return self.face_value - self.payout

    @property
    def margin_bps(self) -> int | None:
        # floor: a description, not a charge
        return self.margin * 10_000 // self.face_value if self.face_value else None

    @property
    def avg_seconds_to_payout(self) -> int | None:
        s = self._payout_seconds
        return int(sum(s) // len(s)) if s else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "group": self.group,
            "currency": self.currency,
            "received": self.received,
            "declined": self.declined,
            "captured": self.captured,
            "paid": self.paid,
            "face_value": self.face_value,
            "payout": self.payout,
            "margin": self.margin,
            "margin_bps": self.margin_bps,
            "avg_seconds_to_payout": self.avg_seconds_to_payout,
            "declines_by_code": dict(sorted(self.declines_by_code.items())),
        }


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise errors.InvalidInput(f"unknown time zone {name[:40]!r}", field="tz") from None


def _bounds(since: date, until: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    if until < since:
        raise errors.InvalidInput("the end comes before the start", field="until")
    if (until - since).days > MAX_DAYS:
        raise errors.InvalidInput(f"at most {MAX_DAYS} days in one report", field="until")
    start = datetime.combine(since, time(), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(until + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC)
    return start, end


def volume(
    deps: Deps,
    *,
    since: date,
    until: date,
    period: str = "day",
    by: str = "brand",
    tz: str = "UTC",
) -> list[ReportRow]:
    """One row per period, group and currency with any item received in it."""
    if period not in PERIODS:
        raise errors.InvalidInput(f"period is one of {', '.join(PERIODS)}", field="period")
    if by not in GROUPS:
        raise errors.InvalidInput(f"by is one of {', '.join(GROUPS)}", field="by")
    zi = zone(tz)
    start, end = _bounds(since, until, zi)
    with deps.reader() as uow:
        items = uow.figures.items_between(start, end)
    rows: dict[tuple[str, str, str], ReportRow] = {}
    for it in items:
        local = it["created_at"].astimezone(zi)
        label = local.strftime("%Y-%m-%d" if period == "day" else "%Y-%m")
        group = it["brand_id"] if by == "brand" else it["issuer"]
        key = (label, group, it["currency"])
        row = rows.get(key) or rows.setdefault(key, ReportRow(label, group, it["currency"]))
        _add(row, it)
    return [rows[k] for k in sorted(rows)]


def _add(row: ReportRow, it: RowView) -> None:
    row.received += 1
    status = it["status"]
    if status in REJECTED:
        row.declined += 1
        code = it["decline_code"] or status
        row.declines_by_code[code] = row.declines_by_code.get(code, 0) + 1
    if status in CAPTURED:
        row.captured += 1
        row.face_value += it["face_value"]
        row.payout += it["payout"]
    if status == "paid":
        row.paid += 1
    if it["paid_at"] is not None:
        row._payout_seconds.append((it["paid_at"] - it["created_at"]).total_seconds())


CSV_COLUMNS = (
    "period",
    "group",
    "currency",
    "received",
    "declined",
    "captured",
    "paid",
    "face_value",
    "payout",
    "margin",
    "margin_bps",
    "avg_seconds_to_payout",
    "declines_by_code",
)


def to_csv(rows: Iterable[ReportRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        d = r.as_dict()
        d["declines_by_code"] = " ".join(f"{k}={v}" for k, v in d["declines_by_code"].items())
        writer.writerow(["" if d[c] is None else d[c] for c in CSV_COLUMNS])
    return out.getvalue()


# -- the chart -------------------------------------------------------------------------------

PALETTE = ("#2f6db5", "#e07b28", "#3a9a4a", "#c23b3b", "#7d5bb5", "#8c6d3f", "#d16ba5", "#5f6b73")


def to_svg(rows: list[ReportRow], *, metric: str = "face_value", title: str = "") -> str:
    """Grouped bars: one cluster per period, one bar per group, height = ``metric``
    (``face_value``, ``margin``, ``received``, ``paid`` ...). Plain SVG 1.1."""
    periods = sorted({r.period for r in rows})
    groups = sorted({r.group for r in rows})
    value = {(r.period, r.group): int(r.as_dict()[metric] or 0) for r in rows}
    top = max([*value.values(), 1])
    width = max(480, 80 + len(periods) * (len(groups) * 18 + 24))
    height, left, bottom, plot_h = 360, 70, 60, 240
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(title or metric)}</title>",
        f'<text x="{left}" y="20" font-size="14">{escape(title or metric)}</text>',
        f'<line x1="{left}" y1="{40 + plot_h}" x2="{width - 10}" y2="{40 + plot_h}" '
        'stroke="#333"/>',
    ]
    for tick in range(5):
        v = top * tick // 4
        y = 40 + plot_h - plot_h * tick // 4
        parts.append(f'<text x="{left - 6}" y="{y + 4}" text-anchor="end">{v:,}</text>')
        parts.append(f'<line x1="{left}" y1="{y}" x2="{width - 10}" y2="{y}" stroke="#ddd"/>')
    x = left + 12
    for p in periods:
        for gi, g in enumerate(groups):
            v = value.get((p, g), 0)
            h = plot_h * v // top
            color = PALETTE[gi % len(PALETTE)]
            parts.append(
                f'<rect x="{x}" y="{40 + plot_h - h}" width="16" height="{h}" fill="{color}">'
                f"<title>{escape(f'{p} {g}: {v:,}')}</title></rect>"
            )
            x += 18
        label_x = x - len(groups) * 9
        parts.append(
            f'<text x="{label_x}" y="{40 + plot_h + 16}" text-anchor="middle">{escape(p)}</text>'
        )
        x += 24
    for gi, g in enumerate(groups):
        lx = left + gi * 110
        ly = height - bottom + 40
        color = PALETTE[gi % len(PALETTE)]
        parts.append(f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{color}"/>')
        parts.append(f'<text x="{lx + 14}" y="{ly}">{escape(g)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


# -- exposure --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exposure:
    issuer: str
    exposure: int  # value captured at the issuer and not yet settled (assets:issuer:*)
    cap: int | None
    enabled: bool

    @property
    def used_bps(self) -> int | None:
        if self.cap is None:
            return None
        if self.cap == 0:
            return 10_000 if self.exposure > 0 else 0
        return self.exposure * 10_000 // self.cap  # floor, as above

    @property
    def over_cap(self) -> bool:
        return self.cap is not None and self.exposure > self.cap

    def as_dict(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "exposure": self.exposure,
            "cap": self.cap,
            "used_bps": self.used_bps,
            "over_cap": self.over_cap,
            "enabled": self.enabled,
        }


def exposure(deps: Deps) -> list[Exposure]:
    """Every known issuer with its exposure and the cap the pipeline enforces."""
    rules = catalogue.current_rules(deps)
    live = catalogue.live_catalogue(deps)
    with deps.reader() as uow:
        balances = uow.figures.issuer_balances()
    issuers = sorted(set(catalogue.known_issuers(deps)) | set(balances))
    return [
        Exposure(
            issuer=i,
            exposure=max(balances.get(i, 0), 0),
            cap=rules.params.exposure_cap(i),
            enabled=i not in live.disabled_issuers,
        )
        for i in issuers
    ]
