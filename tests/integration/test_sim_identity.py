"""The identity simulator and the exchange's HTTP adapter for it (a contract test driven
in-process through TestClient): people with a stable CI and a DI per service, the
challenge the phone shows and the person's tap, ID-document checks, a lost start
answered again by its key, a provider that answers one request twice."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from giftcash.adapters.identity.http_identity import HttpIdentity
from giftcash.service.ports import Ambiguous, Unavailable
from giftcash.simulators.identity import create_identity_app, di_for

PERSON = {
    "name": "김지원",
    "birth_date": "1990-05-17",
    "sex": "F",
    "carrier": "KT",
    "phone": "01012345678",
    "id_document": {"number": "9005172000000", "issue_date": "2020-03-02"},
}


@pytest.fixture
def sim(tmp_path: Path) -> TestClient:
    return TestClient(create_identity_app(tmp_path))


def test_a_person_confirms_on_the_phone_and_the_service_reads_who_they_are(sim):
    made = sim.post("/sim/people", json=PERSON)
    assert made.status_code == 201
    ci = made.json()["ci"]
    assert made.json()["di"] == di_for(ci, "giftcash")
    second = sim.post(
        f"/sim/people/{made.json()['person_id']}/phones", json={"phone": "01099998888"}
    )
    assert second.status_code == 201
    provider = HttpIdentity("http://sim", client=sim)

    tx = provider.start("01012345678", "check-1")
    assert provider.result(tx).status == "pending"
    shown = sim.get("/sim/challenges", params={"phone": "01012345678"}).json()["challenges"]
    assert [c["transaction_id"] for c in shown] == [tx]
    assert "giftcash" in shown[0]["message"]
    assert sim.post(f"/sim/challenges/{tx}/confirm").status_code == 200
    result = provider.result(tx)
    assert result.status == "verified" and result.person is not None
    p = result.person
    assert (p.name, p.birth_date, p.sex, p.carrier) == ("김지원", date(1990, 5, 17), "F", "KT")
    assert (p.ci, p.di) == (ci, di_for(ci, "giftcash"))

    other = provider.start("01099998888", "check-2")  # the same person, another phone
    sim.post(f"/sim/challenges/{other}/confirm")
    again = provider.result(other).person
    assert again is not None and again.ci == ci and again.phone == "01099998888"
    seen = sim.get("/sim/verifications").json()["verifications"]
    assert [(v["status"], v["answers"]) for v in seen] == [("confirmed", 1), ("confirmed", 1)]


def test_a_denied_request_and_an_unknown_phone_never_verify(sim):
    sim.post("/sim/people", json=PERSON)
    provider = HttpIdentity("http://sim", client=sim)
    tx = provider.start("01012345678", "check-1")
    sim.post(f"/sim/challenges/{tx}/deny")
    assert provider.result(tx).status == "failed"
    stranger = provider.start("01000000000", "check-2")  # answered alike: nobody told
    assert sim.post(f"/sim/challenges/{stranger}/confirm").status_code == 409
    assert provider.result(stranger).status == "pending"
    assert provider.result("tx_unknown").status == "failed"


def test_a_lost_start_is_answered_again_by_its_key_unless_the_provider_answers_twice(sim):
    sim.post("/sim/people", json=PERSON)
    provider = HttpIdentity("http://sim", client=sim)
    sim.post("/sim/faults", json={"lost_answer_rate": 1.0})
    with pytest.raises(Ambiguous):
        provider.start("01012345678", "check-1")
    sim.delete("/sim/faults")
    tx = provider.start("01012345678", "check-1")
    assert sim.get("/sim/verifications").json()["count"] == 1
    assert provider.start("01012345678", "check-1") == tx

    sim.post("/sim/settings", json={"answer_twice": True})
    twice = provider.start("01012345678", "check-1")
    assert twice != tx  # the phone now shows two requests for one
    assert sim.get("/sim/challenges").json()["count"] == 2

    sim.post("/sim/faults", json={"error_rate": 1.0})
    with pytest.raises(Unavailable):
        provider.result(tx)


def test_the_id_document_check_answers_genuine_only_for_the_documents_own_details(sim):
    sim.post("/sim/people", json=PERSON)
    provider = HttpIdentity("http://sim", client=sim)
    genuine = provider.check_id_document("김지원", "900517-2000000", date(2020, 3, 2), "d-1")
    wrong_date = provider.check_id_document("김지원", "9005172000000", date(2021, 3, 2), "d-2")
    assert (genuine.outcome, wrong_date.outcome) == ("genuine", "mismatch")
    assert [c["result"] for c in sim.get("/sim/id-checks").json()["id_checks"]] == [
        "genuine",
        "mismatch",
    ]
