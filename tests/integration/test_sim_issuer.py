"""The issuer simulator, driven in-process through its HTTP surface."""

from __future__ import annotations

import csv
import io
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from giftcash.domain.brands import CATALOGUE, Brand, find_brand
from giftcash.simulators import create_issuer_app

T0 = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # 2026-03-02 08:30 in Korea


class FakeClock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(tmp_path: Path, clock: FakeClock) -> TestClient:
    return TestClient(create_issuer_app(tmp_path, clock=clock))


def first_face_value(brand: Brand) -> int:
    fv = brand.face_values
    return fv.fixed[0] if fv.fixed else fv.minimum


def sell(client: TestClient, brand_id: str = "cultureland", **extra: object) -> dict:
    brand = find_brand(brand_id)
    body = {"brand_id": brand_id, "face_value": first_face_value(brand), "purchase_channel": "cash"}
    r = client.post("/sim/vouchers", json={**body, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def redeem(client: TestClient, voucher: dict, key: str, **extra: object):
    issuer = find_brand(voucher["brand_id"]).issuer
    body = {"code": voucher["code"], "pin": voucher["pin"], **extra}
    return client.post(
        f"/v1/issuers/{issuer}/redemptions", json=body, headers={"Idempotency-Key": key}
    )


# -- selling -----------------------------------------------------------------------------


@pytest.mark.parametrize("brand", CATALOGUE, ids=lambda b: b.id)
def test_sold_codes_pass_their_brands_format(client: TestClient, brand: Brand) -> None:
    sold = sell(client, brand.id, count=40)["vouchers"]
    assert len(sold) == 40
    assert len({v["code"] for v in sold}) == 40
    fmt = brand.code_format
    for v in sold:
        assert fmt.validate(v["code"], v["pin"]) == (v["code"], v["pin"])
        assert len(v["code"]) in fmt.lengths
        assert set(v["code"]) <= set(fmt.alphabet)
        if fmt.prefixes:
            assert v["code"].startswith(fmt.prefixes)
        if fmt.pin_length is None:
            assert v["pin"] is None
        else:
            assert len(v["pin"]) == fmt.pin_length
        assert v["issuer"] == brand.issuer and v["currency"] == brand.currency


def test_an_issue_date_pin_is_the_korean_purchase_date(client: TestClient) -> None:
    for brand_id in ("booknlife", "happymoney"):
        v = sell(client, brand_id, purchased_at=T0.isoformat())
        assert v["pin"] == "20260302"


def test_a_sale_is_checked_like_the_real_catalogue(client: TestClient) -> None:
    ok = {"brand_id": "munhwa", "face_value": 10_000, "purchase_channel": "gift"}
    assert client.post("/sim/vouchers", json={**ok, "face_value": 12_345}).status_code == 422
    r = client.post("/sim/vouchers", json={**ok, "purchase_channel": "unknown"})
    assert r.json()["error"] == "invalid_purchase_channel"
    assert client.post("/sim/vouchers", json={**ok, "brand_id": "nope"}).status_code == 404


# -- redemption ----------------------------------------------------------------------------


def test_a_voucher_is_redeemed_once_then_already_redeemed(client: TestClient) -> None:
    v = sell(client, "munhwa", purchase_channel="debit_card")
    first = redeem(client, v, "key-1")
    assert first.status_code == 201
    body = first.json()
    assert body["status"] == "captured"
    assert body["amount"] == v["face_value"] and body["currency"] == "KRW"
    assert body["purchase_channel"] == "debit_card"
    second = redeem(client, v, "key-2")
    assert second.status_code == 409
    assert second.json()["error"] == "already_redeemed"
    assert client.get("/sim/redemptions").json()["count"] == 1
    assert client.get(f"/sim/vouchers/{v['voucher_id']}").json()["status"] == "used"


def test_the_same_key_twice_answers_the_first_answer_and_redeems_once(client: TestClient) -> None:
    v = sell(client)
    first = redeem(client, v, "key-1")
    again = redeem(client, v, "key-1")
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    listing = client.get("/sim/redemptions").json()
    assert listing["count"] == 1
    assert listing["codes_redeemed_more_than_once"] == 0


def test_a_refusal_is_replayed_too(client: TestClient) -> None:
    v = sell(client)
    client.post(f"/sim/vouchers/{v['voucher_id']}/use")
    assert redeem(client, v, "k").status_code == 409
    assert redeem(client, v, "k").json()["error"] == "already_redeemed"


def test_the_same_key_with_another_code_is_refused(client: TestClient) -> None:
    a, b = sell(client), sell(client)
    assert redeem(client, a, "key-1").status_code == 201
    reused = redeem(client, b, "key-1")
    assert reused.status_code == 422
    assert reused.json()["error"] == "idempotency_key_reused"
    assert client.get(f"/sim/vouchers/{b['voucher_id']}").json()["status"] == "active"
    assert client.get("/sim/redemptions").json()["count"] == 1


def test_unknown_code_wrong_pin_and_expiry(client: TestClient, clock: FakeClock) -> None:
    v = sell(client, "booknlife")
    unknown = {**v, "code": "1" * len(v["code"])}
    assert redeem(client, unknown, "a").json()["error"] == "not_found"
    wrong_pin = {**v, "pin": "19990101"}
    r = redeem(client, wrong_pin, "b")
    assert (r.status_code, r.json()["error"]) == (404, "not_found")
    clock.now = T0 + timedelta(days=366)  # sold valid for 365 days
    r = redeem(client, v, "c")
    assert (r.status_code, r.json()["error"]) == (410, "expired")
    assert client.get("/sim/redemptions").json()["count"] == 0


def test_a_voucher_can_be_made_expired_or_spent_by_someone_else(client: TestClient) -> None:
    a, b = sell(client, "shinsegae"), sell(client, "shinsegae")
    r = client.post("/sim/vouchers/expire", json={"brand_id": "shinsegae", "code": a["code"]})
    assert r.json()["status"] == "expired"
    assert redeem(client, a, "a").status_code == 410
    r = client.post("/sim/vouchers/use", json={"brand_id": "shinsegae", "code": b["code"]})
    assert r.json()["used_by"] == "other"
    assert redeem(client, b, "b").status_code == 409
    assert client.post(f"/sim/vouchers/{b['voucher_id']}/use").status_code == 409


def test_a_redemption_needs_a_key_and_the_whole_balance(client: TestClient) -> None:
    v = sell(client, "cultureland", face_value=20_000)
    r = client.post("/v1/issuers/cultureland/redemptions", json={"code": v["code"]})
    assert r.json()["error"] == "idempotency_key_required"
    r = redeem(client, v, "k", amount=10_000)
    assert (r.status_code, r.json()["error"]) == (422, "amount_mismatch")
    assert redeem(client, v, "k2", amount=20_000).status_code == 201


def test_a_code_is_redeemed_only_at_its_own_issuer(client: TestClient) -> None:
    v = sell(client, "starbucks_kr")
    r = client.post(
        "/v1/issuers/shinsegae/redemptions",
        json={"code": v["code"]},
        headers={"Idempotency-Key": "k"},
    )
    assert r.status_code == 404
    r = client.post(
        "/v1/issuers/nobody/redemptions", json={"code": v["code"]}, headers={"Idempotency-Key": "k"}
    )
    assert r.json()["error"] == "issuer_not_found"


def test_inquiry_by_key_finds_only_what_was_redeemed(client: TestClient) -> None:
    v = sell(client)
    assert client.get("/v1/issuers/cultureland/redemptions/key-1").status_code == 404
    first = redeem(client, v, "key-1").json()
    found = client.get("/v1/issuers/cultureland/redemptions/key-1")
    assert found.status_code == 200
    assert found.json() == first
    redeem(client, v, "key-2")  # a 409: that key redeemed nothing
    assert client.get("/v1/issuers/cultureland/redemptions/key-2").status_code == 404


def test_concurrent_redemptions_of_one_voucher_capture_it_once(client: TestClient) -> None:
    v = sell(client)
    sim = client.app.state.sim
    from giftcash.simulators.issuer import RedeemIn

    statuses: list[int] = []

    def attempt(i: int) -> None:
        status, _ = sim.redeem("cultureland", f"key-{i}", RedeemIn(code=v["code"]))
        statuses.append(status)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201] + [409] * 15
    assert client.get("/sim/redemptions").json()["count"] == 1


# -- balance inquiry -----------------------------------------------------------------------


def test_balance_inquiry_reports_status_and_purchase_channel(
    client: TestClient, clock: FakeClock
) -> None:
    v = sell(client, "happymoney", purchase_channel="carrier_billing")
    url = "/v1/issuers/happymoney/balance-inquiry"
    body = client.post(url, json={"code": v["code"], "pin": v["pin"]}).json()
    assert body["status"] == "active"
    assert body["purchase_channel"] == "carrier_billing"
    assert body["balance"] == body["face_value"] == v["face_value"]
    assert body["purchased_at"] == v["purchased_at"]
    assert client.post(url, json={"code": v["code"], "pin": "20000101"}).json() == {
        "status": "not_found",
        "face_value": None,
        "balance": None,
        "currency": None,
        "purchase_channel": None,
        "purchased_at": None,
        "expires_at": None,
    }
    redeem(client, v, "k")
    used = client.post(url, json={"code": v["code"], "pin": v["pin"]}).json()
    assert (used["status"], used["balance"]) == ("used", 0)
    w = sell(client, "happymoney")
    clock.now = T0 + timedelta(days=400)
    assert client.post(url, json={"code": w["code"], "pin": w["pin"]}).json()["status"] == "expired"


def test_an_issuer_without_inquiry_says_so(client: TestClient) -> None:
    v = sell(client, "google_play_kr")
    r = client.post("/v1/issuers/google/balance-inquiry", json={"code": v["code"]})
    assert (r.status_code, r.json()["error"]) == (404, "inquiry_not_supported")
    assert redeem(client, v, "k").status_code == 201  # it still redeems


# -- inspection ----------------------------------------------------------------------------


def test_no_answer_carries_the_code_back(client: TestClient) -> None:
    v = sell(client, "munhwa")
    code = v["code"]
    texts = [
        client.post("/v1/issuers/munhwa/balance-inquiry", json={"code": code}).text,
        redeem(client, v, "k").text,
        redeem(client, v, "k2").text,
        client.get("/v1/issuers/munhwa/redemptions/k").text,
        client.get("/sim/redemptions").text,
        client.get(f"/sim/vouchers/{v['voucher_id']}").text,
        client.get("/sim/settlement", params={"date": "2026-03-01"}).text,
        client.post(
            "/v1/issuers/munhwa/redemptions",
            json={"code": code, "amount": "lots"},
            headers={"Idempotency-Key": "bad"},
        ).text,
    ]
    for text in texts:
        assert code not in text
    listing = client.get("/sim/redemptions").json()["redemptions"][0]
    assert listing["masked_code"].endswith(code[-4:])
    assert listing["masked_code"].count("*") == len(code) - 4


def test_settlement_lists_the_days_redemptions(client: TestClient, clock: FakeClock) -> None:
    a, b = sell(client, "cultureland"), sell(client, "munhwa")
    ra = redeem(client, a, "ka").json()
    clock.now = T0 + timedelta(days=1)
    rb = redeem(client, b, "kb").json()
    r = client.get("/sim/settlement", params={"date": "2026-03-01"})
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows == [
        ["date", "issuer", "redemption_id", "idempotency_key", "amount", "currency"],
        ["2026-03-01", "cultureland", ra["redemption_id"], "ka", str(a["face_value"]), "KRW"],
    ]
    rows = list(csv.reader(io.StringIO(client.get("/sim/settlement?date=2026-03-02").text)))
    assert [r[2] for r in rows[1:]] == [rb["redemption_id"]]


def test_state_survives_a_new_app_on_the_same_directory(tmp_path: Path) -> None:
    first = TestClient(create_issuer_app(tmp_path))
    a, b = sell(first), sell(first)
    redeemed = redeem(first, a, "key-a").json()
    second = TestClient(create_issuer_app(tmp_path))
    assert redeem(second, a, "key-a").json() == redeemed
    assert redeem(second, a, "key-x").status_code == 409
    assert redeem(second, b, "key-b").status_code == 201
    assert second.get("/sim/redemptions").json()["count"] == 2


# -- product coupons (물품형) -------------------------------------------------------------


def test_product_coupons_are_sold_by_product_and_answer_what_they_name(client) -> None:
    sim = client
    sold = sim.post(
        "/sim/vouchers",
        json={"brand_id": "baskin_robbins_coupon", "product_id": "pint",
              "purchase_channel": "gift", "valid_days": 30},
    )  # fmt: skip
    assert sold.status_code == 201, sold.text
    body = sold.json()
    assert body["kind"] == "product" and body["product_id"] == "pint"
    assert body["face_value"] == body["list_price"] == 9_800
    inquiry = sim.post("/v1/issuers/br_korea/balance-inquiry", json={"code": body["code"]}).json()
    assert inquiry["status"] == "active" and inquiry["product_name_ko"] == "파인트"
    assert inquiry["spent_when"] is None
    assert inquiry["expires_at"] == body["expires_at"]  # what the policy judges at admission
    assert sim.post(f"/sim/vouchers/{body['voucher_id']}/use").status_code == 200
    spent = sim.post("/v1/issuers/br_korea/balance-inquiry", json={"code": body["code"]}).json()
    assert spent["status"] == "used" and spent["spent_at"] == "other" and spent["spent_when"]
    by_price = sim.post(
        "/sim/vouchers",
        json={"brand_id": "starbucks_coupon", "face_value": 4_700, "purchase_channel": "gift"},
    ).json()
    assert by_price["product_id"] == "americano_tall"
    wrong = sim.post(
        "/sim/vouchers",
        json={"brand_id": "starbucks_coupon", "face_value": 4_800, "purchase_channel": "gift"},
    )
    assert wrong.status_code == 422 and wrong.json()["error"] == "product_not_found"
