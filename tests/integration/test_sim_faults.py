"""Fault injection: what each fault does, and what it leaves behind on the other side."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from giftcash.simulators import create_bank_app, create_issuer_app, create_sms_app
from giftcash.simulators.faults import DroppedConnection


@pytest.fixture
def issuer(tmp_path: Path) -> TestClient:
    return TestClient(create_issuer_app(tmp_path))


def sell(client: TestClient) -> dict:
    body = {"brand_id": "cultureland", "face_value": 10_000, "purchase_channel": "cash"}
    r = client.post("/sim/vouchers", json=body)
    assert r.status_code == 201
    return r.json()


def redeem(client: TestClient, voucher: dict, key: str):
    return client.post(
        "/v1/issuers/cultureland/redemptions",
        json={"code": voucher["code"]},
        headers={"Idempotency-Key": key},
    )


def faults(client: TestClient, **config: object) -> dict:
    r = client.post("/sim/faults", json=config)
    assert r.status_code == 200, r.text
    return r.json()


def test_error_rate_answers_503_and_does_nothing(issuer: TestClient) -> None:
    v = sell(issuer)
    faults(issuer, error_rate=1.0)
    r = redeem(issuer, v, "key-1")
    assert r.status_code == 503
    issuer.delete("/sim/faults")
    assert issuer.get("/sim/redemptions").json()["count"] == 0
    assert issuer.get("/v1/issuers/cultureland/redemptions/key-1").status_code == 404
    assert issuer.get(f"/sim/vouchers/{v['voucher_id']}").json()["status"] == "active"
    assert redeem(issuer, v, "key-1").status_code == 201  # nothing was stored under the key


def test_lost_answer_does_the_work_and_inquiry_by_key_finds_it(issuer: TestClient) -> None:
    v = sell(issuer)
    faults(issuer, lost_answer_rate=1.0)
    lost = redeem(issuer, v, "key-1")
    assert lost.status_code == 503
    assert lost.json() == {"error": "service_unavailable"}  # looks like any other 503
    issuer.delete("/sim/faults")
    found = issuer.get("/v1/issuers/cultureland/redemptions/key-1")
    assert found.status_code == 200
    assert found.json()["status"] == "captured"
    retry = redeem(issuer, v, "key-1")  # a retry with the same key gets the same redemption
    assert retry.status_code == 201
    assert retry.json()["redemption_id"] == found.json()["redemption_id"]
    assert issuer.get("/sim/redemptions").json()["count"] == 1


def test_a_dropped_connection_also_keeps_the_work(issuer: TestClient) -> None:
    v = sell(issuer)
    faults(issuer, lost_answer_rate=1.0, lost_answer_mode="drop")
    with pytest.raises(DroppedConnection):
        redeem(issuer, v, "key-1")
    assert issuer.get("/sim/redemptions").json()["count"] == 1


def test_timeout_before_work_does_nothing(issuer: TestClient) -> None:
    v = sell(issuer)
    faults(issuer, timeout_rate=1.0, timeout_ms=1)
    assert redeem(issuer, v, "key-1").status_code == 504
    assert issuer.get("/sim/redemptions").json()["count"] == 0


def test_timeout_after_work_keeps_the_work(issuer: TestClient) -> None:
    v = sell(issuer)
    faults(issuer, timeout_after_work_rate=1.0, timeout_ms=1)
    assert redeem(issuer, v, "key-1").status_code == 504
    assert issuer.get("/sim/redemptions").json()["count"] == 1
    counts = issuer.get("/sim/faults").json()["counts"]
    assert counts == {
        "requests": 1,
        "error": 0,
        "timeout": 0,
        "timeout_after_work": 1,
        "lost_answer": 0,
    }


def test_sim_endpoints_are_never_faulted(issuer: TestClient) -> None:
    faults(issuer, error_rate=1.0)
    assert issuer.get("/sim/redemptions").status_code == 200
    assert sell(issuer)["code"]
    assert issuer.get("/sim/faults").json()["counts"]["requests"] == 0


def test_a_seed_replays_the_same_faults(issuer: TestClient) -> None:
    def run() -> list[int]:
        faults(issuer, error_rate=0.3, lost_answer_rate=0.3, seed=42)
        url = "/v1/issuers/cultureland/balance-inquiry"
        return [issuer.post(url, json={"code": "4160000000000000"}).status_code for _ in range(40)]

    first, second = run(), run()
    assert first == second
    assert {200, 503} <= set(first)  # both outcomes occur, so the test can tell them apart


def test_a_configuration_is_replaced_whole_and_reset(issuer: TestClient) -> None:
    faults(issuer, latency_ms=5, error_rate=0.5)
    shown = faults(issuer, timeout_rate=0.25)
    assert (shown["latency_ms"], shown["error_rate"], shown["timeout_rate"]) == (0, 0.0, 0.25)
    assert shown["timeout_ms"] == 10_000
    reset = issuer.delete("/sim/faults").json()
    assert reset["timeout_rate"] == 0.0


def test_an_impossible_configuration_is_refused(issuer: TestClient) -> None:
    assert (
        issuer.post("/sim/faults", json={"error_rate": 0.6, "timeout_rate": 0.6}).status_code == 422
    )
    assert issuer.post("/sim/faults", json={"error_rate": 1.5}).status_code == 422
    assert issuer.post("/sim/faults", json={"surprise": 1}).status_code == 422


def test_latency_still_answers(issuer: TestClient) -> None:
    faults(issuer, latency_ms=1, latency_jitter_ms=2, seed=1)
    r = issuer.post("/v1/issuers/cultureland/balance-inquiry", json={"code": "4160000000000000"})
    assert r.status_code == 200
    assert issuer.get("/sim/faults").json()["counts"]["requests"] == 1


def test_the_bank_and_the_sms_gateway_are_faulted_too(tmp_path: Path) -> None:
    bank = TestClient(create_bank_app(tmp_path))
    bank.post(
        "/sim/accounts",
        json={"bank_code": "088", "account_number": "110123456789", "holder_name": "김철수"},
    )
    faults(bank, error_rate=1.0)
    deposit = {
        "wd_print_content": "giftcash",
        "name_check_option": "on",
        "req_cnt": 1,
        "req_list": [
            {
                "tran_no": "1",
                "bank_tran_id": "M202600001U000000001",
                "bank_code_std": "088",
                "account_num": "110123456789",
                "account_holder_name": "김철수",
                "print_content": "GC",
                "tran_amt": "1000",
                "req_client_name": "giftcash",
            }
        ],
    }
    assert bank.post("/v2.0/transfer/deposit/acnt_num", json=deposit).status_code == 503
    assert bank.get("/sim/transfers").json()["count"] == 0

    sms = TestClient(create_sms_app(tmp_path))
    faults(sms, lost_answer_rate=1.0)
    assert sms.post("/v1/messages", json={"to": "01011112222", "text": "hi"}).status_code == 503
    assert sms.get("/sim/outbox").json()["count"] == 1  # sent, answer lost
