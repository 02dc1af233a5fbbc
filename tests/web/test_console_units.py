"""The console's pure parts: latency percentiles, chart scales and escaping, the forms'
parsing of rates and caps, durations and masked phone numbers."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from giftcash.domain.errors import DomainError
from giftcash.entrypoints.web import console_charts as charts
from giftcash.entrypoints.web.console_catalogue import parse_cap, parse_rate_bps, rate_text
from giftcash.entrypoints.web.console_customers import masked_phone
from giftcash.entrypoints.web.console_pages import duration
from giftcash.entrypoints.web.i18n import Tr
from giftcash.reports import dashboard
from giftcash.reports import volume as reports


def test_percentiles_are_latencies_that_happened():
    values = [float(v) for v in range(1, 101)]  # 1..100 s
    assert dashboard.percentile_nearest_rank(values, 95) == 95.0
    assert dashboard.percentile_nearest_rank([7.0], 95) == 7.0
    assert dashboard.percentile_nearest_rank([], 95) is None
    lat = dashboard.latency([30.0, 90.0, 100.0, 4000.0, 20_000.0])
    assert lat.median_s == 100.0 and lat.p95_s == 20_000.0 and lat.count == 5
    assert lat.buckets == (1, 2, 0, 0, 1, 1)  # <1m, 1-5m, 5-15m, 15-60m, 1-4h, 4h+


@given(st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=50))
def test_the_p95_is_one_of_the_values_and_not_below_the_median(values):
    lat = dashboard.latency(values)
    assert lat.p95_s in values
    assert lat.p95_s >= min(values) and sum(lat.buckets) == len(values)


def test_nice_ceilings():
    assert [charts.nice_ceiling(v) for v in (0, 1, 7, 12, 90_000, 100_001, 240_000)] == [
        1,
        1,
        10,
        20,
        100_000,
        200_000,
        250_000,
    ]


def test_chart_text_is_escaped_and_bars_carry_their_figures():
    tr = Tr("en")
    exposure = [reports.Exposure("<script>x</script>", 50_000, 100_000, True)]
    svg = str(charts.exposure_chart(tr, exposure, "KRW"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "Cap ₩100,000" in svg and "₩50,000" in svg
    days = [dashboard.DayFigures(date(2026, 11, 27), face_value=100_000, payout=90_000)]
    volume = str(charts.volume_chart(tr, days, "KRW"))
    assert "11/27: margin ₩10,000" in volume and "paid to customers ₩90,000" in volume


@pytest.mark.parametrize(
    ("text", "bps"), [("90", 9_000), ("88.5", 8_850), ("0.01", 1), ("100%", 10_000), ("", None)]
)
def test_rates_from_the_form(text, bps):
    assert parse_rate_bps(text) == bps


@pytest.mark.parametrize("text", ["0", "100.01", "90.125", "ninety", "-5", "NaN"])
def test_rates_the_form_refuses(text):
    with pytest.raises(DomainError) as e:
        parse_rate_bps(text)
    assert e.value.context["field"] == "buyback_rate_bps"


@given(st.integers(min_value=1, max_value=10_000))
def test_a_shown_rate_reads_back_as_itself(bps):
    assert parse_rate_bps(rate_text(bps)) == bps


def test_caps_from_the_form():
    assert parse_cap("5,000,000") == 5_000_000 and parse_cap(" ") is None and parse_cap("0") == 0
    for bad in ("1.5", "-1", "١٢٣", "9" * 16):
        with pytest.raises(DomainError):
            parse_cap(bad)


def test_durations_and_masked_phones():
    ko, en = Tr("ko"), Tr("en")
    assert duration(en, 0.4) == "under 1 s" and duration(ko, 0.4) == "1초 미만"
    assert duration(en, 72) == "1 min 12 s" and duration(ko, 3_720) == "1시간 2분"
    assert duration(en, None) == "—"
    assert masked_phone("01012345678") == "010-****-5678"
    assert masked_phone("0101234567") == "010-***-4567"
