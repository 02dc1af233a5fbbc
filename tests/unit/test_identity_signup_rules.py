"""Sign-up through identity verification (본인인증), as the person meets it: the request
goes to their phone, nothing exists until they confirm, and then the customer has the
verified name and birth date. One person, one customer: the same person on another
phone is pointed to the account they have. A lost or late answer of the provider ends
in the same state a clean one does."""

from __future__ import annotations

from datetime import date

import pytest

from fakes import FakeIdentity
from fakes_uow import FakeWorld
from giftcash.identity import bank_accounts, customers, verification
from giftcash.service import errors

PASSWORD = "a long enough password"


def _world() -> FakeWorld:
    return FakeWorld(identity=FakeIdentity())


def _signup(w: FakeWorld, phone: str, name: str = "아무개", born: date = date(2000, 1, 1)) -> str:
    return customers.signup(
        w.deps, phone=phone, name=name, birth_date=born, password=PASSWORD, device_key="1.2.3.4"
    )


def test_the_customer_exists_only_once_confirmed_with_the_verified_name_and_birth_date():
    w = _world()
    assert w.identity is not None
    w.identity.person("01012345678", name="김지원", birth_date=date(1990, 5, 17))
    customer_id = _signup(w, "010-1234-5678", name="김 지원", born=date(1991, 1, 1))
    assert w.db.customers == {}  # nothing before the person confirms
    assert w.sms.outbox == []  # no SMS code: the phone shows the request instead
    with pytest.raises(errors.IdentityPending):
        customers.verify_phone(w.deps, phone="010-1234-5678", code="")
    w.identity.confirm("01012345678")
    token = customers.verify_phone(w.deps, phone="010-1234-5678", code="", sign_in=True)
    assert token
    customer = w.db.customers[customer_id]
    assert (customer.name, customer.birth_date) == ("김지원", date(1990, 5, 17))
    assert customer.verified
    stored = w.db.identities[customer_id]
    assert "ci-" not in stored.ci_hmac and b"ci-" not in stored.details_enc  # hashed, sealed
    person = verification.details(w.deps, customer_id)
    assert person is not None and (person.carrier, person.di) == ("SKT", "di-ci-0001")


def test_the_same_person_on_another_phone_is_pointed_to_their_account_and_nothing_is_made():
    w = _world()
    assert w.identity is not None
    w.identity.person("01011110001", ci="ci-same")
    w.identity.person("01022220002", ci="ci-same")
    first = _signup(w, "01011110001")
    w.identity.confirm("01011110001")
    customers.verify_phone(w.deps, phone="01011110001", code="")
    _signup(w, "01022220002")
    w.identity.confirm("01022220002")
    with pytest.raises(errors.IdentityAlreadyRegistered) as refused:
        customers.verify_phone(w.deps, phone="01022220002", code="", sign_in=True)
    assert refused.value.context["masked_phone"] == "010-****-0001"
    assert list(w.db.customers) == [first]
    assert w.db.tokens == {}  # no session for the refused sign-up
    # asked again, the same refusal; still one customer
    with pytest.raises(errors.IdentityAlreadyRegistered):
        customers.verify_phone(w.deps, phone="01022220002", code="")
    assert list(w.db.customers) == [first]


def test_a_lost_start_answer_is_asked_again_with_its_key_not_sent_anew():
    w = _world()
    assert w.identity is not None
    w.identity.person("01033330003")
    w.identity.lose_next = 1
    _signup(w, "01033330003")  # the request is on the phone; our copy of its id was lost
    w.identity.confirm("01033330003")
    customers.verify_phone(w.deps, phone="01033330003", code="")
    assert len(w.identity.transactions) == 1  # the same key answered the same transaction
    assert len(w.db.customers) == 1


def test_a_provider_down_at_completion_keeps_the_request_and_asks_to_retry():
    w = _world()
    assert w.identity is not None
    w.identity.person("01044440004")
    _signup(w, "01044440004")
    w.identity.confirm("01044440004")
    w.identity.down = True
    with pytest.raises(errors.ServiceUnavailable):
        customers.verify_phone(w.deps, phone="01044440004", code="")
    assert w.db.customers == {}
    w.identity.down = False
    customers.verify_phone(w.deps, phone="01044440004", code="")
    assert len(w.db.customers) == 1


def test_completing_twice_answers_the_one_customer_without_a_second_session():
    w = _world()
    assert w.identity is not None
    w.identity.person("01055550005")
    customer_id = _signup(w, "01055550005")
    w.identity.confirm("01055550005")
    assert customers.verify_phone(w.deps, phone="01055550005", code="", sign_in=True)
    again = customers.verify_phone(w.deps, phone="01055550005", code="", sign_in=True)
    assert again is None
    assert list(w.db.customers) == [customer_id] and len(w.db.tokens) == 1


def test_a_request_denied_on_the_phone_makes_nothing():
    w = _world()
    assert w.identity is not None
    w.identity.person("01066660006")
    _signup(w, "01066660006")
    w.identity.confirm("01066660006", deny=True)
    with pytest.raises(errors.IdentityFailed):
        customers.verify_phone(w.deps, phone="01066660006", code="")
    assert w.db.customers == {}


def test_under_14_by_the_verified_birth_date_is_refused_whatever_was_typed():
    w = _world()
    assert w.identity is not None
    w.identity.person("01077770007", birth_date=date(2015, 1, 1))
    _signup(w, "01077770007", born=date(1990, 1, 1))
    w.identity.confirm("01077770007")
    with pytest.raises(errors.TooYoung):
        customers.verify_phone(w.deps, phone="01077770007", code="")
    assert w.db.customers == {}


def test_the_own_name_account_check_compares_with_the_verified_name():
    w = _world()
    assert w.identity is not None
    w.identity.person("01088880008", name="박서준")
    customer_id = _signup(w, "01088880008", name="박서윤")  # typed another name
    w.identity.confirm("01088880008")
    customers.verify_phone(w.deps, phone="01088880008", code="")
    w.bank.open("004", "12345678901", "박서윤")
    with pytest.raises(errors.HolderNameMismatch):
        bank_accounts.add_bank_account(
            w.deps, customer_id, bank_code="004", account_number="12345678901", holder_name="박서윤"
        )


def test_without_a_provider_the_sms_code_stays_the_phone_check():
    w = FakeWorld()
    assert w.deps.identity is None
    with pytest.raises(errors.IdentityNotConfigured):
        verification.start_link(w.deps, "c-1")


def test_a_customer_of_before_verifies_on_their_phone_and_takes_the_verified_name():
    w = _world()
    assert w.identity is not None
    c = w.customer("c-old", name="김민지 ")
    w.identity.person(c.phone, name="김민지", birth_date=date(1990, 5, 17))
    verification.start_link(w.deps, "c-old")
    with pytest.raises(errors.IdentityPending):
        verification.complete_link(w.deps, "c-old")
    w.identity.confirm(c.phone)
    verification.complete_link(w.deps, "c-old")
    assert w.db.customers["c-old"].name == "김민지" and "c-old" in w.db.identities
    verification.complete_link(w.deps, "c-old")  # again: nothing more
    assert len(w.db.identities) == 1


def test_a_second_customer_of_one_person_cannot_take_the_identity_of_the_first():
    w = _world()
    assert w.identity is not None
    first, second = w.customer("c-1"), w.customer("c-2")
    w.identity.person(first.phone, ci="ci-shared")
    w.identity.person(second.phone, ci="ci-shared")
    for c in (first, second):
        verification.start_link(w.deps, c.id)
        w.identity.confirm(c.phone)
    verification.complete_link(w.deps, "c-1")
    with pytest.raises(errors.IdentityAlreadyRegistered) as refused:
        verification.complete_link(w.deps, "c-2")
    assert refused.value.context["masked_phone"] == mask(first.phone)
    assert list(w.db.identities) == ["c-1"]


def mask(phone: str) -> str:
    return verification.mask_phone(phone)


def test_asking_again_sends_a_new_request_and_keeps_what_was_given():
    w = _world()
    assert w.identity is not None
    w.identity.person("01099990009", name="윤지아")
    customer_id = _signup(w, "01099990009")
    customers.resend_code(w.deps, phone="01099990009")
    assert len(w.identity.transactions) == 2  # the phone shows a new request
    customers.resend_code(w.deps, phone="01011112222")  # no sign-up waits: nothing, alike
    assert len(w.identity.transactions) == 2
    w.identity.confirm("01099990009")
    assert customers.verify_phone(w.deps, phone="01099990009", code="", sign_in=True)
    made = next(iter(w.db.customers.values()))
    assert made.name == "윤지아" and made.password_hash == "plain:" + PASSWORD
    assert made.id == customer_id  # the id the sign-up answered stays the one made
