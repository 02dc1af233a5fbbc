"""Own-name bank accounts, without a database: the holder's name is checked with us and
with the bank before anything is written; the 1-won deposit is an intent committed
before the bank is called and an outcome committed after; the memo's code proves the
account, a wrong one is counted, and too many wrong ones end the attempt."""

from __future__ import annotations

import re

import pytest

from fakes_uow import FakeWorld
from giftcash.identity.bank_accounts import add_bank_account, verify_bank_account
from giftcash.identity.secrets import code_hash
from giftcash.service import errors
from giftcash.service.ports import Deposit

NUMBER = "110-123-456789"


@pytest.fixture
def world() -> FakeWorld:
    w = FakeWorld()
    w.customer("c-1", name="김민지")
    w.bank.open("088", "110123456789", "김민지")
    return w


def add(world: FakeWorld, holder: str = "김민지", number: str = NUMBER):
    return add_bank_account(
        world.deps, "c-1", bank_code="088", account_number=number, holder_name=holder
    )


def test_an_own_name_account_is_added_and_sent_one_won_with_a_code(world: FakeWorld) -> None:
    acct = add(world)
    assert (acct.status, acct.holder_name) == ("verifying", "김민지")
    assert acct.account_number_masked.endswith("6789")
    (transfer,) = world.bank.transfers.values()
    assert transfer["amount"] == 1
    assert re.fullmatch(r"GC\d{4}", transfer["memo"])
    # the real-name inquiry's bound was recorded before the bank was asked (it costs
    # money), the intent (with its bank_tran_id) committed before the deposit, the outcome
    # after
    assert world.db.commits == 3
    assert [c["kind"] for c in world.db.bounded_calls] == ["real_name", "deposit"]
    assert acct.verify_bank_tran_id in world.bank.transfers
    # the won it cost is on the books
    assert world.db.transfers[f"verify:{acct.id}"].kind == "account_verification"
    assert "110123456789" not in str(world.db.bank_accounts), "the number is stored encrypted"


@pytest.mark.parametrize(
    ("holder", "bank_holder", "refusal"),
    [
        ("홍길동", "김민지", errors.HolderNameMismatch),  # not the customer's own name
        ("김민지", "박서연", errors.HolderNameMismatch),  # the bank names someone else
        ("김민지", None, errors.BankAccountUnknownAtBank),
    ],
    ids=["customer_names_another", "bank_names_another", "bank_does_not_know_it"],
)
def test_an_account_not_in_the_customers_name_is_refused_before_anything_is_written(
    world: FakeWorld, holder: str, bank_holder: str | None, refusal: type[Exception]
) -> None:
    world.bank.accounts.clear()
    if bank_holder is not None:
        world.bank.open("088", "110123456789", bank_holder)
    with pytest.raises(refusal):
        add(world, holder)
    assert not world.db.bank_accounts
    assert not world.bank.transfers, "no won is sent"
    # the only thing written: the bound's record of an inquiry the bank was asked (it costs
    # money); a name that is not the customer's own is refused before anything is asked
    asked = ["real_name"] if holder == "김민지" else []
    assert [c["kind"] for c in world.db.bounded_calls] == asked
    assert world.db.commits == len(asked)


def test_a_deposit_the_bank_rejects_fails_the_account(world: FakeWorld) -> None:
    def rejected(bank_tran_id: str, *args: object) -> Deposit:
        return Deposit("rejected", bank_tran_id, 1, "account closed")

    world.bank.deposit = rejected  # type: ignore[method-assign]
    acct = add(world)
    assert acct.status == "failed"
    assert not world.db.transfers, "no won left us, so none is booked"


def test_a_lost_answer_is_settled_by_inquiry_not_sent_twice(world: FakeWorld) -> None:
    world.bank.lose_next = 1
    acct = add(world)
    assert len(world.bank.transfers) == 1
    assert acct.status == "verifying"
    assert f"verify:{acct.id}" in world.db.transfers


def memo_code(world: FakeWorld) -> str:
    (transfer,) = world.bank.transfers.values()
    return transfer["memo"].removeprefix("GC")


def test_the_memos_code_verifies_the_account(world: FakeWorld) -> None:
    acct = add(world)
    verified = verify_bank_account(world.deps, "c-1", acct.id, memo_code(world))
    assert (verified.status, verified.verified_at) == ("verified", world.clock.now())
    assert world.db.bank_accounts[acct.id]["verify_code_hash"] is None, "the code is spent"
    # verifying again is a no-op answer, not an error
    assert verify_bank_account(world.deps, "c-1", acct.id, "0000").status == "verified"


def test_the_code_may_be_typed_with_its_memo_prefix(world: FakeWorld) -> None:
    acct = add(world)
    code = f" gc{memo_code(world)} "
    assert verify_bank_account(world.deps, "c-1", acct.id, code).status == "verified"


def test_a_wrong_code_is_counted_and_enough_of_them_end_the_attempt(world: FakeWorld) -> None:
    acct = add(world)
    wrong = "0000" if memo_code(world) != "0000" else "1111"
    commits = world.db.commits
    for n in range(world.deps.limits.account_verify_attempts):
        with pytest.raises(errors.InvalidCode):
            verify_bank_account(world.deps, "c-1", acct.id, wrong)
        assert world.db.bank_accounts[acct.id]["verify_attempts"] == n + 1
    assert world.db.commits == commits + world.deps.limits.account_verify_attempts
    with pytest.raises(errors.TooManyAttempts):
        verify_bank_account(world.deps, "c-1", acct.id, memo_code(world))
    assert world.db.bank_accounts[acct.id]["status"] == "verifying"


def test_another_customers_account_cannot_be_verified(world: FakeWorld) -> None:
    acct = add(world)
    world.customer("c-2", name="이서준")
    with pytest.raises(errors.BankAccountNotFound):
        verify_bank_account(world.deps, "c-2", acct.id, memo_code(world))


def test_a_stored_code_is_salted_with_the_account(world: FakeWorld) -> None:
    acct = add(world)
    stored = world.db.bank_accounts[acct.id]["verify_code_hash"]
    assert stored == code_hash(acct.id, memo_code(world))
    assert memo_code(world) not in stored
