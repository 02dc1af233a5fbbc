"""The open-banking style bank simulator."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from giftcash.simulators import create_bank_app

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
OPENING = 1_000_000


class FakeClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def bank(tmp_path: Path, clock: FakeClock) -> TestClient:
    client = TestClient(create_bank_app(tmp_path, clock=clock, opening_balance=OPENING))
    r = client.post(
        "/sim/accounts",
        json={
            "bank_code": "090",
            "account_number": "3333-01-2345678",
            "holder_name": "홍길동",
            "birth_date": "1990-01-02",
        },
    )
    assert r.status_code == 201, r.text
    return client


ACCOUNT = "3333012345678"


def real_name(bank: TestClient, account: str = ACCOUNT, info: str = "900102") -> dict:
    r = bank.post(
        "/v2.0/inquiry/real_name",
        json={
            "bank_code_std": "090",
            "account_num": account,
            "account_holder_info_type": " ",
            "account_holder_info": info,
            "tran_dtime": "20260301180000",
        },
    )
    assert r.status_code == 200
    return r.json()


def deposit(
    bank: TestClient,
    tran_id: str = "M202600001U000000001",
    amount: int = 10_000,
    holder: str = "홍길동",
    account: str = ACCOUNT,
    memo: str = "GIFTCASH",
    name_check: str = "on",
) -> dict:
    r = bank.post(
        "/v2.0/transfer/deposit/acnt_num",
        json={
            "cntr_account_type": "N",
            "cntr_account_num": "00000000000001",
            "wd_pass_phrase": "NONE",
            "wd_print_content": f"payout {tran_id[-4:]}",
            "name_check_option": name_check,
            "tran_dtime": "20260301180000",
            "req_cnt": 1,
            "req_list": [
                {
                    "tran_no": "1",
                    "bank_tran_id": tran_id,
                    "bank_code_std": "090",
                    "account_num": account,
                    "account_holder_name": holder,
                    "print_content": memo,
                    "tran_amt": str(amount),
                    "req_client_name": "giftcash",
                    "req_client_bank_code": "004",
                    "req_client_account_num": "00000000000001",
                    "transfer_purpose": "TR",
                }
            ],
        },
    )
    assert r.status_code == 200, r.text
    return r.json()


def result(bank: TestClient, tran_id: str, amount: int = 10_000) -> dict:
    r = bank.post(
        "/v2.0/transfer/result",
        json={
            "check_type": "2",
            "tran_dtime": "20260301180100",
            "req_cnt": 1,
            "req_list": [
                {
                    "tran_no": "1",
                    "org_bank_tran_id": tran_id,
                    "org_bank_tran_date": "20260301",
                    "org_tran_amt": str(amount),
                }
            ],
        },
    )
    assert r.status_code == 200
    return r.json()["res_list"][0]


def operating_balance(bank: TestClient) -> int:
    return bank.get("/sim/operating-account").json()["balance"]


def customer(bank: TestClient) -> dict:
    return bank.get(f"/sim/accounts/090/{ACCOUNT}/transactions").json()


def statement(bank: TestClient, **params: str) -> list[dict]:
    r = bank.get("/sim/statement", params=params)
    assert r.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(r.text)))


# -- real-name inquiry ---------------------------------------------------------------------


def test_real_name_of_an_opened_account(bank: TestClient) -> None:
    body = real_name(bank)
    assert (body["rsp_code"], body["bank_rsp_code"]) == ("A0000", "000")
    assert body["account_holder_name"] == "홍길동"
    assert body["bank_code_std"] == "090"


def test_real_name_of_an_account_never_opened_fails(bank: TestClient) -> None:
    body = real_name(bank, account="3333019999999")
    assert body["rsp_code"] != "A0000"
    assert body["bank_rsp_code"] == "412"
    assert body["bank_rsp_message"]
    assert body["account_holder_name"] == ""


def test_real_name_checks_the_birth_date(bank: TestClient) -> None:
    body = real_name(bank, info="900103")
    assert (body["rsp_code"], body["bank_rsp_code"]) == ("A0002", "820")


# -- deposits ------------------------------------------------------------------------------


def test_a_deposit_moves_money_and_shows_its_memo(bank: TestClient) -> None:
    body = deposit(bank, memo="GC 4821")
    assert body["rsp_code"] == "A0000"
    item = body["res_list"][0]
    assert item["bank_rsp_code"] == "000"
    assert (item["bank_tran_id"], item["tran_amt"]) == ("M202600001U000000001", "10000")
    assert operating_balance(bank) == OPENING - 10_000
    seen = customer(bank)
    assert seen["account"]["balance"] == 10_000
    assert [(t["direction"], t["amount"], t["memo"]) for t in seen["transactions"]] == [
        ("in", 10_000, "GC 4821")
    ]
    [t] = bank.get("/sim/transfers").json()["transfers"]
    assert (t["status"], t["print_content"], t["holder"]) == ("done", "GC 4821", "홍길동")


def test_the_same_bank_tran_id_moves_money_once(bank: TestClient) -> None:
    first = deposit(bank)
    second = deposit(bank)
    assert second == first
    assert operating_balance(bank) == OPENING - 10_000
    assert customer(bank)["account"]["balance"] == 10_000
    assert bank.get("/sim/transfers").json()["count"] == 1
    assert len(statement(bank)) == 1


def test_the_same_bank_tran_id_with_another_amount_is_refused(bank: TestClient) -> None:
    deposit(bank)
    other = deposit(bank, amount=99_000)
    assert other["rsp_code"] != "A0000"
    assert other["res_list"][0]["bank_rsp_code"] == "409"
    assert operating_balance(bank) == OPENING - 10_000


def test_a_deposit_to_an_unknown_account_moves_nothing(bank: TestClient) -> None:
    body = deposit(bank, account="3333019999999")
    assert body["rsp_code"] != "A0000"
    assert body["res_list"][0]["bank_rsp_code"] == "412"
    assert operating_balance(bank) == OPENING
    assert statement(bank) == []
    assert result(bank, "M202600001U000000001")["status"] == "rejected"


def test_name_check_refuses_another_holder(bank: TestClient) -> None:
    refused = deposit(bank, holder="김철수")
    assert refused["res_list"][0]["bank_rsp_code"] == "815"
    assert customer(bank)["account"]["balance"] == 0
    unchecked = deposit(bank, tran_id="M202600001U000000002", holder="김철수", name_check="off")
    assert unchecked["rsp_code"] == "A0000"
    assert deposit(bank, tran_id="M202600001U000000003", holder="홍 길동")["rsp_code"] == "A0000"


def test_a_deposit_beyond_the_operating_balance_is_refused(bank: TestClient) -> None:
    body = deposit(bank, amount=OPENING + 1)
    assert body["res_list"][0]["bank_rsp_code"] == "551"
    assert operating_balance(bank) == OPENING


def test_a_malformed_deposit_is_refused_without_echo(bank: TestClient) -> None:
    r = bank.post("/v2.0/transfer/deposit/acnt_num", json={"req_cnt": 2, "req_list": []})
    assert r.status_code == 422
    assert r.json()["rsp_code"] == "O0001"


# -- result inquiry and returns ------------------------------------------------------------


def test_result_inquiry_reports_done_and_not_found(bank: TestClient) -> None:
    deposit(bank)
    done = result(bank, "M202600001U000000001")
    assert (done["status"], done["bank_rsp_code"], done["tran_amt"]) == ("done", "000", "10000")
    missing = result(bank, "M202600001U999999999")
    assert missing["status"] == "not_found"
    assert missing["bank_rsp_code"] != "000"


def test_a_return_bounces_the_transfer(bank: TestClient, clock: FakeClock) -> None:
    deposit(bank, memo="GC payout")
    clock.now = T0 + timedelta(hours=2)
    r = bank.post("/sim/transfers/M202600001U000000001/return", json={"reason": "account closed"})
    assert r.status_code == 200
    assert r.json()["status"] == "returned"
    assert result(bank, "M202600001U000000001")["status"] == "returned"
    assert operating_balance(bank) == OPENING
    assert customer(bank)["account"]["balance"] == 0
    again = bank.post("/sim/transfers/M202600001U000000001/return", json={"reason": "x"})
    assert again.status_code == 409
    assert bank.post("/sim/transfers/NOPE/return", json={"reason": "x"}).status_code == 404


def test_the_statement_has_a_line_per_transfer_and_return(
    bank: TestClient, clock: FakeClock
) -> None:
    deposit(bank, tran_id="M202600001U000000001", amount=10_000)
    deposit(bank, tran_id="M202600001U000000002", amount=1)
    clock.now = T0 + timedelta(days=1)
    bank.post("/sim/transfers/M202600001U000000001/return", json={"reason": "closed"})
    lines = statement(bank)
    assert list(lines[0]) == [
        "date",
        "bank_tran_id",
        "direction",
        "amount",
        "balance_after",
        "counterparty",
        "memo",
        "status",
        "at",
    ]
    assert [
        (x["date"], x["bank_tran_id"][-1], x["direction"], x["amount"], x["balance_after"])
        for x in lines
    ] == [
        ("2026-03-01", "1", "out", "10000", str(OPENING - 10_000)),
        ("2026-03-01", "2", "out", "1", str(OPENING - 10_001)),
        ("2026-03-02", "1", "in", "10000", str(OPENING - 1)),
    ]
    assert [x["status"] for x in lines] == ["done", "done", "returned"]
    assert lines[0]["memo"] == "payout 0001"
    assert lines[2]["memo"] == "closed"
    assert "홍길동" in lines[0]["counterparty"] and ACCOUNT not in lines[0]["counterparty"]
    assert [x["bank_tran_id"] for x in statement(bank, date="2026-03-02")] == [
        "M202600001U000000001"
    ]


def test_a_settlement_delay_keeps_a_deposit_pending(tmp_path: Path, clock: FakeClock) -> None:
    bank = TestClient(
        create_bank_app(tmp_path, clock=clock, opening_balance=OPENING, settlement_delay_s=60)
    )
    bank.post(
        "/sim/accounts",
        json={"bank_code": "090", "account_number": ACCOUNT, "holder_name": "홍길동"},
    )
    assert deposit(bank)["rsp_code"] == "A0000"
    assert result(bank, "M202600001U000000001")["status"] == "pending"
    assert customer(bank)["transactions"] == []
    held = bank.get("/sim/operating-account").json()
    assert (held["balance"], held["pending"]) == (OPENING, 10_000)
    too_much = deposit(bank, tran_id="M202600001U000000002", amount=OPENING - 9_999)
    assert too_much["res_list"][0]["bank_rsp_code"] == "551"  # the pending amount is held
    assert bank.post("/sim/transfers/M202600001U000000001/return", json={}).status_code == 409
    clock.now = T0 + timedelta(seconds=61)
    assert result(bank, "M202600001U000000001")["status"] == "done"
    assert customer(bank)["account"]["balance"] == 10_000
    [line] = statement(bank)
    assert (line["balance_after"], line["at"]) == (
        str(OPENING - 10_000),
        (T0 + timedelta(seconds=60)).isoformat(),
    )


def test_state_survives_a_new_app_on_the_same_directory(tmp_path: Path) -> None:
    first = TestClient(create_bank_app(tmp_path, opening_balance=OPENING))
    first.post(
        "/sim/accounts",
        json={"bank_code": "090", "account_number": ACCOUNT, "holder_name": "홍길동"},
    )
    deposit(first)
    second = TestClient(create_bank_app(tmp_path, opening_balance=5))
    assert real_name(second)["account_holder_name"] == "홍길동"
    assert deposit(second)["rsp_code"] == "A0000"  # the replay, not a new transfer
    assert operating_balance(second) == OPENING - 10_000
    assert result(second, "M202600001U000000001")["status"] == "done"
    assert len(statement(second)) == 1


def test_opening_an_account_twice(bank: TestClient) -> None:
    same = {"bank_code": "090", "account_number": ACCOUNT, "holder_name": "홍길동"}
    assert bank.post("/sim/accounts", json=same).status_code == 200
    other = {**same, "holder_name": "김철수"}
    assert bank.post("/sim/accounts", json=other).status_code == 409
    bad = {**same, "bank_code": "999"}
    assert bank.post("/sim/accounts", json=bad).json()["error"] == "invalid_bank_account"
