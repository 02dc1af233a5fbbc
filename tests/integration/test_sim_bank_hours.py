"""The bank simulator's bank-hours fault mode and the open-banking adapter's reading of
it: inside a bank's window a deposit answers 531 with ``available_dtime`` (Korean time,
rounded up to the second), is not kept (the same ``bank_tran_id`` goes through once the
bank opens), and the adapter raises ``BankClosed`` with the reopening."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from giftcash.adapters.banks.openbanking import OpenBankingBank
from giftcash.domain.bank_hours import KST
from giftcash.service.ports import BankClosed
from giftcash.simulators import create_bank_app


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def sim(tmp_path: Path):
    clock = Clock(datetime(2026, 12, 4, 23, 50, 12, 250_000, tzinfo=KST))
    client = TestClient(create_bank_app(tmp_path, clock=clock))
    for bank in ("088", "090"):
        client.post(
            "/sim/accounts",
            json={"bank_code": bank, "account_number": "333301234567", "holder_name": "홍길동"},
        ).raise_for_status()
    return client, clock


def test_a_deposit_inside_the_window_is_refused_as_closed_and_not_kept(sim):
    client, clock = sim
    hours = {"nightly": "23:30-00:30", "per_bank": {"090": "none"}}
    assert client.post("/sim/faults/bank-hours", json=hours).json()["bank_hours"]["nightly"] == (
        "23:30-00:30"
    )
    bank = OpenBankingBank("http://sim", client=client, now=clock)
    with pytest.raises(BankClosed) as refused:
        bank.deposit("M202600001U00000000A", "088", "333301234567", "홍길동", 5_000, "giftcash")
    assert refused.value.reopens_at == datetime(2026, 12, 5, 0, 30, tzinfo=KST)
    assert client.get("/sim/transfers").json()["count"] == 0  # nothing kept
    assert bank.transfer_result("M202600001U00000000A", 5_000, clock.at.date()).outcome == (
        "not_found"
    )
    # a bank without a window takes the transfer
    done = bank.deposit("M202600001U00000000B", "090", "333301234567", "홍길동", 5_000, "gc")
    assert done.outcome == "done"
    assert client.get("/sim/faults/bank-hours").json()["closed_refusals"] == 1

    clock.at = datetime(2026, 12, 5, 0, 30, tzinfo=KST)
    again = bank.deposit("M202600001U00000000A", "088", "333301234567", "홍길동", 5_000, "giftcash")
    assert again.outcome == "done"
    ids = [t["bank_tran_id"] for t in client.get("/sim/transfers").json()["transfers"]]
    assert sorted(ids) == ["M202600001U00000000A", "M202600001U00000000B"]


def test_maintenance_announces_its_end_rounded_up_and_delete_opens_every_bank(sim):
    client, clock = sim
    ends = clock.at + timedelta(minutes=20, microseconds=400)
    window = {"bank_code": "090", "starts_at": clock.at.isoformat(), "ends_at": ends.isoformat()}
    assert client.post("/sim/faults/bank-hours", json={"maintenance": [window]}).is_success
    r = client.post(
        "/v2.0/transfer/deposit/acnt_num",
        json={
            "req_cnt": 1,
            "req_list": [
                {"bank_tran_id": "X1", "bank_code_std": "090", "account_num": "333301234567",
                 "account_holder_name": "홍길동", "tran_amt": "1000"}
            ],
        },
    )  # fmt: skip
    item = r.json()["res_list"][0]
    assert (r.json()["rsp_code"], item["bank_rsp_code"]) == ("A0002", "531")
    assert item["available_dtime"] == "20261205001013"  # 00:10:12.250400 rounded up
    assert client.delete("/sim/faults/bank-hours").json()["bank_hours"] is None
    bank = OpenBankingBank("http://sim", client=client)
    assert bank.deposit("X1", "090", "333301234567", "홍길동", 1000, "").outcome == "done"


@pytest.mark.parametrize(
    "hours",
    [
        {"nightly": "25:00-01:00"},
        {"per_bank": {"088": "soon"}},
        {"maintenance": [{"bank_code": "088", "starts_at": "2026-12-05T01:00:00+09:00",
                          "ends_at": "2026-12-05T00:00:00+09:00"}]},
    ],
)  # fmt: skip
def test_a_malformed_calendar_is_refused(sim, hours):
    client, _ = sim
    r = client.post("/sim/faults/bank-hours", json=hours)
    assert r.status_code == 422 and r.json()["error"] == "invalid_bank_hours"
    assert client.get("/sim/faults/bank-hours").json()["bank_hours"] is None


def test_the_reopening_is_read_as_korean_time(tmp_path: Path):
    from giftcash.adapters.banks import openbanking

    assert openbanking._kst("20261205003000") == datetime(2026, 12, 4, 15, 30, tzinfo=UTC)
    assert openbanking._kst("2026120500300") is None and openbanking._kst(None) is None
    assert openbanking._kst("20261399003000") is None
