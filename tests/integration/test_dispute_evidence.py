"""Dispute evidence (issue 14, item 6), on SQLite and PostgreSQL, over the real issuer and
bank simulators and one injected clock: the issuer's answers about each item are kept in
the transaction of the state change they caused, shown on the sale's page in the
customer's language (the Korean page with no English sentence), and exported for a
dispute with the code masked."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from test_bank_hours import _web_sign_in, night  # noqa: F401  (the fixture)
from typer.testing import CliRunner

from giftcash.adapters.db import tables as t
from giftcash.domain.bank_hours import KST
from giftcash.redemption import evidence

# as tests/web/test_korean_pages.py reads a page: names that stay as they are, then runs
# of English words in the text and what is read aloud
PROPER = re.compile(
    r"giftcash|brand_id,code,pin,face_value,funding_source|YYYYMMDD|English|PIN|CSV|"
    r"GC1234|UTF-8|KB|NH|IBK|SC|iM|KDB|MG"
)
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z']+(?:[ ,.:;]+[A-Za-z][A-Za-z']+)+")
READ_ALOUD = re.compile(r'(?:placeholder|aria-label|title|alt)="([^"]*)"')


def _evidence(w, item_id: str) -> list:
    with w.engine.connect() as conn:
        q = select(t.issuer_evidence).where(t.issuer_evidence.c.item_id == item_id)
        return list(conn.execute(q.order_by(t.issuer_evidence.c.answered_at)))


def _item(w, item_id: str):
    with w.engine.connect() as conn:
        return conn.execute(select(t.items).where(t.items.c.id == item_id)).one()


def english_in(page: str) -> list[str]:
    body = page.split("<body", 1)[-1].split(">", 1)[-1]
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    spoken = " | ".join(READ_ALOUD.findall(body))
    text = html.unescape(re.sub(r"<[^>]+>", " | ", body) + " | " + spoken)
    return ENGLISH_RUN.findall(PROPER.sub(" ", text))


def test_a_voucher_spent_elsewhere_is_answered_with_the_issuers_time_and_place(night):  # noqa: F811
    w, clock = night
    clock.at = datetime(2026, 12, 4, 13, 0, tzinfo=KST)
    auth, account_id = w.customer("010-7200-0001", "이도윤", "7200000000001")
    spent = w.buy("cultureland", 10_000)
    good = w.buy("munhwa", 5_000)
    clock.at = datetime(2026, 12, 4, 14, 3, 22, tzinfo=KST)
    r = w.issuer.post(
        "/sim/vouchers/use",
        json={"brand_id": "cultureland", "code": spent["code"], "place": "store-gangnam"},
    )
    assert r.status_code == 200, r.text
    clock.at = datetime(2026, 12, 4, 14, 30, tzinfo=KST)
    sale = w.sell(auth, account_id, [spent, good], "e1")
    w.work()

    items = {
        i["masked_code"]: i
        for i in w.api.get(f"/v1/submissions/{sale['id']}", headers=auth).json()["items"]
    }
    used_id = next(i["id"] for i in sale["items"] if i["face_value"] == 10_000)
    paid_id = next(i["id"] for i in sale["items"] if i["face_value"] == 5_000)
    assert _item(w, used_id).status in ("declined", "invalid")
    assert _item(w, paid_id).status == "paid"
    assert {i["status"] for i in items.values()} == {_item(w, used_id).status, "paid"}

    (answer,) = _evidence(w, used_id)  # the inquiry that declined it, written with it
    assert (answer.kind, answer.outcome, answer.used_where) == ("inquiry", "used", "store-gangnam")
    assert answer.used_at == datetime(2026, 12, 4, 5, 3, 22, tzinfo=UTC)
    assert answer.asked_at == answer.answered_at == clock.at and answer.issuer_ref

    inquiry, capture = _evidence(w, paid_id)
    assert (inquiry.kind, inquiry.outcome, inquiry.amount) == ("inquiry", "active", 5_000)
    redeemed = w.issuer.get("/sim/redemptions").json()["redemptions"]
    assert (capture.kind, capture.outcome, capture.amount) == ("redemption", "captured", 5_000)
    assert capture.issuer_ref == redeemed[0]["redemption_id"]

    _web_sign_in(w, "010-7200-0001")
    ko = w.api.get(f"/submissions/{sale['id']}").text
    assert "2026년 12월 4일 14:03:22에 이미 사용된 상품권입니다 (발행사 확인)" in ko
    assert "2026년 12월 4일 14:30:00에 발행사가 사용되지 않은 상품권임을 확인했습니다" in ko
    assert f"발행사 참조번호 {capture.issuer_ref}" in ko
    assert english_in(ko) == []
    w.api.cookies.set("gc_lang", "en")
    en = w.api.get(f"/submissions/{sale['id']}").text
    assert "Already used at 14:03:22 on December 4, 2026, per the issuer" in en
    assert "이미 사용된" not in en


def test_a_voucher_spent_between_inquiry_and_capture_keeps_the_redemptions_answer(night):  # noqa: F811
    w, clock = night
    clock.at = datetime(2026, 12, 4, 9, 0, tzinfo=KST)
    auth, account_id = w.customer("010-7200-0002", "정민아", "7200000000002")
    v = w.buy("cultureland", 10_000)
    sale = w.sell(auth, account_id, [v], "e2")
    d = w.deps
    from giftcash.redemption import steps

    admitted = [steps.inquire(d, c) for c in steps.claim_admissions(d, "w1", 10)]
    steps.record_admissions(d, "w1", admitted)
    clock.at = datetime(2026, 12, 4, 9, 0, 5, tzinfo=KST)
    w.issuer.post("/sim/vouchers/use", json={"brand_id": "cultureland", "code": v["code"]})
    clock.at = datetime(2026, 12, 4, 9, 0, 9, tzinfo=KST)
    steps.record_redemptions(
        d, "w1", [steps.redeem(d, c) for c in steps.claim_redemptions(d, "w1", 10)]
    )
    item_id = sale["items"][0]["id"]
    assert _item(w, item_id).status == "invalid"
    inquiry, refusal = _evidence(w, item_id)
    assert (inquiry.outcome, refusal.kind, refusal.outcome) == (
        "active",
        "redemption",
        "already_redeemed",
    )
    assert refusal.used_at == datetime(2026, 12, 4, 0, 0, 5, tzinfo=UTC)
    assert refusal.used_where == "other"


def test_an_answer_whose_lease_was_lost_is_not_kept(night):  # noqa: F811
    """The answer goes with the state change: a worker that lost its lease to another
    changes nothing and keeps nothing."""
    w, clock = night
    clock.at = datetime(2026, 12, 4, 9, 0, tzinfo=KST)
    auth, account_id = w.customer("010-7200-0003", "최유진", "7200000000003")
    sale = w.sell(auth, account_id, [w.buy("cultureland", 10_000)], "e3")
    d = w.deps
    from giftcash.redemption import steps

    claims = steps.claim_admissions(d, "w1", 10)
    outcomes = [steps.inquire(d, c) for c in claims]
    clock.at += timedelta(seconds=d.limits.lease_s + 1)  # w1's lease ran out; w2 takes it
    assert len(steps.claim_admissions(d, "w2", 10)) == 1
    steps.record_admissions(d, "w1", outcomes)
    assert _evidence(w, sale["items"][0]["id"]) == []


def test_the_export_for_a_dispute_masks_the_code(night, monkeypatch):  # noqa: F811
    w, clock = night
    clock.at = datetime(2026, 12, 4, 11, 0, tzinfo=KST)
    auth, account_id = w.customer("010-7200-0004", "한지우", "7200000000004")
    v = w.buy("cultureland", 10_000)
    w.issuer.post("/sim/vouchers/use", json={"brand_id": "cultureland", "code": v["code"]})
    sale = w.sell(auth, account_id, [v, w.buy("munhwa", 5_000)], "e4")
    w.work()

    lines = evidence.export(w.deps, submission_id=sale["id"])
    assert len(lines) == 3  # used: the inquiry; the other: inquiry and capture
    exported = evidence.as_json(lines) + evidence.as_csv(lines)
    assert v["code"] not in exported and v["code"][-4:] in exported
    rows = list(csv.DictReader(io.StringIO(evidence.as_csv(lines))))
    assert [r["outcome"] for r in rows if r["face_value"] == "10000"] == ["used"]
    one = evidence.export(w.deps, item_id=sale["items"][1]["id"])
    assert [x.kind for x in one] == ["inquiry", "redemption"]

    from giftcash.entrypoints.cli.app import app

    monkeypatch.setenv("GIFTCASH_DATA_DIR", str(w.data_dir))
    monkeypatch.setenv("GIFTCASH_DATABASE_URL", w.url)
    r = CliRunner().invoke(app, ["evidence", "export", "--sale", sale["id"], "--format", "json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert len(body["evidence"]) == 3 and v["code"] not in r.stdout
    r = CliRunner().invoke(app, ["evidence", "export", "--item", "nope", "--format", "csv"])
    assert r.exit_code != 0
