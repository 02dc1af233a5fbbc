"""The liquidity advisor: every lawful route for a voucher and what each one yields.

A customer who wants cash for a voucher has more choices than selling it here: cancel the
payment, the 7-day full refund, the issuer's refund of the remainder or, after expiry, of
90–95% (100% as points), or keeping it. The advisor lists the routes that exist *now* (or
will open, like the after-expiry refund) with the cash each yields, so the price of
selling here is shown next to its alternatives (DESIGN "The true price is shown").

Korean terms (DOMAIN-FACTS §2, KFTC 신유형 상품권 표준약관 2015, revised 2025-09):
- full refund within 7 days of purchase (청약철회), if unused;
- the remainder refunded once ≥60% is used (face ≥10,000 won) or ≥80% (face <10,000);
- after expiry: 95% of the unused value for vouchers above 50,000 won, 90% otherwise, or
  100% as the issuer's points; claimable until the commercial limitation period (상법 §64,
  5 years) ends, counted from the purchase (issue) date, not from expiry: the sources
  (KFTC 2015 press coverage, 한국소비자원) all count it from 발행일/구매일;
- a carrier-billing or card payment can be cancelled in the month it was made, before
  the bill closes (KG모빌리언스 약관 §6의2).

Periods follow 민법 §157/§159/§160: the purchase day is not counted and a period ends at
the end of its last day, in Korean time. So a voucher bought on 1 March can be withdrawn
until the end of 8 March, and one bought on 3 January 2020 is refundable until the end of
3 January 2025. ``deadline`` is the first instant at which a route is closed.

Rounding: the 90% / 95% refunds are rounded *down* to the minor unit. The issuer pays
them; we show the least the customer can expect, never more than they will get.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from enum import StrEnum

from giftcash.domain.brands import Brand
from giftcash.domain.errors import DomainError, InvalidAmount
from giftcash.domain.money import Money, bps_of
from giftcash.domain.quotes import FundingSource, funding_source

KST = timezone(timedelta(hours=9), "KST")  # Korea keeps no daylight-saving time


class RouteId(StrEnum):
    SELL_HERE = "sell_here"
    CANCEL_PAYMENT = "cancel_payment"
    WITHDRAW_7_DAYS = "withdraw_7_days"
    ISSUER_REFUND_REMAINDER = "issuer_refund_remainder"
    ISSUER_REFUND_AFTER_EXPIRY = "issuer_refund_after_expiry"
    ISSUER_POINTS_AFTER_EXPIRY = "issuer_points_after_expiry"
    KEEP = "keep"
    ISSUER_EXTENSION = "issuer_extension"  # KFTC terms: 3 more months on request


@dataclass(frozen=True, slots=True)
class Route:
    route: str  # a RouteId value
    cash: int  # money in hand, minor units (0 for keep and for points)
    currency: str
    note: str
    value: int  # what the route yields in any form: cash, points or goods
    deadline: datetime | None = None  # the route is closed from this instant on
    opens_at: datetime | None = None  # the route is not open before this instant


@dataclass(frozen=True, slots=True)
class RefundTerms:
    """A jurisdiction's consumer terms for vouchers: the data behind the routes."""

    jurisdiction: str
    tz: tzinfo  # the calendar in which days and months are counted
    cancel_same_month_sources: frozenset[FundingSource]
    withdrawal_days: int | None  # None: no statutory withdrawal period
    remainder_refund: bool
    remainder_small_face_below: int  # faces below this need the higher use share
    remainder_used_pct: int  # use share that opens the remainder refund (large faces)
    remainder_used_pct_small: int
    after_expiry_refund: bool
    after_expiry_high_face_above: int
    after_expiry_high_bps: int
    after_expiry_low_bps: int
    after_expiry_points_bps: int | None
    limitation_years: int | None  # counted from the purchase date
    source: str


KR_TERMS = RefundTerms(
    jurisdiction="KR",
    tz=KST,
    cancel_same_month_sources=frozenset({FundingSource.CARRIER_BILLING, FundingSource.CREDIT_CARD}),
    withdrawal_days=7,
    remainder_refund=True,
    remainder_small_face_below=10_000,
    remainder_used_pct=60,
    remainder_used_pct_small=80,
    after_expiry_refund=True,
    after_expiry_high_face_above=50_000,
    after_expiry_high_bps=9_500,
    after_expiry_low_bps=9_000,
    after_expiry_points_bps=10_000,
    limitation_years=5,
    source="KFTC 신유형 상품권 표준약관 (2015, revised 2025-09); 상법 §64; 민법 §157-§160",
)

# The US has no federal withdrawal or refund-of-remainder terms for gift cards (some
# states require cash for small balances; not modelled), so only selling and keeping.
US_TERMS = RefundTerms(
    jurisdiction="US",
    tz=UTC,
    cancel_same_month_sources=frozenset(),
    withdrawal_days=None,
    remainder_refund=False,
    remainder_small_face_below=0,
    remainder_used_pct=100,
    remainder_used_pct_small=100,
    after_expiry_refund=False,
    after_expiry_high_face_above=0,
    after_expiry_high_bps=0,
    after_expiry_low_bps=0,
    after_expiry_points_bps=None,
    limitation_years=None,
    source="none: no statutory refund terms modelled",
)

REFUND_TERMS: dict[str, RefundTerms] = {"KR": KR_TERMS, "US": US_TERMS}


class UnknownJurisdiction(DomainError):
    code = "unknown_jurisdiction"
    kind = "not_found"


def refund_terms(jurisdiction: str | RefundTerms) -> RefundTerms:
    if isinstance(jurisdiction, RefundTerms):
        return jurisdiction
    try:
        return REFUND_TERMS[jurisdiction]
    except KeyError:
        raise UnknownJurisdiction(
            f"no jurisdiction {jurisdiction[:8]!r}", jurisdiction=jurisdiction[:8]
        ) from None


# -- the calendar ---------------------------------------------------------------------


def local_date(moment: datetime, tz: tzinfo) -> date:
    return moment.astimezone(tz).date()


def start_of(day: date, tz: tzinfo) -> datetime:
    """The first instant of ``day`` in ``tz``, as UTC."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def end_of_days_after(moment: datetime, days: int, tz: tzinfo) -> datetime:
    """Deadline of a period of ``days`` days from ``moment``: the day of ``moment`` is not
    counted and the period ends with its last day (민법 §157, §159)."""
    return start_of(local_date(moment, tz) + timedelta(days=days + 1), tz)


def end_of_years_after(moment: datetime, years: int, tz: tzinfo) -> datetime:
    """Deadline of a period of ``years`` years: it ends with the day that corresponds to
    the starting day; when that day does not exist (29 February), with the month's last
    day (민법 §160)."""
    d = local_date(moment, tz)
    try:
        last = d.replace(year=d.year + years)
    except ValueError:  # 29 February into a common year
        last = date(d.year + years, 3, 1) - timedelta(days=1)
    return start_of(last + timedelta(days=1), tz)


def end_of_month(moment: datetime, tz: tzinfo) -> datetime:
    d = local_date(moment, tz)
    first_next = date(d.year + 1, 1, 1) if d.month == 12 else date(d.year, d.month + 1, 1)
    return start_of(first_next, tz)


# -- the routes -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Advice:
    routes: tuple[Route, ...]
    note: str | None  # e.g. why routes that need the purchase date are missing


def _aware(moment: datetime | None, name: str) -> None:
    assert moment is None or moment.tzinfo is not None, f"{name} must be timezone-aware"


def advise(
    brand: Brand,
    face_value: int,
    *,
    funding_source: FundingSource | str,
    now: datetime,
    purchased_at: datetime | None = None,
    expires_at: datetime | None = None,
    used_value: int = 0,
    payout: int | None = None,
    jurisdiction: str | RefundTerms = "KR",
) -> Advice:
    """Every route open to the holder of this voucher at ``now``, in a fixed order.

    ``funding_source`` is what paid for the voucher: the issuer's answer where it gave
    one, else the customer's declaration. ``used_value`` is the part already spent
    (face value minus the issuer's balance). ``payout`` is what giftcash pays; ``None``
    when the voucher cannot be sold here (declined), and then ``sell_here`` is not listed.
    """
    _aware(now, "now")
    _aware(purchased_at, "purchased_at")
    _aware(expires_at, "expires_at")
    source = _source(funding_source)
    if type(face_value) is not int or face_value <= 0:
        raise InvalidAmount("face value must be a positive whole number of minor units")
    if type(used_value) is not int or not 0 <= used_value <= face_value:
        raise InvalidAmount("the used value must be between 0 and the face value")
    terms = refund_terms(jurisdiction)
    ctx = _Ctx(brand, face_value, source, now, purchased_at, expires_at, used_value, terms)
    found: list[Route | None] = [
        _sell_here(ctx, payout),
        _cancel_payment(ctx),
        _withdraw(ctx),
        _remainder(ctx),
        *_after_expiry(ctx),
        _keep(ctx),
    ]
    note = None
    if purchased_at is None and (terms.withdrawal_days or terms.cancel_same_month_sources):
        note = (
            "The purchase date is unknown, so routes that depend on it (cancelling the "
            "payment, the 7-day refund) are not shown; give the purchase date to see them."
        )
    return Advice(tuple(r for r in found if r is not None), note)


def routes(
    brand: Brand,
    face_value: int,
    *,
    funding_source: FundingSource | str,
    now: datetime,
    purchased_at: datetime | None = None,
    expires_at: datetime | None = None,
    used_value: int = 0,
    payout: int | None = None,
    jurisdiction: str | RefundTerms = "KR",
) -> list[Route]:
    """``advise(...).routes`` as a list."""
    advice = advise(
        brand,
        face_value,
        funding_source=funding_source,
        now=now,
        purchased_at=purchased_at,
        expires_at=expires_at,
        used_value=used_value,
        payout=payout,
        jurisdiction=jurisdiction,
    )
    return list(advice.routes)


def _source(value: FundingSource | str) -> FundingSource:
    return funding_source(value)


def _pct(bps: int) -> str:
    """95% or 92.5%: basis points as a percentage, without floats."""
    whole, frac = divmod(bps, 100)
    return f"{whole}%" if frac == 0 else f"{whole}.{frac:02d}".rstrip("0") + "%"


@dataclass(frozen=True, slots=True)
class _Ctx:
    brand: Brand
    face: int
    source: FundingSource
    now: datetime
    purchased_at: datetime | None
    expires_at: datetime | None
    used: int
    terms: RefundTerms

    @property
    def remaining(self) -> int:
        return self.face - self.used

    @property
    def currency(self) -> str:
        return self.brand.currency

    def show(self, amount: int) -> str:
        return Money(amount, self.currency).format()

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.now >= self.expires_at

    def route(
        self,
        rid: RouteId,
        cash: int,
        note: str,
        *,
        value: int | None = None,
        deadline: datetime | None = None,
        opens_at: datetime | None = None,
    ) -> Route:
        value = cash if value is None else value
        return Route(rid.value, cash, self.currency, note, value, deadline, opens_at)


def _sell_here(c: _Ctx, payout: int | None) -> Route | None:
    if payout is None or c.expired:
        return None
    return c.route(RouteId.SELL_HERE, payout, f"giftcash pays {c.show(payout)} now")


def _cancel_payment(c: _Ctx) -> Route | None:
    t = c.terms
    if c.source not in t.cancel_same_month_sources or c.purchased_at is None or c.used:
        return None
    deadline = end_of_month(c.purchased_at, t.tz)
    if c.now >= deadline:
        return None
    how = "your carrier" if c.source is FundingSource.CARRIER_BILLING else "your card company"
    return c.route(
        RouteId.CANCEL_PAYMENT,
        c.face,
        f"ask the seller or {how} to cancel the payment before the month ends: "
        "nothing is billed, so you keep the full amount",
        deadline=deadline,
    )


def _withdraw(c: _Ctx) -> Route | None:
    t = c.terms
    if t.withdrawal_days is None or c.purchased_at is None or c.used:
        return None
    deadline = end_of_days_after(c.purchased_at, t.withdrawal_days, t.tz)
    if c.now >= deadline:
        return None
    return c.route(
        RouteId.WITHDRAW_7_DAYS,
        c.face,
        f"ask the seller for a full refund within {t.withdrawal_days} days of purchase "
        "(청약철회); the voucher must be unused",
        deadline=deadline,
    )


def _remainder(c: _Ctx) -> Route | None:
    t = c.terms
    if not (t.remainder_refund and c.brand.issuer_refund_remainder):
        return None
    if c.used == 0 or c.remaining == 0 or c.expired:
        return None
    small = c.face < t.remainder_small_face_below
    share = t.remainder_used_pct_small if small else t.remainder_used_pct
    if c.used * 100 < share * c.face:
        return None
    return c.route(
        RouteId.ISSUER_REFUND_REMAINDER,
        c.remaining,
        f"you have used {share}% or more: the issuer refunds the rest in full",
        deadline=c.expires_at,
    )


def _after_expiry(c: _Ctx) -> list[Route | None]:
    t = c.terms
    if not (t.after_expiry_refund and c.brand.issuer_refund_remainder):
        return []
    if c.expires_at is None or c.remaining == 0:
        return []
    deadline = None
    until = f"until {t.limitation_years} years after the purchase date"
    if t.limitation_years is not None and c.purchased_at is not None:
        deadline = end_of_years_after(c.purchased_at, t.limitation_years, t.tz)
        if c.now >= deadline:
            return []
        until = f"until {(deadline - timedelta(seconds=1)).astimezone(t.tz):%Y-%m-%d}"
    opens = c.expires_at if c.now < c.expires_at else None
    when = "after it expires" if opens else "now that it has expired"
    high = c.face > t.after_expiry_high_face_above
    bps = t.after_expiry_high_bps if high else t.after_expiry_low_bps
    refund = bps_of(c.remaining, bps)  # floor: never promise more than the issuer pays
    pct = _pct(bps)
    out: list[Route | None] = [
        c.route(
            RouteId.ISSUER_REFUND_AFTER_EXPIRY,
            refund,
            f"{when}, the issuer refunds {pct} of the unused value in cash, {until} "
            "(rounded down to the won: the issuer pays it, we never show more)",
            deadline=deadline,
            opens_at=opens,
        )
    ]
    if t.after_expiry_points_bps is not None:
        points = bps_of(c.remaining, t.after_expiry_points_bps)
        out.append(
            c.route(
                RouteId.ISSUER_POINTS_AFTER_EXPIRY,
                0,
                f"{when}, the issuer refunds the full unused value as its own points "
                f"(적립금), not cash, {until}",
                value=points,
                deadline=deadline,
                opens_at=opens,
            )
        )
    return out


def _keep(c: _Ctx) -> Route | None:
    if c.expired:
        return None
    until = ""
    if c.expires_at is not None:
        until = f" until {(c.expires_at - timedelta(seconds=1)).astimezone(c.terms.tz):%Y-%m-%d}"
    return c.route(
        RouteId.KEEP,
        0,
        f"keep it and use it yourself: worth {c.show(c.remaining)} in goods{until}",
        value=c.remaining,
        deadline=c.expires_at,
    )
