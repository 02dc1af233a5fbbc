"""The customer site driven through TestClient: a session that reads its CSRF token from
the page, signs up and adds a verified bank account (used by test_pages)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi.testclient import TestClient

from fakes import FakeBank, FakeIssuer, FakeSms

PASSWORD = "a long enough password"
# the sign-up form's required consents, ticked
CONSENTS = {"consent_terms": "on", "consent_privacy_collection": "on"}


@dataclass
class Site:
    client: TestClient
    deps: object
    issuer: FakeIssuer
    bank: FakeBank
    sms: FakeSms

    def csrf(self, path: str = "/signin") -> str:
        """The CSRF token a page of this session carries."""
        html = self.client.get(path).text
        match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
        assert match, "no CSRF token on the page"
        return match.group(1)

    def post(self, path: str, data: dict, **kw):
        """A sell form without a ``step`` goes as a customer sends it: checked, then
        confirmed on the confirmation it answers with (tests of the confirmation itself
        send ``step``)."""
        r = self.client.post(
            path, data={"csrf_token": self.csrf(), **data}, follow_redirects=False, **kw
        )
        if path != "/sell" or "step" in data or r.status_code != 200:
            return r
        confirmation = confirmed_fields(r.text)
        assert confirmation, "no confirmation in the answer"
        return self.client.post(
            path,
            data={"csrf_token": self.csrf(), **data, **confirmation},
            follow_redirects=False,
            **kw,
        )

    def sign_up(self, phone: str = "010-2222-3333", name: str = "홍길동") -> None:
        """Signs up with the required consents and the SMS code, which signs in."""
        r = self.post(
            "/signup",
            {
                "name": name,
                "phone": phone,
                "birth_date": "1990-01-02",
                "password": PASSWORD,
                **CONSENTS,
            },
        )
        assert r.status_code == 200, r.text
        code = self.sms.last_code(phone.replace("-", ""))
        r = self.post("/signup/verify", {"phone": phone, "code": code})
        assert r.status_code == 303, r.text
        assert r.headers["location"].startswith("/accounts")

    def add_account(self, number: str = "11112222333344", name: str = "홍길동") -> str:
        self.bank.open("004", number, name)
        r = self.post(
            "/accounts", {"bank_code": "004", "account_number": number, "holder_name": name}
        )
        assert r.status_code == 303, r.text
        html = self.client.get("/accounts").text
        account_id = re.search(r'action="/accounts/([^/"]+)/verify"', html).group(1)
        r = self.post(f"/accounts/{account_id}/verify", {"code": self.bank.memo_to("004", number)})
        assert r.status_code == 303, r.text
        return account_id


def confirmed_fields(html: str) -> dict[str, str]:
    """What the confirmation's own button sends, read from its page or fragment."""
    sale = re.search(r'name="sale" value="([^"]+)"', html)
    rate = re.search(r'name="quoted_fee_bps" value="([^"]+)"', html)
    if not (sale and rate):
        return {}
    return {"step": "submit", "sale": sale.group(1), "quoted_fee_bps": rate.group(1)}
