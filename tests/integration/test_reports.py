"""Reports over a day of trade (SQLite and PostgreSQL): volume, margin, declines by code
and time to payout per brand, issuer, day and month; the SVG chart parses; exposure
against the caps the pipeline enforces."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import test_reconcile_world

from giftcash.reports import volume as reports
from giftcash.reports.volume import ReportRow

ops_world = test_reconcile_world.ops_world


def _declined_sale(w) -> None:
    """One voucher the issuer says was spent already: declined at admission."""
    auth, account_id = w.customer("010-5100-0051", "윤아름", "5100000000051")
    spent = w.buy("munhwa", 5_000)
    r = w.issuer.post("/sim/vouchers/use", json={"brand_id": "munhwa", "code": spent["code"]})
    assert r.status_code == 200, r.text
    w.sell(auth, account_id, [spent], "spent-one")
    w.work()


def test_volume_per_brand_and_issuer_with_margin_and_declines(ops_world):
    w = ops_world
    w.day_of_trade()
    _declined_sale(w)
    today = datetime.now(UTC).date()
    by_brand = {r.group: r for r in reports.volume(w.deps, since=today, until=today)}
    assert set(by_brand) == {"cultureland", "munhwa", "booknlife"}
    culture = by_brand["cultureland"]
    assert (culture.received, culture.captured, culture.paid) == (2, 2, 2)
    assert culture.face_value == 40_000
    assert culture.margin == culture.face_value - culture.payout > 0
    assert culture.margin_bps == culture.margin * 10_000 // culture.face_value
    assert culture.avg_seconds_to_payout is not None and culture.avg_seconds_to_payout >= 0
    munhwa = by_brand["munhwa"]
    assert (munhwa.received, munhwa.declined, munhwa.paid) == (3, 1, 2)
    assert munhwa.declines_by_code == {"voucher_used": 1}

    by_issuer = reports.volume(w.deps, since=today, until=today, by="issuer", period="month")
    assert [r.period for r in by_issuer] == [today.strftime("%Y-%m")] * len(by_issuer)
    assert sum(r.face_value for r in by_issuer) == 65_000
    assert sum(r.received for r in by_issuer) == 6

    text = reports.to_csv(by_brand.values())
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["declines_by_code"] for r in rows} >= {"voucher_used=1"}
    assert sum(int(r["margin"]) for r in rows) == sum(r.margin for r in by_brand.values())

    yesterday = today - timedelta(days=1)
    assert reports.volume(w.deps, since=yesterday, until=yesterday) == []


def test_days_follow_the_time_zone_asked_for(ops_world):
    w = ops_world
    w.day_of_trade()
    now = datetime.now(UTC)
    seoul_day = now.astimezone(reports.zone("Asia/Seoul")).date()
    rows = reports.volume(w.deps, since=seoul_day, until=seoul_day, tz="Asia/Seoul")
    assert {r.period for r in rows} == {seoul_day.isoformat()}
    assert sum(r.received for r in rows) == 5


def test_the_svg_chart_parses_and_has_a_bar_per_period_and_group():
    rows = [
        ReportRow("2026-11-26", "cultureland", "KRW", received=3, captured=3, face_value=90_000,
                  payout=81_000),
        ReportRow("2026-11-27", "cultureland", "KRW", received=1, captured=1, face_value=10_000,
                  payout=9_000),
        ReportRow("2026-11-27", "munhwa & co", "KRW", received=1, captured=1, face_value=5_000,
                  payout=4_500),
    ]  # fmt: skip
    svg = reports.to_svg(rows, metric="face_value", title="volume <test>")
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    bars = [r for r in root.iter(f"{ns}rect") if r.find(f"{ns}title") is not None]
    assert len(bars) == 4  # two periods × two groups
    heights = {b.find(f"{ns}title").text: int(b.get("height")) for b in bars}
    assert heights["2026-11-26 cultureland: 90,000"] == 240  # the tallest fills the plot
    assert heights["2026-11-27 munhwa & co: 5,000"] == 240 * 5_000 // 90_000
    assert root.find(f"{ns}title").text == "volume <test>"


def test_exposure_against_the_cap(ops_world):
    w = ops_world
    w.day_of_trade()
    before = {e.issuer: e for e in reports.exposure(w.deps)}
    issuer = max(before, key=lambda i: before[i].exposure)
    assert before[issuer].exposure > 0 and not before[issuer].over_cap
    with w.deps.uow() as uow:
        uow.overrides.set_issuer(
            issuer, {"exposure_cap": before[issuer].exposure // 2}, datetime.now(UTC), "test"
        )
        uow.commit()
    after = {e.issuer: e for e in reports.exposure(w.deps)}
    assert after[issuer].cap == before[issuer].exposure // 2
    assert after[issuer].over_cap and after[issuer].used_bps >= 20_000
