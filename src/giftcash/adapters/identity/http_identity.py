"""Client for the PASS-style identity provider shape served by the identity simulator
(``simulators/identity.py``): start a verification, read its result, check an ID
document. The provider's field names and statuses stay here."""

from __future__ import annotations

from datetime import date

import httpx

from giftcash.adapters.http import call, json_body, make_client
from giftcash.service.ports import Unavailable
from giftcash.service.ports.records import IdDocumentAnswer, IdentityResult, VerifiedPerson


class HttpIdentity:
    def __init__(
        self,
        base_url: str,
        timeout_s: float = 5.0,
        *,
        service_code: str = "giftcash",
        client: httpx.Client | None = None,
    ) -> None:
        self.http = client or make_client(base_url, timeout_s, max_connections=8)
        self.service_code = service_code

    def close(self) -> None:
        self.http.close()

    def start(self, phone: str, key: str) -> str:
        # money=True: a start that may have reached the provider is ambiguous (a challenge
        # may be on the phone), settled by asking again with the same key
        r = call(
            lambda: self.http.post(
                "/v1/verifications",
                json={"phone": phone, "service_code": self.service_code, "idempotency_key": key},
            ),
            money=True,
        )
        body = json_body(r)
        tx_id = body.get("transaction_id")
        if r.status_code >= 400 or not isinstance(tx_id, str):
            raise Unavailable(f"identity provider answered {r.status_code}")
        return tx_id

    def result(self, transaction_id: str) -> IdentityResult:
        r = call(lambda: self.http.get(f"/v1/verifications/{transaction_id}"), money=False)
        body = json_body(r)
        if r.status_code == 404:
            return IdentityResult("failed")
        if r.status_code >= 400:
            raise Unavailable(f"identity provider answered {r.status_code}")
        status = body.get("status")
        if status == "pending":
            return IdentityResult("pending")
        if status != "verified":
            return IdentityResult("failed")
        p = body.get("person")
        try:
            assert isinstance(p, dict)
            person = VerifiedPerson(
                name=str(p["name"]),
                birth_date=date.fromisoformat(str(p["birth_date"])),
                sex=str(p["sex"]),
                carrier=str(p["carrier"]),
                phone=str(p["phone"]),
                ci=str(p["ci"]),
                di=str(p["di"]),
            )
        except (AssertionError, KeyError, ValueError):
            # a verified answer we cannot read is not an identity: ask again later
            raise Unavailable("identity provider's answer is malformed") from None
        return IdentityResult("verified", person)

    def check_id_document(
        self, name: str, id_number: str, issue_date: date, key: str
    ) -> IdDocumentAnswer:
        r = call(
            lambda: self.http.post(
                "/v1/id-documents/verify",
                json={
                    "name": name,
                    "id_number": id_number,
                    "issue_date": issue_date.isoformat(),
                    "idempotency_key": key,
                },
            ),
            money=False,
        )
        if r.status_code >= 400:
            raise Unavailable(f"identity provider answered {r.status_code}")
        result = json_body(r).get("result")
        return IdDocumentAnswer("genuine" if result == "genuine" else "mismatch")
