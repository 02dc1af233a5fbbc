"""The exchange's own HTTP adapters against the simulators: the two sides agree on the
shape (a contract test; the adapters are driven in-process through TestClient)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from giftcash.adapters.banks.openbanking import OpenBankingBank
from giftcash.adapters.issuers.http_issuer import HttpIssuer
from giftcash.adapters.sms.http_sms import HttpSms
from giftcash.service.ports import Ambiguous, Unavailable
from giftcash.simulators import create_bank_app, create_issuer_app, create_sms_app


def test_issuer_adapter_resolves_a_lost_answer_by_inquiry(tmp_path: Path) -> None:
    client = TestClient(create_issuer_app(tmp_path))
    issuer = HttpIssuer("http://sim", client=client)
    sold = client.post(
        "/sim/vouchers",
        json={"brand_id": "booknlife", "face_value": 10_000, "purchase_channel": "gift"},
    ).json()
    info = issuer.inquire_balance("booknlife", sold["code"], sold["pin"])
    assert info is not None
    assert (info.status, info.purchase_channel, info.balance) == ("active", "gift", 10_000)

    client.post("/sim/faults", json={"lost_answer_rate": 1.0})
    with pytest.raises(Ambiguous):
        issuer.redeem("booknlife", "item-1", sold["code"], sold["pin"])
    client.delete("/sim/faults")
    found = issuer.redemption_by_key("booknlife", "item-1")
    assert found is not None
    assert (found.outcome, found.amount, found.currency) == ("captured", 10_000, "KRW")
    assert issuer.redemption_by_key("booknlife", "item-2") is None
    assert issuer.redeem("booknlife", "item-2", sold["code"], sold["pin"]).outcome == (
        "already_redeemed"
    )


def test_issuer_adapter_sees_no_inquiry_for_google(tmp_path: Path) -> None:
    client = TestClient(create_issuer_app(tmp_path))
    assert (
        HttpIssuer("http://sim", client=client).inquire_balance("google", "ABCDEFGHJKLM", None)
        is None
    )


def test_bank_adapter_verifies_deposits_and_inquires(tmp_path: Path) -> None:
    client = TestClient(create_bank_app(tmp_path))
    client.post(
        "/sim/accounts",
        json={
            "bank_code": "004",
            "account_number": "123456789012",
            "holder_name": "홍길동",
            "birth_date": "1990-01-02",
        },
    )
    bank = OpenBankingBank("http://sim", client=client)
    holder = bank.real_name("004", "123456789012", date(1990, 1, 2))
    assert (holder.found, holder.holder_name) == (True, "홍길동")
    assert not bank.real_name("004", "999999999999", date(1990, 1, 2)).found

    tran_id = "M202600001U00000000A"
    assert bank.deposit(tran_id, "004", "123456789012", "홍길동", 1, "GC 1234").outcome == "done"
    assert bank.deposit(tran_id, "004", "123456789012", "홍길동", 1, "GC 1234").outcome == "done"
    assert client.get("/sim/operating-account").json()["balance"] == 1_000_000_000_000 - 1
    assert bank.transfer_result(tran_id, 1, date.today()).outcome == "done"
    client.post(f"/sim/transfers/{tran_id}/return", json={"reason": "closed"})
    assert bank.transfer_result(tran_id, 1, date.today()).outcome == "returned"
    assert bank.transfer_result("M202600001U00000000B", 1, date.today()).outcome == "not_found"
    refused = bank.deposit("M202600001U00000000C", "004", "123456789012", "김철수", 1, "GC")
    assert refused.outcome == "rejected"

    client.post("/sim/faults", json={"error_rate": 1.0})
    with pytest.raises(Ambiguous):  # a 503 on a money call is ambiguous to the client
        bank.deposit("M202600001U00000000D", "004", "123456789012", "홍길동", 1, "GC")
    with pytest.raises(Unavailable):
        bank.real_name("004", "123456789012", date(1990, 1, 2))


def test_sms_adapter_sends_once_per_key(tmp_path: Path) -> None:
    client = TestClient(create_sms_app(tmp_path))
    sms = HttpSms("http://sim", client=client)
    sms.send("01012345678", "giftcash code 123456", "signup-1")
    sms.send("01012345678", "giftcash code 123456", "signup-1")
    messages = client.get("/sim/outbox", params={"to": "01012345678"}).json()["messages"]
    assert [m["text"] for m in messages] == ["giftcash code 123456"]
