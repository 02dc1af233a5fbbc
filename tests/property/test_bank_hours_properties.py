"""Banks' hours as properties: a bank is closed exactly inside its windows, a window that
crosses midnight closes both evenings and mornings, Korean time has no daylight saving,
the reopening is the first open instant after a closure (chained windows followed), and
the closed share of a stretch of time adds up."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examples import examples
from giftcash.domain.bank_hours import (
    KST,
    NO_WINDOW,
    BankCalendar,
    InvalidBankHours,
    Maintenance,
    Nightly,
    check_maintenance,
    closed_banks,
    closed_seconds,
    closed_time,
    parse_nightly,
    reopens_at,
)

NIGHT = parse_nightly("23:30-00:30")
PROPERTY = settings(deadline=None, max_examples=examples(400))  # pure and quick: look wider
moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)
clocks = st.times().map(lambda t: t.replace(second=0, microsecond=0))
nightlies = st.builds(Nightly, clocks, clocks)


def _in_window(n: Nightly, at: datetime) -> bool:
    """The definition, written the other way: by the wall clock alone."""
    clock = at.astimezone(KST).time()
    if n.starts == n.ends:
        return False
    if n.starts < n.ends:
        return n.starts <= clock < n.ends
    return clock >= n.starts or clock < n.ends


def test_the_usual_night_window_crosses_midnight():
    cal = BankCalendar(default=NIGHT)
    evening = datetime(2026, 12, 4, 23, 45, tzinfo=KST)
    morning = datetime(2026, 12, 5, 0, 10, tzinfo=KST)
    assert reopens_at(cal, "004", evening) == datetime(2026, 12, 5, 0, 30, tzinfo=KST)
    assert reopens_at(cal, "004", morning) == datetime(2026, 12, 5, 0, 30, tzinfo=KST)
    assert reopens_at(cal, "004", datetime(2026, 12, 5, 0, 30, tzinfo=KST)) is None
    assert reopens_at(cal, "004", datetime(2026, 12, 4, 23, 29, 59, tzinfo=KST)) is None


def test_banks_differ_and_a_bank_without_window_is_always_open():
    cal = BankCalendar(
        default=NIGHT, per_bank={"088": parse_nightly("23:50-00:10"), "090": NO_WINDOW}
    )
    at = datetime(2026, 12, 4, 23, 40, tzinfo=KST)
    assert closed_banks(cal, at, ("004", "088", "090")) == {"004"}


@pytest.mark.parametrize("text", ["24:00-01:00", "23:30", "2330-0030", "23:60-00:30", "x"])
def test_a_malformed_window_is_refused(text):
    with pytest.raises(InvalidBankHours):
        parse_nightly(text)


def test_a_maintenance_window_must_end_after_it_starts():
    at = datetime(2026, 12, 4, tzinfo=UTC)
    with pytest.raises(InvalidBankHours):
        check_maintenance(at, at)
    with pytest.raises(InvalidBankHours):
        check_maintenance(at.replace(tzinfo=None), at + timedelta(hours=1))


@PROPERTY
@given(nightlies, moments)
def test_closed_exactly_inside_the_window(n, at):
    cal = BankCalendar(default=n)
    assert (reopens_at(cal, "004", at) is not None) == _in_window(n, at)


@PROPERTY
@given(nightlies, moments)
def test_the_reopening_is_open_and_everything_before_it_is_closed(n, at):
    cal = BankCalendar(default=n)
    opens = reopens_at(cal, "004", at)
    if opens is None:
        return
    assert opens > at
    assert reopens_at(cal, "004", opens) is None
    assert opens - at <= timedelta(hours=24)
    assert closed_seconds(cal, "004", at, opens) == (opens - at).total_seconds()
    half = at + (opens - at) / 2
    assert reopens_at(cal, "004", half) == opens


@PROPERTY
@given(
    nightlies,
    st.dates(min_value=datetime(2020, 1, 1).date(), max_value=datetime(2035, 12, 31).date()),
)
def test_korean_time_has_no_daylight_saving(n, day):
    """The window starts at the same UTC instant every day of the year."""
    if n.starts == n.ends:
        return
    at = datetime.combine(day, n.starts, tzinfo=KST)
    assert (
        at.astimezone(UTC).time() == (datetime.combine(day, n.starts) - timedelta(hours=9)).time()
    )
    assert reopens_at(BankCalendar(default=n), "004", at) is not None


@PROPERTY
@given(nightlies, moments, st.integers(0, 3 * 86400), st.integers(0, 3 * 86400))
def test_closed_time_adds_up_over_a_split(n, start, a, b):
    cal = BankCalendar(default=n)
    mid, end = start + timedelta(seconds=a), start + timedelta(seconds=a + b)
    whole = closed_time(cal, "004", start, end)
    assert timedelta() <= whole <= end - start
    assert whole == closed_time(cal, "004", start, mid) + closed_time(cal, "004", mid, end)


@PROPERTY
@given(moments, st.integers(1, 6 * 3600), st.integers(0, 3 * 3600))
def test_maintenance_right_after_the_night_window_is_followed(at, length_s, gap_s):
    """A maintenance that starts when the night window ends (or inside it) moves the
    reopening to its own end; one that starts later does not."""
    cal0 = BankCalendar(default=NIGHT)
    night_end = reopens_at(
        cal0, "004", datetime.combine(at.astimezone(KST).date(), time(23, 45), tzinfo=KST)
    )
    assert night_end is not None
    starts = night_end - timedelta(seconds=gap_s)
    m = Maintenance("m1", "004", starts, starts + timedelta(seconds=length_s))
    cal = BankCalendar(default=NIGHT, maintenance=(m,))
    evening = night_end - timedelta(minutes=45)
    assert reopens_at(cal, "004", evening) == max(night_end, m.ends_at)
    # the maintenance is 004's alone: 088 keeps only its night window
    assert (reopens_at(cal, "088", m.starts_at) is None) == (not _in_window(NIGHT, m.starts_at))


def test_an_announced_refusal_counts_once_with_the_window_it_overlaps():
    cal = BankCalendar(default=NIGHT)
    start = datetime(2026, 12, 4, 23, 0, tzinfo=KST)
    end = datetime(2026, 12, 5, 1, 0, tzinfo=KST)
    refusal = (datetime(2026, 12, 5, 0, 0, tzinfo=KST), datetime(2026, 12, 5, 0, 45, tzinfo=KST))
    assert closed_seconds(cal, "004", start, end) == 3600
    assert closed_seconds(cal, "004", start, end, [refusal]) == 75 * 60


windows = st.lists(
    st.tuples(moments, st.integers(1, 12 * 3600)).map(
        lambda p: (p[0], p[0] + timedelta(seconds=p[1]))
    ),
    max_size=6,
)


@PROPERTY
@given(nightlies, windows, moments)
def test_the_reopening_is_the_end_of_the_closed_stretch_around_the_moment(n, spans, at):
    """With any maintenance, the bank is closed at an instant iff a window holds it, and
    it reopens at the first instant no window holds (touching windows chain)."""
    ms = tuple(Maintenance(f"m{i}", "004", a, b) for i, (a, b) in enumerate(spans))
    cal = BankCalendar(default=n, maintenance=ms)

    def closed(t: datetime) -> bool:
        return _in_window(n, t) or any(a <= t < b for a, b in spans)

    opens = reopens_at(cal, "004", at)
    assert (opens is not None) == closed(at)
    assert closed_banks(cal, at, ["004", "088"]) >= ({"004"} if closed(at) else set())
    if opens is not None:
        assert not closed(opens)
        assert closed(opens - timedelta(microseconds=1))
        assert closed_time(cal, "004", at, opens) == opens - at
