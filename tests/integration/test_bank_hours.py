"""Banks' hours (issue 14, item 5), on SQLite and PostgreSQL, over the real bank and issuer
simulators and one injected clock: with the bank simulator in its night window, payouts
wait (nobody calls the closed bank), the sale and history pages say when the money comes,
and after the window each payout is paid once; a bank that refuses as closed in a window
we did not know makes its payout wait for the reopening it announced, without counting a
failure, and the payout is paid once after it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from test_reconcile_world import PASSWORD, OpsWorld

from appcache import app_for
from fakes import FakeSms
from giftcash.adapters.banks.openbanking import OpenBankingBank
from giftcash.adapters.db import tables as t
from giftcash.adapters.issuers.http_issuer import HttpIssuer
from giftcash.adapters.observability.metrics import REGISTRY
from giftcash.bootstrap import build_deps
from giftcash.config import Settings
from giftcash.domain.bank_hours import KST
from giftcash.payouts import bank_hours
from giftcash.simulators import create_bank_app, create_issuer_app


class SetClock:
    """The one clock of the exchange and both simulators; a test moves it."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def night(engine, tmp_path):
    clock = SetClock(datetime(2026, 12, 4, 22, 0, tzinfo=KST))
    bank_client = TestClient(create_bank_app(tmp_path / "bank", clock=clock))
    issuer_client = TestClient(create_issuer_app(tmp_path / "issuer", clock=clock))
    sms = FakeSms()
    settings = Settings(
        data_dir=tmp_path / "var",
        database_url=str(engine.url),
        bank_nightly="23:30-00:30",
        token_ttl_s=86400,  # the test moves its clock over hours
    )
    deps = build_deps(
        settings,
        engine=engine,
        issuer=HttpIssuer("http://sim", client=issuer_client),
        bank=OpenBankingBank("http://sim", client=bank_client, now=clock.now),
        sms=sms,
        fast_passwords=True,
    )
    deps.clock = clock
    url = engine.url.render_as_string(hide_password=False)
    with TestClient(app_for(deps)) as api:
        world = OpsWorld(
            api, bank_client, issuer_client, sms, deps, engine, url, tmp_path / "var", settings
        )
        yield world, clock


def _web_sign_in(w: OpsWorld, phone: str) -> None:
    html = w.api.get("/signin").text
    csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html).group(1)
    r = w.api.post(
        "/signin",
        data={"csrf_token": csrf, "phone": phone, "password": PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    # signed up through the API: the site asks for the consents of its sign-up form once
    csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', w.api.get("/consents").text)
    consents = {"consent_terms": "on", "consent_privacy_collection": "on"}
    r = w.api.post(
        "/consents",
        data={"csrf_token": csrf.group(1), **consents},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def _observed(part: str) -> float:
    """Seconds observed so far in the payout-time histogram's ``part``."""
    found = REGISTRY.get_sample_value("giftcash_payout_duration_seconds_sum", {"part": part})
    return found or 0.0


def _payouts(w: OpsWorld) -> list:
    with w.engine.connect() as conn:
        return list(conn.execute(select(t.payouts).order_by(t.payouts.c.id)))


def _transfers_to(w: OpsWorld, account: str) -> list[dict]:
    found = w.bank.get("/sim/transfers").json()["transfers"]
    return [x for x in found if x["account_num"] == account and x["amount"] > 1]


def test_payouts_wait_in_the_night_window_and_are_paid_once_after_it(night):
    w, clock = night
    assert w.bank.post("/sim/faults/bank-hours", json={"nightly": "23:30-00:30"}).is_success
    auth, account_id = w.customer("010-7100-0001", "김하늘", "7100000000001")
    clock.at = datetime(2026, 12, 4, 23, 40, tzinfo=KST)
    sale = w.sell(auth, account_id, [w.buy("cultureland", 10_000), w.buy("munhwa", 5_000)], "n1")
    w.work()

    (payout,) = _payouts(w)
    assert payout.status == "pending" and payout.attempts == 0
    assert _transfers_to(w, "7100000000001") == []  # nobody called the closed bank
    assert w.bank.get("/sim/faults/bank-hours").json()["closed_refusals"] == 0

    _web_sign_in(w, "010-7100-0001")
    page = w.api.get(f"/submissions/{sale['id']}").text
    assert "은행 점검 시간으로 00:30 이후 입금" in page
    assert "은행 점검 시간으로 00:30 이후 입금" in w.api.get("/history").text
    w.api.cookies.set("gc_lang", "en")
    assert (
        "Your bank is closed for maintenance; paid after 00:30"
        in w.api.get(f"/submissions/{sale['id']}").text
    )
    w.api.cookies.set("gc_lang", "ko")

    clock.at = datetime(2026, 12, 5, 0, 31, tzinfo=KST)
    before = {part: _observed(part) for part in ("bank_window", "outside_bank_window")}
    w.work()
    # the payout time is counted in two parts: inside the bank's window, and outside it
    assert _observed("bank_window") == before["bank_window"] + 50 * 60
    assert _observed("outside_bank_window") == before["outside_bank_window"] + 60
    got = w.api.get(f"/v1/submissions/{sale['id']}", headers=auth).json()
    assert {i["status"] for i in got["items"]} == {"paid"}
    (payout,) = _payouts(w)
    sent = _transfers_to(w, "7100000000001")
    assert [x["bank_tran_id"] for x in sent] == [payout.bank_tran_id]  # paid once
    assert sent[0]["amount"] == payout.amount and sent[0]["status"] == "done"
    # 23:40 to 00:31, of which 23:40 to 00:30 the bank was closed
    assert payout.bank_window_s == 50 * 60
    with w.deps.reader() as uow:
        since = datetime(2026, 12, 4, 0, 0, tzinfo=UTC)
        assert uow.figures.payout_latencies_s(since, clock.at + timedelta(hours=1)) == [60.0]
    assert "은행 점검 시간으로" not in w.api.get(f"/submissions/{sale['id']}").text


def test_a_bank_closed_in_a_window_we_did_not_know_is_paid_once_after_its_reopening(night):
    w, clock = night
    clock.at = datetime(2026, 12, 4, 14, 0, tzinfo=KST)
    auth, account_id = w.customer("010-7100-0002", "박서준", "7100000000002")
    starts, ends = (datetime(2026, 12, 4, h, 5, tzinfo=KST) for h in (14, 15))
    maintenance = {"bank_code": "088", "starts_at": starts.isoformat(), "ends_at": ends.isoformat()}
    r = w.bank.post("/sim/faults/bank-hours", json={"maintenance": [maintenance]})
    assert r.is_success, r.text
    clock.at = datetime(2026, 12, 4, 14, 10, tzinfo=KST)
    sale = w.sell(auth, account_id, [w.buy("cultureland", 10_000)], "u1")
    w.work()

    (payout,) = _payouts(w)
    assert payout.status == "sending" and payout.attempts == 0  # not counted as a failure
    assert payout.next_attempt_at == payout.bank_closed_until == ends
    assert w.bank.get("/sim/faults/bank-hours").json()["closed_refusals"] == 1
    assert _transfers_to(w, "7100000000002") == []
    _web_sign_in(w, "010-7100-0002")
    assert "은행 점검 시간으로 15:05 이후 입금" in w.api.get(f"/submissions/{sale['id']}").text
    assert bank_hours.expected_payout(w.deps, "088", clock.at) is None  # not in our calendar

    clock.at = datetime(2026, 12, 4, 14, 40, tzinfo=KST)
    w.work()  # not due yet: the bank is not asked again before its reopening
    assert w.bank.get("/sim/faults/bank-hours").json()["closed_refusals"] == 1

    clock.at = datetime(2026, 12, 4, 15, 6, tzinfo=KST)
    w.work()
    got = w.api.get(f"/v1/submissions/{sale['id']}", headers=auth).json()
    assert {i["status"] for i in got["items"]} == {"paid"}
    sent = _transfers_to(w, "7100000000002")
    (payout,) = _payouts(w)
    assert [(x["bank_tran_id"], x["status"]) for x in sent] == [(payout.bank_tran_id, "done")]
    assert payout.bank_window_s == 55 * 60  # 14:10 to 15:05, as the bank announced


def test_operators_add_and_remove_maintenance_and_the_claim_obeys_it(night):
    w, clock = night
    clock.at = datetime(2026, 12, 4, 10, 0, tzinfo=KST)
    d = w.deps
    m = bank_hours.add_maintenance(
        d, "operator:test", "088", clock.at, clock.at + timedelta(hours=2), "정기 점검"
    )
    assert bank_hours.expected_payout(d, "088", clock.at) == clock.at + timedelta(hours=2)
    row = next(r for r in bank_hours.overview(d) if r.bank_code == "088")
    assert row.reopens_at == clock.at + timedelta(hours=2) and row.maintenance == (m,)
    bank_hours.remove_maintenance(d, "operator:test", m.id)
    assert bank_hours.expected_payout(d, "088", clock.at) is None
    with w.engine.connect() as conn:
        actions = [r.action for r in conn.execute(select(t.audit_log.c.action))]
    assert actions[-2:] == ["bank_hours.maintenance_add", "bank_hours.maintenance_remove"]


def test_an_account_is_not_added_while_its_bank_is_closed(night):
    """In its window the bank would refuse the 1-won deposit and the new account would
    fail: the customer is told when to come back, and nothing is asked, sent or stored."""
    w, clock = night
    assert w.bank.post("/sim/faults/bank-hours", json={"nightly": "23:30-00:30"}).is_success
    auth, _first = w.customer("010-7100-0009", "김하늘", "7100000000009")
    w.bank.post(
        "/sim/accounts",
        json={"bank_code": "088", "account_number": "7100000000010", "holder_name": "김하늘"},
    ).raise_for_status()
    clock.at = datetime(2026, 12, 4, 23, 50, tzinfo=KST)
    body = {"bank_code": "088", "account_number": "7100000000010", "holder_name": "김하늘"}

    r = w.api.post("/v1/bank-accounts", headers=auth, json=body)
    assert r.status_code == 503, r.text
    assert r.json()["code"] == "bank_closed"
    assert len(w.api.get("/v1/bank-accounts", headers=auth).json()["data"]) == 1
    assert (
        w.bank.get("/sim/accounts/088/7100000000010/transactions").json()["transactions"] == []
    )  # no 1-won deposit was tried

    _web_sign_in(w, "010-7100-0009")
    html = w.api.get("/accounts").text
    form = html[html.index('<form method="post" action="/accounts">') :]
    csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', form).group(1)
    token = re.search(r'name="form_token" value="([^"]+)"', form).group(1)
    page = w.api.post("/accounts", data={"csrf_token": csrf, "form_token": token, **body}).text
    assert "은행 점검 시간입니다. 00:30 이후에 계좌를 등록해 주세요." in page

    clock.at = datetime(2026, 12, 5, 0, 31, tzinfo=KST)
    r = w.api.post("/v1/bank-accounts", headers=auth, json=body)
    assert r.status_code == 201, r.text  # after the window it is added as usual
