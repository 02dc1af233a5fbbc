"""Sign-up and account rules as people meet them: the age is counted in full years (만
나이) and under 14 is told so; the required consents are asked apart from the optional
ones and stored per version with their time, and a new version is asked again; the
1-won code is read as people type it; the banks most people use come first."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from fakes_uow import FakeWorld
from giftcash.domain.banks import BANKS, MOST_USED, banks_by_use
from giftcash.identity import consents
from giftcash.identity.bank_accounts import deposit_code
from giftcash.identity.customers import MIN_AGE_YEARS, _check_signup, age_years
from giftcash.service import errors

TODAY = date(2026, 12, 4)


@pytest.mark.parametrize(
    ("born", "years"),
    [(date(2012, 12, 4), 14), (date(2012, 12, 5), 13), (date(2000, 2, 29), 26)],
    ids=["birthday_today", "birthday_tomorrow", "leap_day"],
)
def test_age_is_counted_in_full_years(born: date, years: int) -> None:
    assert age_years(born, TODAY) == years


def test_under_14_is_told_so_not_that_the_date_is_wrong() -> None:
    with pytest.raises(errors.TooYoung):
        _check_signup("김민지", date(2012, 12, 5), "a long enough password", TODAY)
    assert _check_signup("김민지", date(2012, 12, 4), "a long enough password", TODAY)
    assert MIN_AGE_YEARS == 14
    with pytest.raises(errors.InvalidInput):  # the future is not a birth date
        _check_signup("김민지", date(2027, 1, 1), "a long enough password", TODAY)


def test_required_consents_must_be_given_optional_ones_may_be_left() -> None:
    with pytest.raises(errors.ConsentRequired) as refused:
        consents.check_answers({"terms": True}, consents.DOCUMENTS)
    assert refused.value.context["documents"] == ["privacy_collection"]
    consents.check_answers({"terms": True, "privacy_collection": True}, consents.DOCUMENTS)


def test_each_answer_is_stored_with_its_version_and_time_and_a_new_version_is_asked() -> None:
    w = FakeWorld()
    w.customer("c-1")
    assert consents.to_ask(w.deps, "c-1") == consents.DOCUMENTS  # never asked
    with w.deps.uow() as uow:
        answers = {"terms": True, "privacy_collection": True}
        consents.record(uow, w.deps, "c-1", answers, w.clock.now())
        uow.commit()
    given = consents.current(w.deps, "c-1")
    assert {d: (g.version, g.agreed, g.at) for d, g in given.items()} == {
        "terms": (consents.TERMS.version, True, w.clock.now()),
        "privacy_collection": (consents.PRIVACY.version, True, w.clock.now()),
        "marketing_sms": (consents.MARKETING_SMS.version, False, w.clock.now()),
    }
    assert consents.to_ask(w.deps, "c-1") == ()


def test_a_changed_version_is_asked_again_and_answered_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = FakeWorld()
    w.customer("c-1")
    with w.deps.uow() as uow:
        consents.record(
            uow, w.deps, "c-1", {"terms": True, "privacy_collection": True}, w.clock.now()
        )
        uow.commit()
    terms_v2 = replace(consents.TERMS, version="2027-01-01")
    monkeypatch.setattr(consents, "DOCUMENTS", (terms_v2, consents.PRIVACY, consents.MARKETING_SMS))
    assert consents.to_ask(w.deps, "c-1") == (terms_v2,)
    with pytest.raises(errors.ConsentRequired):
        consents.answer(w.deps, "c-1", {})
    consents.answer(w.deps, "c-1", {"terms": True})
    assert consents.current(w.deps, "c-1")["terms"].version == "2027-01-01"
    assert len(w.db.consents) == 4  # three at sign-up, one for the new version


@pytest.mark.parametrize(
    "typed", ["GC1234", "gc1234", " gc 12 34 ", "1234", "GC-1234", "ｇｃ１２３４"]
)
def test_the_one_won_code_is_read_as_people_type_it(typed: str) -> None:
    assert deposit_code(typed) == "1234"


def test_the_banks_most_people_use_come_first_and_search_finds_them() -> None:
    most, rest = banks_by_use()
    assert most == list(MOST_USED) and most[:4] == ["004", "088", "020", "081"]
    assert set(most) | set(rest) == set(BANKS) and not set(most) & set(rest)
    assert banks_by_use("카카오") == (["090"], [])
    assert banks_by_use("kakao bank") == (["090"], [])
    assert banks_by_use("부산") == ([], ["032"])
    assert banks_by_use("nothing like it") == ([], [])
