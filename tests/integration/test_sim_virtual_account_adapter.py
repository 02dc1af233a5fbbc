"""The virtual-account adapter against the bank simulator (a contract test, in-process
through TestClient as in test_sim_adapters.py), and the in-memory fake held to the same
promises."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from fakes import FakeClock, FakeVirtualAccounts
from giftcash.adapters.banks.virtual_accounts import HttpVirtualAccounts
from giftcash.adapters.webhooks.signing import new_secret
from giftcash.service.ports import Ambiguous, BankClosed, Unavailable
from giftcash.service.ports.virtual_accounts import InvalidNotification
from giftcash.simulators import create_bank_app

SECRET = new_secret()
PRICE = 45_000
DEADLINE = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


class Receiver:
    def __init__(self) -> None:
        self.received: list[tuple[bytes, dict[str, str]]] = []

    def __call__(self, body: bytes, headers: dict[str, str]) -> int:
        self.received.append((body, headers))
        return 204


class LoseOnce:
    """The adapter's HTTP client, losing the answer of the first request to ``path``
    after the bank did the work (a read timeout)."""

    def __init__(self, client: TestClient, path: str) -> None:
        self.client, self.path, self.armed = client, path, True

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        response = self.client.post(url, **kwargs)
        if url == self.path and self.armed:
            self.armed = False
            raise httpx.ReadTimeout("injected: the answer was lost")
        return response


@pytest.fixture
def world(tmp_path: Path) -> tuple[TestClient, HttpVirtualAccounts, Receiver]:
    receiver = Receiver()
    client = TestClient(
        create_bank_app(tmp_path, notification_sender=receiver, notification_secret=SECRET)
    )
    bank = HttpVirtualAccounts("http://sim", notification_secret=SECRET, client=client)
    return client, bank, receiver


def pay(client: TestClient, number: str, amount: int = PRICE, name: str = "홍길동") -> str:
    r = client.post(
        f"/sim/virtual-accounts/{number}/deposits",
        json={
            "payer_name": name,
            "payer_bank_code": "090",
            "payer_account": "3333012345678",
            "amount": amount,
        },
    )
    assert r.status_code == 201, r.text
    return str(r.json()["deposit_id"])


def returns_at_bank(client: TestClient, deposit_id: str) -> int:
    rows = client.get("/sim/returns", params={"deposit_id": deposit_id}).json()["returns"]
    return sum(1 for r in rows if r["status"] == "returned")


def test_issue_inquire_and_close(world: tuple[TestClient, HttpVirtualAccounts, Receiver]) -> None:
    client, bank, _ = world
    va = bank.issue("order-1", PRICE, "기프트캐시", DEADLINE)
    assert (va.bank_code, va.amount, va.expires_at) == ("004", PRICE, DEADLINE)
    assert bank.issue("order-1", PRICE, "기프트캐시", DEADLINE) == va
    assert bank.deposits(va.account_number) == ()
    pay(client, va.account_number, amount=PRICE - 1, name="김철수")
    [d] = bank.deposits(va.account_number)
    assert (d.amount, d.payer_name, d.payer_bank_code, d.state) == (
        PRICE - 1,
        "김철수",
        "090",
        "received",
    )
    assert d.payer_account_masked.endswith("5678") and "3333" not in d.payer_account_masked
    assert d.received_at.tzinfo is not None
    bank.close(va.account_number)
    bank.close(va.account_number)
    listed = client.get("/sim/virtual-accounts").json()["virtual_accounts"]
    assert listed[0]["status"] == "closed"
    with pytest.raises(Unavailable):
        bank.deposits("79999999999999")


def test_a_return_goes_once_per_key(
    world: tuple[TestClient, HttpVirtualAccounts, Receiver],
) -> None:
    client, bank, _ = world
    va = bank.issue("order-1", PRICE, "기프트캐시", DEADLINE)
    deposit_id = pay(client, va.account_number, name="김철수")
    first = bank.return_deposit("RET-0001", deposit_id, PRICE, "반환 타인입금")
    assert (first.outcome, first.amount, first.deposit_id) == ("returned", PRICE, deposit_id)
    assert bank.return_deposit("RET-0001", deposit_id, PRICE, "반환 타인입금") == first
    second = bank.return_deposit("RET-0002", deposit_id, PRICE, "반환 타인입금")
    assert second.outcome == "rejected" and "610" in second.message
    assert returns_at_bank(client, deposit_id) == 1
    assert bank.return_by_key("RET-0001") == first
    assert bank.return_by_key("RET-0009") is None
    assert [d.state for d in bank.deposits(va.account_number)] == ["returned"]


def test_a_lost_return_answer_is_resolved_by_inquiry(tmp_path: Path) -> None:
    client = TestClient(create_bank_app(tmp_path))
    lossy = LoseOnce(client, "/v2.0/vaccount/return")
    bank = HttpVirtualAccounts(
        "http://sim",
        notification_secret=SECRET,
        client=lossy,  # type: ignore[arg-type]
    )
    va = bank.issue("order-1", PRICE, "기프트캐시", DEADLINE)
    deposit_id = pay(client, va.account_number)
    result = bank.return_deposit("RET-0001", deposit_id, PRICE, "반환 기한초과")
    assert not lossy.armed  # the answer was lost
    assert (result.outcome, result.deposit_id, result.amount) == ("returned", deposit_id, PRICE)
    assert returns_at_bank(client, deposit_id) == 1


def test_when_the_inquiry_cannot_tell_the_outcome_is_unknown_and_asked_again(
    world: tuple[TestClient, HttpVirtualAccounts, Receiver],
) -> None:
    client, bank, _ = world
    va = bank.issue("order-1", PRICE, "기프트캐시", DEADLINE)
    deposit_id = pay(client, va.account_number)
    client.post("/sim/faults", json={"lost_answer_rate": 1.0})  # the inquiry's answer too
    unknown = bank.return_deposit("RET-0001", deposit_id, PRICE, "반환")
    assert unknown.outcome == "unknown"
    assert returns_at_bank(client, deposit_id) == 1  # the bank did it
    client.delete("/sim/faults")
    assert bank.return_deposit("RET-0001", deposit_id, PRICE, "반환").outcome == "returned"
    assert returns_at_bank(client, deposit_id) == 1


def test_the_bank_down_is_unavailable_or_ambiguous(
    world: tuple[TestClient, HttpVirtualAccounts, Receiver],
) -> None:
    client, bank, _ = world
    va = bank.issue("order-1", PRICE, "기프트캐시", DEADLINE)
    client.post("/sim/faults", json={"error_rate": 1.0})
    with pytest.raises(Unavailable):
        bank.deposits(va.account_number)
    with pytest.raises(Ambiguous):  # a 503 on a write: it may have happened
        bank.issue("order-2", PRICE, "기프트캐시", DEADLINE)


def test_the_adapter_verifies_the_banks_notification(
    world: tuple[TestClient, HttpVirtualAccounts, Receiver],
) -> None:
    client, bank, receiver = world
    va = bank.issue("order-1", PRICE, "기프트캐시", DEADLINE)
    deposit_id = pay(client, va.account_number, name="김철수")
    client.post("/sim/notifications/deliver")
    [(body, headers)] = receiver.received
    notice = bank.verify_notification(headers, body)
    assert (notice.reference, notice.account_number) == ("order-1", va.account_number)
    assert notice.deposit == bank.deposits(va.account_number)[0]
    assert notice.deposit.deposit_id == deposit_id
    upper = {k.upper(): v for k, v in headers.items()}  # header names are case-insensitive
    assert bank.verify_notification(upper, body) == notice
    late = HttpVirtualAccounts(
        "http://sim",
        notification_secret=SECRET,
        client=client,
        now=lambda: datetime.now(UTC) + timedelta(minutes=10),
    )
    with pytest.raises(InvalidNotification):  # a replay after the tolerance
        late.verify_notification(headers, body)
    forged = {**headers, "webhook-signature": "v1,AAAA"}
    with pytest.raises(InvalidNotification):
        bank.verify_notification(forged, body)


# -- the fake keeps the same promises --------------------------------------------------------


def test_the_fake_returns_once_per_key_and_resolves_a_lost_answer() -> None:
    bank = FakeVirtualAccounts(clock=FakeClock())
    va = bank.issue("order-1", PRICE, "기프트캐시", DEADLINE)
    assert bank.issue("order-1", PRICE, "기프트캐시", DEADLINE) == va
    notice = bank.pay(va.account_number, PRICE, "김철수")
    assert bank.verify_notification({}, notice.deposit.deposit_id.encode()) == notice
    assert bank.deposits(va.account_number) == (notice.deposit,)
    bank.lose_next = 1
    first = bank.return_deposit("RET-0001", notice.deposit.deposit_id, PRICE, "반환")
    assert first.outcome == "returned"
    assert bank.return_deposit("RET-0001", notice.deposit.deposit_id, PRICE, "반환") == first
    assert bank.return_deposit("RET-0002", notice.deposit.deposit_id, PRICE, "반환").outcome == (
        "rejected"
    )
    assert bank.returned_twice() == 0
    assert bank.deposits(va.account_number)[0].state == "returned"
    bank.forged = True
    with pytest.raises(InvalidNotification):
        bank.verify_notification({}, notice.deposit.deposit_id.encode())


def test_the_fake_answers_unknown_when_the_inquiry_is_down() -> None:
    bank = FakeVirtualAccounts()
    va = bank.issue("order-1", PRICE, "기프트캐시", DEADLINE)
    deposit_id = bank.pay(va.account_number, PRICE, "홍길동").deposit.deposit_id
    bank.lose_next, bank.inquiry_down = 1, True
    assert bank.return_deposit("RET-0001", deposit_id, PRICE, "반환").outcome == "unknown"
    assert bank.return_deposit("RET-0001", deposit_id, PRICE, "반환").outcome == "returned"
    assert bank.returned_twice() == 0
    bank.down = True
    with pytest.raises(Unavailable):
        bank.deposits(va.account_number)


def test_a_closed_payer_bank_is_bank_closed_and_the_key_goes_later(
    world: tuple[TestClient, HttpVirtualAccounts, Receiver],
) -> None:
    client, bank, _ = world
    va = bank.issue("order-1", PRICE, "기프트캐시", DEADLINE)
    deposit_id = pay(client, va.account_number)
    now = datetime.now(UTC)
    window = {
        "bank_code": "090",
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(hours=1)).isoformat(),
    }
    client.post("/sim/faults/bank-hours", json={"maintenance": [window]})
    with pytest.raises(BankClosed) as closed:
        bank.return_deposit("RET-0001", deposit_id, PRICE, "반환")
    assert closed.value.reopens_at is not None and closed.value.reopens_at > now
    assert returns_at_bank(client, deposit_id) == 0
    client.delete("/sim/faults/bank-hours")
    assert bank.return_deposit("RET-0001", deposit_id, PRICE, "반환").outcome == "returned"


def test_the_fake_refuses_a_return_while_the_payers_bank_is_closed() -> None:
    bank = FakeVirtualAccounts()
    va = bank.issue("order-1", PRICE, "기프트캐시", DEADLINE)
    deposit_id = bank.pay(va.account_number, PRICE, "김철수").deposit.deposit_id
    bank.closed = BankClosed("closed", DEADLINE)
    with pytest.raises(BankClosed):
        bank.return_deposit("RET-0001", deposit_id, PRICE, "반환")
    assert bank.return_by_key("RET-0001") is None
    bank.closed = None
    assert bank.return_deposit("RET-0001", deposit_id, PRICE, "반환").outcome == "returned"


def _window(bank: Any, client: TestClient | None, clock: FakeClock | None) -> None:
    """One account, a kept and a returned deposit; the listing for the hour around them
    shows both, the return under its key; the hour before shows none."""
    va = bank.issue("order-1", PRICE, "기프트캐시", DEADLINE)
    if client is not None:
        kept, other = pay(client, va.account_number), pay(client, va.account_number, name="김철수")
    else:
        assert clock is not None
        kept = bank.pay(va.account_number, PRICE, "홍길동").deposit.deposit_id
        other = bank.pay(va.account_number, PRICE, "김철수").deposit.deposit_id
    assert bank.return_deposit("RET-0001", other, PRICE, "반환").outcome == "returned"
    now = datetime.now(UTC) if clock is None else clock.now()
    hour = now - timedelta(minutes=30)
    listed = bank.deposits_between(hour, hour + timedelta(hours=1))
    assert [(b.deposit.deposit_id, b.reference, b.account_number) for b in listed] == [
        (kept, "order-1", va.account_number),
        (other, "order-1", va.account_number),
    ]
    assert listed[0].returns == ()
    [back] = listed[1].returns
    assert (back.key, back.amount, back.outcome) == ("RET-0001", PRICE, "returned")
    assert back.at.tzinfo is not None
    assert bank.deposits_between(hour - timedelta(hours=1), hour) == ()


def test_the_bank_lists_a_window_s_deposits_with_their_returns(
    world: tuple[TestClient, HttpVirtualAccounts, Receiver],
) -> None:
    client, bank, _ = world
    _window(bank, client, None)
    client.post("/sim/faults", json={"error_rate": 1.0}).raise_for_status()
    with pytest.raises(Unavailable):
        bank.deposits_between(DEADLINE - timedelta(days=1), DEADLINE)


def test_the_fake_lists_a_window_s_deposits_like_the_bank() -> None:
    clock = FakeClock()
    _window(FakeVirtualAccounts(clock=clock), None, clock)
