"""The KakaoTalk 알림톡 adapter behind the SMS port, against the SMS simulator: a notice
that is an approved template goes as 알림톡 with its variables; a number without
KakaoTalk, a template Kakao does not know and a text no template matches (the sign-up
인증번호) go by SMS with the same text, once per key."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from giftcash.adapters.sms.alimtalk import AlimtalkSms, Template
from giftcash.adapters.sms.http_sms import HttpSms
from giftcash.identity.customers import signup_text
from giftcash.payouts.notices import NOTICES, notice_text
from giftcash.simulators import create_sms_app

PHONE = "01012345678"
TEMPLATES = {event: Template(f"GC_{event.upper()}_1", body) for event, body in NOTICES.items()}


@pytest.fixture
def sim(tmp_path: Path) -> TestClient:
    client = TestClient(create_sms_app(tmp_path))
    for t in TEMPLATES.values():
        client.post("/sim/alimtalk/templates", json={"code": t.code, "body": t.body})
    return client


def kakao(sim: TestClient) -> AlimtalkSms:
    return AlimtalkSms("http://sim", TEMPLATES, HttpSms("http://sim", client=sim), client=sim)


def outboxes(sim: TestClient) -> tuple[list[str], list[str]]:
    talk = sim.get("/sim/alimtalk/outbox", params={"to": PHONE}).json()["messages"]
    sms = sim.get("/sim/outbox", params={"to": PHONE}).json()["messages"]
    return [m["template_code"] for m in talk], [m["text"] for m in sms]


def test_a_notice_goes_as_alimtalk_with_its_template_and_variables(sim: TestClient) -> None:
    text = notice_text("paid", amount="27,000원", account="신한은행 ****6789", receipt="GC-1")
    kakao(sim).send(PHONE, text, "paid:p-1")
    kakao(sim).send(PHONE, text, "paid:p-1")  # a retry sends nothing more
    assert outboxes(sim) == (["GC_PAID_1"], [])
    (sent,) = sim.get("/sim/alimtalk/outbox").json()["messages"]
    assert sent["text"] == text


def test_without_kakaotalk_the_same_text_goes_by_sms_once(sim: TestClient) -> None:
    sim.post("/sim/alimtalk/unreachable", json={"to": PHONE})
    text = notice_text("returned", amount="9,000원")
    kakao(sim).send(PHONE, text, "returned:p-2")
    kakao(sim).send(PHONE, text, "returned:p-2")
    assert outboxes(sim) == ([], [text])


def test_a_template_kakao_does_not_know_falls_back_to_sms(sim: TestClient) -> None:
    unknown = {"held": Template("GC_NOT_APPROVED", NOTICES["held"])}
    adapter = AlimtalkSms("http://sim", unknown, HttpSms("http://sim", client=sim), client=sim)
    text = notice_text("held", receipt="GC-2")
    adapter.send(PHONE, text, "held:s-1")
    assert outboxes(sim) == ([], [text])


def test_a_text_no_template_matches_goes_by_sms(sim: TestClient) -> None:
    kakao(sim).send(PHONE, signup_text("123456"), "signup-1")
    assert outboxes(sim) == ([], [signup_text("123456")])


def test_a_template_reads_its_variables_back() -> None:
    text = notice_text("declined", count="3")
    assert TEMPLATES["declined"].match(text) == {"count": "3"}
    assert TEMPLATES["paid"].match(text) is None
