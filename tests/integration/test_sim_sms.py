"""The SMS gateway simulator."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from giftcash.simulators import create_sms_app


def send(client: TestClient, to: str, text: str, key: str | None = None):
    body = {"to": to, "text": text, **({"idempotency_key": key} if key else {})}
    return client.post("/v1/messages", json=body)


def test_the_outbox_holds_what_was_sent_newest_last(tmp_path: Path) -> None:
    client = TestClient(create_sms_app(tmp_path))
    first = send(client, "01011112222", "code 111111")
    assert first.status_code == 201
    send(client, "01033334444", "code 222222")
    send(client, "01011112222", "code 333333")
    messages = client.get("/sim/outbox", params={"to": "01011112222"}).json()["messages"]
    assert [m["text"] for m in messages] == ["code 111111", "code 333333"]
    assert messages[0]["id"] == first.json()["id"]
    assert client.get("/sim/outbox").json()["count"] == 3


def test_the_same_key_sends_once(tmp_path: Path) -> None:
    client = TestClient(create_sms_app(tmp_path))
    a = send(client, "01011112222", "code 1", key="k")
    b = send(client, "01011112222", "code 1", key="k")
    assert a.json() == b.json()
    assert client.get("/sim/outbox").json()["count"] == 1
    reused = send(client, "01011112222", "code 2", key="k")
    assert (reused.status_code, reused.json()["error"]) == (422, "idempotency_key_reused")


def test_the_outbox_survives_a_new_app(tmp_path: Path) -> None:
    send(TestClient(create_sms_app(tmp_path)), "01011112222", "before", key="k")
    client = TestClient(create_sms_app(tmp_path))
    send(client, "01011112222", "before", key="k")
    assert [m["text"] for m in client.get("/sim/outbox").json()["messages"]] == ["before"]
