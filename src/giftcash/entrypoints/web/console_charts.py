"""The dashboard's charts as server-rendered SVG (no script, no chart library).

Each function answers markup that goes inline into the page: colours come from classes
that console.css styles (the Content-Security-Policy allows no inline style), every bar
carries a ``<title>`` with its exact figure, and the chart as a whole a title and a
description for screen readers. Coordinates are whole numbers of the viewBox; the SVG
scales to its container's width.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from babel.dates import format_skeleton
from babel.numbers import format_compact_decimal
from markupsafe import Markup, escape

from giftcash.entrypoints.web.i18n import N_, Tr
from giftcash.reports import dashboard
from giftcash.reports import volume as reports

LATENCY_LABELS = (
    N_("under 1 min"),
    N_("1–5 min"),
    N_("5–15 min"),
    N_("15–60 min"),
    N_("1–4 h"),
    N_("4 h or more"),
)
assert len(LATENCY_LABELS) == len(dashboard.LATENCY_BUCKETS_S) + 1

ITEM_ORDER = (
    "received",
    "review",
    "redeeming",
    "redeemed",
    "stocked",
    "paying",
    "paid",
    "declined",
    "invalid",
    "failed",
    "withheld",
)


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 2.5 or 5 times a power of ten that is at least ``value``:
    axis ticks at quarters of it stay round."""
    if value <= 0:
        return 1
    power = 1
    while power * 10 <= value:
        power *= 10
    for step in (1, 2, 2.5, 5, 10):
        top = int(power * step)
        if top >= value:
            return top
    return power * 10  # pragma: no cover - the loop always returns


def _compact(tr: Tr, value: int) -> str:
    return format_compact_decimal(value, locale=tr.fmt.locale, fraction_digits=1)


def _svg(width: int, height: int, title: str, desc: str, body: Sequence[str], css: str) -> Markup:
    head = (
        f'<svg class="chart {css}" viewBox="0 0 {width} {height}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>"
    )
    # Every text in ``body`` and ``head`` went through escape(); numbers are ints.
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704


def _rect(x: int, y: int, w: int, h: int, css: str, tip: str) -> str:
    return (
        f'<rect class="{css}" x="{x}" y="{y}" width="{max(w, 0)}" height="{max(h, 0)}" rx="2">'
        f"<title>{escape(tip)}</title></rect>"
    )


def _text(x: int, y: int, text: str, css: str = "c-label", anchor: str = "start") -> str:
    return f'<text class="{css}" x="{x}" y="{y}" text-anchor="{anchor}">{escape(text)}</text>'


def _day_label(tr: Tr, day: date) -> str:
    return format_skeleton("Md", day, locale=tr.fmt.locale)


def volume_chart(tr: Tr, days: Sequence[dashboard.DayFigures], currency: str) -> Markup:
    """Stacked bars per day: what customers were paid, and the margin on top of it (the two
    add up to the face value captured)."""
    width, height, left, right, top, bottom = 1000, 250, 58, 8, 14, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = nice_ceiling(max((d.face_value for d in days), default=0))
    body = []
    for q in range(5):
        y = top + plot_h - plot_h * q // 4
        body.append(f'<line class="c-grid" x1="{left}" y1="{y}" x2="{width - right}" y2="{y}"/>')
        body.append(_text(left - 6, y + 4, _compact(tr, peak * q // 4), "c-tick", "end"))
    slot = plot_w // max(len(days), 1)
    bar_w = max(slot * 3 // 5, 4)
    for i, d in enumerate(days):
        x = left + i * slot + (slot - bar_w) // 2
        paid_h = plot_h * d.payout // peak
        margin_h = plot_h * d.face_value // peak - paid_h
        base = top + plot_h
        label = _day_label(tr, d.day)
        body.append(
            _rect(
                x,
                base - paid_h,
                bar_w,
                paid_h,
                "c-payout",
                tr(
                    "%(day)s: paid to customers %(amount)s",
                    day=label,
                    amount=tr.fmt.money(d.payout, currency),
                ),
            )
        )
        body.append(
            _rect(
                x,
                base - paid_h - margin_h,
                bar_w,
                margin_h,
                "c-margin",
                tr(
                    "%(day)s: margin %(amount)s", day=label, amount=tr.fmt.money(d.margin, currency)
                ),
            )
        )
        css = "c-tick c-today" if i == len(days) - 1 else "c-tick"
        if i % 2 == (len(days) - 1) % 2:  # every other day, always today
            body.append(_text(x + bar_w // 2, height - 10, label, css, "middle"))
    total = sum(d.face_value for d in days)
    return _svg(
        width,
        height,
        tr("Value bought per day"),
        tr(
            "%(n)s days; %(total)s of face value captured in all.",
            n=len(days),
            total=tr.fmt.money(total, currency),
        ),
        body,
        "chart-volume",
    )


PAYOUT_ORDER = (
    "pending",
    "held",
    "sending",
    "sent",
    "unknown",
    "confirmed",
    "returned",
    "rejected",
    "cancelled",
)
TONES = {
    "paid": "ok",
    "confirmed": "ok",
    "review": "warn",
    "unknown": "warn",
    "failed": "bad",
    "invalid": "bad",
    "returned": "bad",
    "rejected": "bad",
    "declined": "quiet",
    "held": "warn",
    "withheld": "bad",
    "cancelled": "quiet",
}


def states_chart(
    tr: Tr,
    counts: dict[str, int],
    labels: dict[str, str],
    *,
    payouts: bool = False,
) -> Markup:
    """Horizontal bars: how many items (or payouts) are in each state now."""
    order = PAYOUT_ORDER if payouts else ITEM_ORDER
    always = ("pending", "sent", "confirmed") if payouts else ("received", "review", "paid")
    rows = [s for s in order if s in counts or s in always]
    rows += sorted(s for s in counts if s not in order)
    width, row_h, left, right = 480, 26, 132, 56
    height = row_h * len(rows) + 8
    peak = max([counts.get(s, 0) for s in rows] + [1])
    body = []
    for i, s in enumerate(rows):
        y = 4 + i * row_h
        n = counts.get(s, 0)
        w = (width - left - right) * n // peak
        tone = TONES.get(s, "")
        name = tr(labels.get(s, s))
        body.append(_text(left - 8, y + 17, name, "c-label", "end"))
        body.append(_rect(left, y + 4, w, row_h - 8, f"c-bar {tone}".strip(), f"{name}: {n:,}"))
        body.append(_text(left + w + 6, y + 17, tr.fmt.number(n), "c-value"))
    return _svg(
        width,
        height,
        tr("Payouts by state") if payouts else tr("Items by state"),
        ", ".join(f"{tr(labels.get(s, s))} {counts.get(s, 0):,}" for s in rows),
        body,
        "chart-states",
    )


def latency_chart(tr: Tr, latency: dashboard.Latency) -> Markup:
    """A histogram of today's payouts by the time from creation to the bank's
    confirmation."""
    width, height, left, right, top, bottom = 480, 200, 36, 8, 14, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(max(latency.buckets, default=0), 1)
    body = []
    for q in (0, peak):
        y = top + plot_h - plot_h * q // peak
        body.append(f'<line class="c-grid" x1="{left}" y1="{y}" x2="{width - right}" y2="{y}"/>')
        body.append(_text(left - 6, y + 4, tr.fmt.number(q), "c-tick", "end"))
    slot = plot_w // len(latency.buckets)
    bar_w = slot * 2 // 3
    for i, n in enumerate(latency.buckets):
        x = left + i * slot + (slot - bar_w) // 2
        h = plot_h * n // peak
        label = tr(LATENCY_LABELS[i])
        body.append(_rect(x, top + plot_h - h, bar_w, h, "c-bar", f"{label}: {n:,}"))
        body.append(_text(x + bar_w // 2, height - 12, label, "c-tick", "middle"))
    return _svg(
        width,
        height,
        tr("Payout time today"),
        tr("%(n)s payouts confirmed today.", n=latency.count),
        body,
        "chart-latency",
    )


def exposure_chart(tr: Tr, exposure: Sequence[reports.Exposure], currency: str) -> Markup:
    """Per issuer: value captured and not yet settled, against its cap (a marker)."""
    width, row_h, left, right = 480, 30, 110, 96
    rows = list(exposure)
    height = row_h * max(len(rows), 1) + 8
    peak = nice_ceiling(max([e.exposure for e in rows] + [e.cap or 0 for e in rows] + [1]))
    plot_w = width - left - right
    body = []
    for i, e in enumerate(rows):
        y = 4 + i * row_h
        w = plot_w * e.exposure // peak
        tone = "bad" if e.over_cap else ("quiet" if not e.enabled else "")
        name = e.issuer if e.enabled else tr("%(issuer)s (stopped)", issuer=e.issuer)
        amount = tr.fmt.money(e.exposure, currency)
        body.append(_text(left - 8, y + 19, name, "c-label", "end"))
        body.append(
            f'<rect class="c-track" x="{left}" y="{y + 6}" width="{plot_w}" '
            f'height="{row_h - 12}" rx="2"/>'
        )
        body.append(_rect(left, y + 6, w, row_h - 12, f"c-bar {tone}".strip(), f"{name}: {amount}"))
        if e.cap is not None:
            cx = left + plot_w * e.cap // peak
            tip = tr("Cap %(amount)s", amount=tr.fmt.money(e.cap, currency))
            body.append(
                f'<line class="c-cap" x1="{cx}" y1="{y + 2}" x2="{cx}" y2="{y + row_h - 2}">'
                f"<title>{escape(tip)}</title></line>"
            )
        body.append(_text(width - right + 6, y + 19, _compact(tr, e.exposure), "c-value"))
    return _svg(
        width,
        height,
        tr("Exposure per issuer"),
        tr("Value captured at each issuer and not yet settled, against its cap."),
        body,
        "chart-exposure",
    )
