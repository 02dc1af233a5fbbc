"""The customer's choice of notices on the account page (issue 13, item 9): off unless
they agreed to SMS at sign-up, saved by a form with a one-use token, in the page's
language."""

from __future__ import annotations

import re

from sqlalchemy import select
from test_form_tokens import form_token
from websupport import Site

from giftcash.adapters.db import tables as t


def checked(html: str) -> set[str]:
    return set(re.findall(r'name="notice" value="(\w+)" checked', html))


def test_a_customer_chooses_the_notices_once_per_form(site: Site):
    site.sign_up()
    page = site.client.get("/accounts").text
    assert "판매 대금 알림" in page and "광고가 아닙니다" in page
    assert checked(page) == set()  # no SMS asked for at sign-up: none
    token = form_token(site, "/accounts")
    data = {"form_token": token, "notice": ["paid", "held", "spam"]}
    first = site.post("/accounts/notices", data)
    again = site.post("/accounts/notices", data)  # a double tap
    assert first.status_code == again.status_code == 303, first.text
    assert first.headers["location"] == "/accounts?done=notices"
    page = site.client.get("/accounts?done=notices").text
    assert "알림 설정을 저장했습니다." in page
    assert checked(page) == {"paid", "held"}
    with site.deps.uow() as uow:  # type: ignore[attr-defined]
        rows = uow.conn.execute(select(t.notice_choices.c.events)).scalars().all()
    assert rows == ["held,paid"]


def test_agreeing_to_sms_at_sign_up_turns_every_notice_on(site: Site):
    r = site.post(
        "/signup",
        {
            "name": "홍길동",
            "phone": "010-2222-4444",
            "birth_date": "1990-01-02",
            "password": "a long enough password",
            "consent_terms": "on",
            "consent_privacy_collection": "on",
            "consent_marketing_sms": "on",
        },
    )
    assert r.status_code == 200, r.text
    code = site.sms.last_code("01022224444")
    assert site.post("/signup/verify", {"phone": "010-2222-4444", "code": code}).status_code == 303
    assert checked(site.client.get("/accounts").text) == {"paid", "declined", "held", "returned"}
