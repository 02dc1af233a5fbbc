"""Banks' hours: the nightly window in which a Korean bank takes no transfers (점검 시간,
typically 23:30–00:30, different per bank) and its announced maintenance; whether a
bank is closed at an instant, when it opens again, and how much of a stretch of time
fell inside its windows.

Korean time has had no daylight saving since 1988, so KST is a fixed UTC+9 and a
window's wall-clock times are the same UTC instants on every day of the year.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone

from giftcash.domain.errors import DomainError

KST = timezone(timedelta(hours=9), "KST")
# Windows that touch chain (a nightly window followed by maintenance): how many links a
# reopening may follow before it gives up and answers the last end it found.
MAX_CHAINED_WINDOWS = 32
# The longest stretch ``closed_seconds`` measures (a payout older than this is long past
# any question of bank hours).
MAX_SPAN = timedelta(days=400)

_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


class InvalidBankHours(DomainError):
    code = "invalid_bank_hours"


@dataclass(frozen=True, slots=True)
class Nightly:
    """A daily window in Korean wall-clock time, ``starts`` inclusive, ``ends``
    exclusive. ``ends`` at or before ``starts`` crosses midnight (23:30–00:30);
    equal times mean no window at all."""

    starts: time
    ends: time

    @property
    def crosses_midnight(self) -> bool:
        return self.ends < self.starts

    def __str__(self) -> str:
        return f"{self.starts:%H:%M}-{self.ends:%H:%M}"


NO_WINDOW = Nightly(time(0, 0), time(0, 0))


def parse_nightly(text: str) -> Nightly:
    """``"23:30-00:30"`` (KST, 24-hour), or ``""``/``"none"`` for a bank with no window."""
    text = text.strip()
    if text in ("", "none"):
        return NO_WINDOW
    m = _WINDOW.match(text)
    if m is None:
        raise InvalidBankHours("a nightly window is written HH:MM-HH:MM (Korean time)")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    return Nightly(time(h1, m1), time(h2, m2))


@dataclass(frozen=True, slots=True)
class Maintenance:
    """An announced closure of one bank, [starts_at, ends_at) (aware datetimes)."""

    id: str
    bank_code: str
    starts_at: datetime
    ends_at: datetime
    note: str = ""


def check_maintenance(starts_at: datetime, ends_at: datetime) -> None:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidBankHours("a maintenance window's times carry their time zone")
    if not starts_at < ends_at:
        raise InvalidBankHours("a maintenance window ends after it starts")
    if ends_at - starts_at > timedelta(days=7):
        raise InvalidBankHours("a maintenance window lasts at most 7 days")


@dataclass(frozen=True)
class BankCalendar:
    """Every bank's nightly window (``default`` unless ``per_bank`` names the bank) and
    the announced maintenance windows."""

    default: Nightly = NO_WINDOW
    per_bank: Mapping[str, Nightly] = field(default_factory=dict)
    maintenance: tuple[Maintenance, ...] = ()

    def nightly(self, bank_code: str) -> Nightly:
        return self.per_bank.get(bank_code, self.default)

    def maintenance_of(self, bank_code: str) -> list[Maintenance]:
        return [m for m in self.maintenance if m.bank_code == bank_code]


def _nightly_window_at(n: Nightly, at: datetime) -> tuple[datetime, datetime] | None:
    """The nightly window that contains ``at``, as aware KST datetimes, or None."""
    if n.starts == n.ends:
        return None
    local = at.astimezone(KST)
    clock = local.timetz().replace(tzinfo=None)
    day = local.date()
    if not n.crosses_midnight:
        if n.starts <= clock < n.ends:
            return _on(day, n.starts), _on(day, n.ends)
        return None
    if clock >= n.starts:  # the evening part: it ends tomorrow
        return _on(day, n.starts), _on(day + timedelta(days=1), n.ends)
    if clock < n.ends:  # the morning part: it started yesterday
        return _on(day - timedelta(days=1), n.starts), _on(day, n.ends)
    return None


def _on(day: object, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=KST)  # type: ignore[arg-type]


def _windows_at(cal: BankCalendar, bank_code: str, at: datetime) -> list[datetime]:
    """The ends of every window of the bank that contains ``at``."""
    ends = [m.ends_at for m in cal.maintenance_of(bank_code) if m.starts_at <= at < m.ends_at]
    nightly = _nightly_window_at(cal.nightly(bank_code), at)
    if nightly is not None:
        ends.append(nightly[1])
    return ends


def reopens_at(cal: BankCalendar, bank_code: str, at: datetime) -> datetime | None:
    """When the bank takes transfers again if it is closed at ``at``; None: it is open.
    Windows that touch or overlap are followed to the first instant that is open."""
    moment = at
    for _ in range(MAX_CHAINED_WINDOWS):
        ends = _windows_at(cal, bank_code, moment)
        if not ends:
            break
        moment = max(ends)
    return None if moment == at else moment


def closed_banks(cal: BankCalendar, at: datetime, bank_codes: Iterable[str]) -> frozenset[str]:
    return frozenset(b for b in bank_codes if _windows_at(cal, b, at))


def _nightly_intervals(
    n: Nightly, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    if n.starts == n.ends:
        return []
    first = start.astimezone(KST).date() - timedelta(days=1)
    last = end.astimezone(KST).date()
    out = []
    day = first
    while day <= last:
        begin = _on(day, n.starts)
        finish = _on(day + timedelta(days=1) if n.crosses_midnight else day, n.ends)
        out.append((begin, finish))
        day += timedelta(days=1)
    return out


def closed_seconds(
    cal: BankCalendar,
    bank_code: str,
    start: datetime,
    end: datetime,
    extra: Iterable[tuple[datetime, datetime]] = (),
) -> float:
    return closed_time(cal, bank_code, start, end, extra).total_seconds()


def closed_time(
    cal: BankCalendar,
    bank_code: str,
    start: datetime,
    end: datetime,
    extra: Iterable[tuple[datetime, datetime]] = (),
) -> timedelta:
    """How much of [start, end) the bank was closed: its nightly windows, its
    maintenance, and ``extra`` closures (a window the bank announced only by refusing),
    each instant counted once. Exact (a ``timedelta``); ``closed_seconds`` in seconds."""
    if end <= start:
        return timedelta()
    assert end - start <= MAX_SPAN, "closed_seconds measures at most MAX_SPAN"
    spans = _nightly_intervals(cal.nightly(bank_code), start, end)
    spans += [(m.starts_at, m.ends_at) for m in cal.maintenance_of(bank_code)]
    spans += list(extra)
    clipped = sorted((max(a, start), min(b, end)) for a, b in spans if a < end and b > start)
    total = timedelta()
    cur_a: datetime | None = None
    cur_b: datetime | None = None
    for a, b in clipped:
        if cur_b is None or a > cur_b:
            if cur_a is not None and cur_b is not None:
                total += cur_b - cur_a
            cur_a, cur_b = a, b
        elif b > cur_b:
            cur_b = b
    if cur_a is not None and cur_b is not None:
        total += cur_b - cur_a
    return total
