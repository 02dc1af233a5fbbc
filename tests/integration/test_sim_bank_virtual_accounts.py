"""The bank simulator's virtual accounts (가상계좌): issue, a payer's deposits, the signed
deposit notifications and their faults, the deposits inquiry, and returns in full once per
key, seen from the bank's side."""

from __future__ import annotations

import csv
import io
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from giftcash.adapters.banks.notifications import verify_deposit_notification
from giftcash.adapters.banks.statements import parse_statement
from giftcash.adapters.webhooks.signing import new_secret
from giftcash.service.ports.virtual_accounts import InvalidNotification
from giftcash.simulators import create_bank_app

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
OPENING = 1_000_000
SECRET = new_secret()
PRICE = 45_000
KST_DEADLINE = "20260302090000"  # 2026-03-02 00:00 UTC


class FakeClock:
    def __init__(self, at: datetime = T0) -> None:
        self.now = at

    def __call__(self) -> datetime:
        return self.now


class Receiver:
    """giftcash's notification endpoint as the bank sees it: answers ``statuses`` in
    turn (then 200) and keeps what arrived."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[bytes, dict[str, str]]] = []

    def __call__(self, body: bytes, headers: dict[str, str]) -> int:
        self.received.append((body, headers))
        return self.statuses.pop(0) if self.statuses else 200

    def deposit_ids(self) -> list[str]:
        return [json.loads(b)["data"]["deposit_id"] for b, _ in self.received]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
def bank(tmp_path: Path, clock: FakeClock, receiver: Receiver) -> TestClient:
    return TestClient(
        create_bank_app(
            tmp_path,
            clock=clock,
            opening_balance=OPENING,
            notification_sender=receiver,
            notification_secret=SECRET,
        )
    )


def issue(bank: TestClient, reference: str = "order-1", amount: int = PRICE) -> dict[str, Any]:
    r = bank.post(
        "/v2.0/vaccount/issue",
        json={
            "reference": reference,
            "tran_amt": str(amount),
            "account_holder_name": "기프트캐시",
            "expire_dtime": KST_DEADLINE,
            "tran_dtime": "20260301180000",
        },
    )
    assert r.status_code == 200, r.text
    return r.json()


def pay(
    bank: TestClient, number: str, amount: int = PRICE, name: str = "홍길동", status: int = 201
) -> dict[str, Any]:
    r = bank.post(
        f"/sim/virtual-accounts/{number}/deposits",
        json={
            "payer_name": name,
            "payer_bank_code": "090",
            "payer_account": "3333-01-2345678",
            "amount": amount,
        },
    )
    assert r.status_code == status, r.text
    return r.json()


def inquire(bank: TestClient, number: str) -> dict[str, Any]:
    r = bank.post("/v2.0/vaccount/deposits", json={"account_num": number})
    assert r.status_code == 200, r.text
    return r.json()


def give_back(
    bank: TestClient, key: str, deposit_id: str, amount: int = PRICE
) -> tuple[int, dict[str, Any]]:
    r = bank.post(
        "/v2.0/vaccount/return",
        json={"bank_tran_id": key, "deposit_id": deposit_id, "tran_amt": str(amount)},
    )
    return r.status_code, r.json()


def returned_for(bank: TestClient, deposit_id: str) -> list[dict[str, Any]]:
    rows = bank.get("/sim/returns", params={"deposit_id": deposit_id}).json()["returns"]
    return [r for r in rows if r["status"] == "returned"]


def operating_balance(bank: TestClient) -> int:
    return int(bank.get("/sim/operating-account").json()["balance"])


def statement(bank: TestClient) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(bank.get("/sim/statement").text)))


def notifications(bank: TestClient) -> list[dict[str, Any]]:
    return list(bank.get("/sim/notifications").json()["notifications"])


# -- issue -----------------------------------------------------------------------------------


def test_an_account_is_issued_once_per_reference(bank: TestClient) -> None:
    va = issue(bank)
    assert (va["rsp_code"], va["tran_amt"], va["expire_dtime"]) == ("A0000", "45000", KST_DEADLINE)
    assert va["bank_code_std"] == "004" and va["account_num"].isdigit()
    assert issue(bank)["account_num"] == va["account_num"]
    other = issue(bank, reference="order-2")
    assert other["account_num"] != va["account_num"]
    changed = issue(bank, amount=PRICE + 1)
    assert (changed["rsp_code"], changed["bank_rsp_code"]) == ("A0002", "408")
    listed = bank.get("/sim/virtual-accounts").json()
    assert listed["count"] == 2
    assert [a["reference"] for a in listed["virtual_accounts"]] == ["order-1", "order-2"]


# -- deposits: the bank takes what arrives ---------------------------------------------------


def test_the_bank_takes_every_deposit_and_the_inquiry_lists_them(
    bank: TestClient, clock: FakeClock
) -> None:
    number = issue(bank)["account_num"]
    pay(bank, number)  # exact, own name
    pay(bank, number, amount=PRICE - 5_000)  # short
    pay(bank, number, name="김철수")  # a stranger
    pay(bank, number)  # the same again
    clock.now = T0 + timedelta(days=2)  # after the deadline
    pay(bank, number)
    answer = inquire(bank, number)
    assert (answer["rsp_code"], answer["res_cnt"], answer["reference"]) == ("A0000", "5", "order-1")
    items = answer["res_list"]
    assert [(d["tran_amt"], d["payer_name"]) for d in items] == [
        ("45000", "홍길동"),
        ("40000", "홍길동"),
        ("45000", "김철수"),
        ("45000", "홍길동"),
        ("45000", "홍길동"),
    ]
    assert len({d["deposit_id"] for d in items}) == 5
    assert {d["state"] for d in items} == {"received"}
    assert items[-1]["received_at"] == (T0 + timedelta(days=2)).isoformat()
    assert all(d["payer_account_num_masked"].endswith("5678") for d in items)
    assert all("3333012345678" not in json.dumps(d) for d in items)
    assert operating_balance(bank) == OPENING + 4 * PRICE + PRICE - 5_000
    lines = [x for x in statement(bank) if x["status"] == "deposit"]
    assert [(x["direction"], x["amount"]) for x in lines][:2] == [("in", "45000"), ("in", "40000")]
    assert len(lines) == 5


def test_a_closed_account_takes_no_money(bank: TestClient) -> None:
    number = issue(bank)["account_num"]
    closed = bank.post("/v2.0/vaccount/close", json={"account_num": number}).json()
    assert (closed["rsp_code"], closed["status"]) == ("A0000", "closed")
    again = bank.post("/v2.0/vaccount/close", json={"account_num": number}).json()
    assert again["rsp_code"] == "A0000"
    assert pay(bank, number, status=409)["error"] == "account_closed"
    assert inquire(bank, number)["res_list"] == []
    assert operating_balance(bank) == OPENING
    assert pay(bank, "79999999999999", status=404)["error"] == "not_found"


# -- notifications ---------------------------------------------------------------------------


def test_a_deposit_is_notified_signed(
    bank: TestClient, receiver: Receiver, clock: FakeClock
) -> None:
    number = issue(bank)["account_num"]
    deposit = pay(bank, number, name="김철수")
    assert receiver.received == []  # sent by the delivery loop, not inside the deposit
    assert bank.post("/sim/notifications/deliver").json() == {"sent": 1}
    [(body, headers)] = receiver.received
    notice = verify_deposit_notification(SECRET, headers, body, now=clock.now)
    assert notice.notification_id == headers["webhook-id"]
    assert (notice.reference, notice.account_number, notice.bank_code) == ("order-1", number, "004")
    d = notice.deposit
    assert (d.deposit_id, d.amount, d.payer_name, d.state) == (
        deposit["deposit_id"],
        PRICE,
        "김철수",
        "received",
    )
    assert d.received_at == T0
    [n] = notifications(bank)
    assert (n["status"], n["attempts"], n["sends"]) == ("delivered", 1, 1)
    # tampered, signed with another secret, replayed too late: refused
    with pytest.raises(InvalidNotification):
        verify_deposit_notification(SECRET, headers, body.replace(b"45000", b"90000"), now=T0)
    with pytest.raises(InvalidNotification):
        verify_deposit_notification(new_secret(), headers, body, now=T0)
    with pytest.raises(InvalidNotification):
        verify_deposit_notification(SECRET, headers, body, now=T0 + timedelta(minutes=6))
    with pytest.raises(InvalidNotification):
        verify_deposit_notification(SECRET, {}, body, now=T0)


def test_the_standard_webhooks_library_accepts_the_signature(tmp_path: Path) -> None:
    """The peer judge: the reference implementation, on the real clock (it checks the
    timestamp against its own)."""
    receiver = Receiver()
    bank = TestClient(
        create_bank_app(tmp_path, notification_sender=receiver, notification_secret=SECRET)
    )
    number = issue(bank)["account_num"]
    pay(bank, number)
    bank.post("/sim/notifications/deliver")
    [(body, headers)] = receiver.received
    payload = Webhook(SECRET).verify(body, headers)
    assert payload["data"]["account_num"] == number
    assert payload["data"]["tran_amt"] == str(PRICE)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)


def test_a_refused_notification_is_retried_with_backoff_until_answered(
    tmp_path: Path, clock: FakeClock
) -> None:
    receiver = Receiver(500, 0)  # an error, then no answer at all, then 200
    bank = TestClient(
        create_bank_app(
            tmp_path,
            clock=clock,
            notification_sender=receiver,
            notification_secret=SECRET,
            notification_backoff_s=10,
        )
    )
    pay(bank, issue(bank)["account_num"])
    bank.post("/sim/notifications/deliver")
    [n] = notifications(bank)
    assert (n["status"], n["attempts"], n["last_answer"]) == ("pending", 1, "500")
    assert n["next_at"] == (T0 + timedelta(seconds=10)).isoformat()
    assert bank.post("/sim/notifications/deliver").json() == {"sent": 0}  # not yet due
    clock.now = T0 + timedelta(seconds=10)
    bank.post("/sim/notifications/deliver")
    [n] = notifications(bank)
    assert (n["status"], n["attempts"], n["last_answer"]) == ("pending", 2, "0")
    assert n["next_at"] == (clock.now + timedelta(seconds=20)).isoformat()  # doubled
    clock.now += timedelta(seconds=20)
    bank.post("/sim/notifications/deliver")
    bank.post("/sim/notifications/deliver")
    [n] = notifications(bank)
    assert (n["status"], n["attempts"], n["last_answer"]) == ("delivered", 3, "200")
    assert len(receiver.received) == 3
    assert len({h["webhook-id"] for _, h in receiver.received}) == 1  # one notification
    stamps = [int(h["webhook-timestamp"]) for _, h in receiver.received]
    assert stamps == sorted(stamps) and stamps[0] < stamps[-1]  # each attempt signed anew


def test_a_lost_notification_is_never_sent_but_the_inquiry_shows_the_deposit(
    bank: TestClient, receiver: Receiver
) -> None:
    bank.post("/sim/faults/notifications", json={"lost_rate": 1.0})
    number = issue(bank)["account_num"]
    deposit = pay(bank, number)
    bank.post("/sim/notifications/deliver")
    assert receiver.received == []
    assert [n["status"] for n in notifications(bank)] == ["lost"]
    assert bank.get("/sim/faults/notifications").json()["counts"]["lost"] == 1
    assert [d["deposit_id"] for d in inquire(bank, number)["res_list"]] == [deposit["deposit_id"]]


def test_a_repeated_notification_arrives_twice_with_one_id(
    bank: TestClient, receiver: Receiver
) -> None:
    bank.post("/sim/faults/notifications", json={"repeat_rate": 1.0})
    pay(bank, issue(bank)["account_num"])
    bank.post("/sim/notifications/deliver")
    assert len(receiver.received) == 2
    assert receiver.received[0][0] == receiver.received[1][0]
    assert receiver.received[0][1]["webhook-id"] == receiver.received[1][1]["webhook-id"]
    [n] = notifications(bank)
    assert (n["status"], n["copies"], n["sends"]) == ("delivered", 2, 2)


def test_notifications_out_of_order_come_newest_first(bank: TestClient, receiver: Receiver) -> None:
    bank.post("/sim/faults/notifications", json={"out_of_order": True})
    number = issue(bank)["account_num"]
    first = pay(bank, number)["deposit_id"]
    second = pay(bank, number, amount=1_000)["deposit_id"]
    bank.post("/sim/notifications/deliver")
    assert receiver.deposit_ids() == [second, first]


def test_a_delayed_notification_waits(
    bank: TestClient, receiver: Receiver, clock: FakeClock
) -> None:
    bank.post("/sim/faults/notifications", json={"delay_ms": 30_000})
    pay(bank, issue(bank)["account_num"])
    bank.post("/sim/notifications/deliver")
    assert receiver.received == []
    clock.now = T0 + timedelta(seconds=30)
    bank.post("/sim/notifications/deliver")
    assert len(receiver.received) == 1
    bank.delete("/sim/faults/notifications")
    assert bank.get("/sim/faults/notifications").json()["delay_ms"] == 0


def test_the_running_simulator_delivers_by_itself(tmp_path: Path) -> None:
    receiver = Receiver(503)
    app = create_bank_app(
        tmp_path,
        notification_sender=receiver,
        notification_secret=SECRET,
        notification_backoff_s=0.05,
        notification_poll_s=0.02,
    )
    with TestClient(app) as bank:
        pay(bank, issue(bank)["account_num"])
        for _ in range(1_000):  # a generous bound (20 s), not a timing assertion
            if notifications(bank)[0]["status"] == "delivered":
                break
            time.sleep(0.02)
        assert notifications(bank)[0]["status"] == "delivered"
    assert len(receiver.received) == 2


# -- returns ---------------------------------------------------------------------------------


def test_a_deposit_is_returned_once_per_key(bank: TestClient) -> None:
    number = issue(bank)["account_num"]
    deposit_id = pay(bank, number, name="김철수")["deposit_id"]
    status, first = give_back(bank, "RET-0001", deposit_id)
    assert (status, first["rsp_code"], first["status"], first["tran_amt"]) == (
        200,
        "A0000",
        "returned",
        "45000",
    )
    _, again = give_back(bank, "RET-0001", deposit_id)
    assert (again["rsp_code"], again["status"]) == ("A0000", "returned")
    _, other_key = give_back(bank, "RET-0002", deposit_id)
    assert (other_key["rsp_code"], other_key["bank_rsp_code"]) == ("A0002", "610")
    assert len(returned_for(bank, deposit_id)) == 1
    assert operating_balance(bank) == OPENING
    assert [d["state"] for d in inquire(bank, number)["res_list"]] == ["returned"]
    transfers = bank.get("/sim/transfers").json()["transfers"]
    assert [(t["bank_tran_id"], t["amount"], t["holder"]) for t in transfers] == [
        ("RET-0001", PRICE, "김철수")
    ]


def test_a_return_whose_answer_was_lost_happened_once(bank: TestClient) -> None:
    number = issue(bank)["account_num"]
    deposit_id = pay(bank, number)["deposit_id"]
    bank.post("/sim/faults", json={"lost_answer_rate": 1.0})
    status, _ = give_back(bank, "RET-0001", deposit_id)
    assert status == 503  # succeeded, but the answer was lost
    status, _ = give_back(bank, "RET-0001", deposit_id)  # a blind retry, lost again
    assert status == 503
    bank.delete("/sim/faults")
    found = bank.post("/v2.0/vaccount/return/result", json={"org_bank_tran_id": "RET-0001"})
    assert (found.json()["status"], found.json()["deposit_id"]) == ("returned", deposit_id)
    _, again = give_back(bank, "RET-0001", deposit_id)
    assert again["status"] == "returned"
    assert len(returned_for(bank, deposit_id)) == 1
    assert operating_balance(bank) == OPENING
    nothing = bank.post("/v2.0/vaccount/return/result", json={"org_bank_tran_id": "RET-0009"})
    assert nothing.json()["status"] == "not_found"


def test_a_return_is_whole_and_for_a_known_deposit(bank: TestClient) -> None:
    deposit_id = pay(bank, issue(bank)["account_num"])["deposit_id"]
    _, part = give_back(bank, "RET-0001", deposit_id, amount=PRICE - 1)
    assert (part["status"], part["bank_rsp_code"]) == ("rejected", "611")
    _, again = give_back(bank, "RET-0001", deposit_id)  # the key's first answer stands
    assert again["bank_rsp_code"] == "409"
    _, unknown = give_back(bank, "RET-0002", "VD999999999999")
    assert unknown["bank_rsp_code"] == "404"
    assert returned_for(bank, deposit_id) == []
    _, whole = give_back(bank, "RET-0003", deposit_id)
    assert whole["status"] == "returned"
    assert len(returned_for(bank, deposit_id)) == 1


def test_the_statement_lists_the_deposit_and_its_return(bank: TestClient) -> None:
    opened = {"bank_code": "090", "account_number": "3333012345678", "holder_name": "김철수"}
    assert bank.post("/sim/accounts", json={**opened, "balance": PRICE}).status_code == 201
    deposit_id = pay(bank, issue(bank)["account_num"], name="김철수")["deposit_id"]
    give_back(bank, "RET-0001", deposit_id)
    payer = bank.get("/sim/accounts/090/3333012345678/transactions").json()
    assert [(t["direction"], t["amount"], t["balance_after"], t["counterparty"])
            for t in payer["transactions"]] == [
        ("out", PRICE, 0, "giftcash"),
        ("in", PRICE, PRICE, "giftcash"),
    ]  # fmt: skip
    lines = statement(bank)
    assert [
        (x["bank_tran_id"], x["direction"], x["amount"], x["balance_after"], x["status"])
        for x in lines
    ] == [
        (deposit_id, "in", "45000", str(OPENING + PRICE), "deposit"),
        ("RET-0001", "out", "45000", str(OPENING), "deposit_return"),
    ]
    assert "김철수" in lines[1]["counterparty"] and "3333012345678" not in lines[1]["counterparty"]
    # the bank reconciliation's reader takes both lines (matching them is later work)
    read = list(parse_statement(bank.get("/sim/statement").text.splitlines()))
    assert [(x.bank_tran_id, x.direction, x.amount, x.status) for x in read] == [
        (deposit_id, "in", PRICE, "deposit"),
        ("RET-0001", "out", PRICE, "deposit_return"),
    ]


def test_the_bank_api_is_faulted_and_the_sim_endpoints_are_not(bank: TestClient) -> None:
    number = issue(bank)["account_num"]
    bank.post("/sim/faults", json={"error_rate": 1.0})
    assert bank.post("/v2.0/vaccount/deposits", json={"account_num": number}).status_code == 503
    pay(bank, number)
    assert bank.get("/sim/virtual-accounts").json()["virtual_accounts"][0]["deposits"] != []


def test_a_return_the_bank_cannot_make_now_is_not_kept_under_its_key(
    tmp_path: Path, clock: FakeClock
) -> None:
    """The payer's bank closed (531) or our account short (551): nothing moves and the
    same key goes through later."""
    bank = TestClient(create_bank_app(tmp_path, clock=clock, opening_balance=0))
    deposit_id = pay(bank, issue(bank)["account_num"])["deposit_id"]
    window = {
        "bank_code": "090",
        "starts_at": (T0 - timedelta(hours=1)).isoformat(),
        "ends_at": (T0 + timedelta(hours=1)).isoformat(),
    }
    r = bank.post("/sim/faults/bank-hours", json={"maintenance": [window]})
    assert r.status_code == 200, r.text
    _, closed = give_back(bank, "RET-0001", deposit_id)
    assert (closed["bank_rsp_code"], closed["available_dtime"]) == ("531", "20260301190000")
    bank.delete("/sim/faults/bank-hours")
    bank.post(
        "/sim/accounts",
        json={"bank_code": "090", "account_number": "3333012345678", "holder_name": "홍길동"},
    )
    payout = {
        "req_cnt": 1,
        "req_list": [
            {
                "bank_tran_id": "M202600001U000000001",
                "bank_code_std": "090",
                "account_num": "3333012345678",
                "account_holder_name": "홍길동",
                "tran_amt": "10000",
            }
        ],
    }
    spent = bank.post("/v2.0/transfer/deposit/acnt_num", json=payout).json()
    assert spent["rsp_code"] == "A0000"  # the operating account now holds less than PRICE
    _, short = give_back(bank, "RET-0001", deposit_id)
    assert short["bank_rsp_code"] == "551"
    assert bank.get("/sim/returns").json()["count"] == 0
    pay(bank, issue(bank, reference="order-2")["account_num"], amount=10_000)
    _, done = give_back(bank, "RET-0001", deposit_id)
    assert done["status"] == "returned"
    assert len(returned_for(bank, deposit_id)) == 1
    assert operating_balance(bank) == 0


def test_the_outbox_and_the_accounts_survive_a_restart(tmp_path: Path, clock: FakeClock) -> None:
    """Deposits, returns and undelivered notifications are in the simulator's store: a
    new app on the same directory delivers what the old one could not."""
    down = Receiver(503)
    first = TestClient(
        create_bank_app(tmp_path, clock=clock, notification_sender=down, notification_secret=SECRET)
    )
    number = issue(first)["account_num"]
    deposit_id = pay(first, number)["deposit_id"]
    first.post("/sim/notifications/deliver")
    give_back(first, "RET-0001", deposit_id)
    receiver = Receiver()
    second = TestClient(
        create_bank_app(
            tmp_path, clock=clock, notification_sender=receiver, notification_secret=SECRET
        )
    )
    clock.now = T0 + timedelta(seconds=1)
    second.post("/sim/notifications/deliver")
    assert receiver.deposit_ids() == [deposit_id]
    assert issue(second)["account_num"] == number
    _, again = give_back(second, "RET-0001", deposit_id)
    assert again["status"] == "returned"
    assert len(returned_for(second, deposit_id)) == 1
    assert [d["state"] for d in inquire(second, number)["res_list"]] == ["returned"]


def test_returns_racing_for_one_deposit_move_it_once(bank: TestClient) -> None:
    deposit_id = pay(bank, issue(bank)["account_num"], name="김철수")["deposit_id"]
    keys = [f"RET-{n:04d}" for n in range(20)] * 2  # twenty keys, each sent twice
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda k: give_back(bank, k, deposit_id)[1], keys))
    winners = {a["bank_tran_id"] for a in answers if a["status"] == "returned"}
    assert len(winners) == 1
    assert sum(1 for a in answers if a["status"] == "returned") == 2  # the winner's repeat
    assert {a["bank_rsp_code"] for a in answers if a["status"] != "returned"} == {"610"}
    assert len(returned_for(bank, deposit_id)) == 1
    assert operating_balance(bank) == OPENING


def listing(bank: TestClient, since: str, until: str, **extra: Any) -> dict[str, Any]:
    r = bank.post(
        "/v2.0/vaccount/transactions", json={"from_dtime": since, "to_dtime": until, **extra}
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_the_window_listing_shows_each_deposit_with_its_returns_a_page_at_a_time(
    bank: TestClient, clock: FakeClock
) -> None:
    """``POST /v2.0/vaccount/transactions``: the deposits received in [from, to) on every
    account, oldest first, with every return asked for each; paged by the answer's
    ``befor_inquiry_trace_info``."""
    first, second = issue(bank, "order-1"), issue(bank, "order-2")
    kept = pay(bank, first["account_num"])["deposit_id"]
    clock.now += timedelta(seconds=60)
    stranger = pay(bank, second["account_num"], name="김철수")["deposit_id"]
    assert give_back(bank, "RET-1", stranger)[1]["rsp_code"] == "A0000"
    assert give_back(bank, "RET-2", stranger)[1]["bank_rsp_code"] == "610"  # kept, refused
    clock.now += timedelta(hours=1)
    pay(bank, first["account_num"], amount=1)  # an hour later: outside the window below

    # the clock starts at T0, 2026-03-01 09:00 UTC = 18:00 KST
    window = listing(bank, "20260301180000", "20260301185000")
    assert (window["rsp_code"], window["res_cnt"], window["next_page_yn"]) == ("A0000", "2", "N")
    got = {d["deposit_id"]: d for d in window["res_list"]}
    assert [d["deposit_id"] for d in window["res_list"]] == [kept, stranger]
    assert (got[kept]["reference"], got[kept]["tran_amt"], got[kept]["returns"]) == (
        "order-1",
        str(PRICE),
        [],
    )
    assert got[stranger]["account_num"] == second["account_num"]
    assert got[stranger]["state"] == "returned"
    assert [(r["bank_tran_id"], r["status"]) for r in got[stranger]["returns"]] == [
        ("RET-1", "returned"),
        ("RET-2", "rejected"),
    ]
    assert "3333" not in str(window)  # the payer's account masked, as in the inquiry

    page = listing(bank, "20260301180000", "20260301200000", page_size=2)
    assert (page["res_cnt"], page["next_page_yn"]) == ("2", "Y")
    rest = listing(
        bank,
        "20260301180000",
        "20260301200000",
        page_size=2,
        befor_inquiry_trace_info=page["befor_inquiry_trace_info"],
    )
    assert (rest["res_cnt"], rest["next_page_yn"], rest["befor_inquiry_trace_info"]) == (
        "1",
        "N",
        "",
    )
    assert rest["res_list"][0]["tran_amt"] == "1"
    assert listing(bank, "20260228000000", "20260301000000")["res_list"] == []
