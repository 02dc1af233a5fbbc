"""Intake and its screening, without a database: what the customer sends, what is
decided per item, what is written, and that a submission is one transaction (one commit,
or nothing at all when the request is refused)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fakes_uow import FakeWorld
from giftcash.intake.submissions import ItemIn, submit
from giftcash.service import errors

CODE_A = "4161-2345-6789-0123"
CODE_B = "4161-2345-6789-9999"


@pytest.fixture
def world() -> FakeWorld:
    w = FakeWorld()
    w.customer("c-1")
    w.bank_account("c-1", "a-1")
    return w


def cash(code: str, face: int = 10_000, brand: str = "cultureland") -> ItemIn:
    return ItemIn(brand, code, face, "cash")


def sell(world: FakeWorld, *items: ItemIn, customer: str = "c-1", account: str = "a-1"):
    return submit(world.deps, customer, bank_account_id=account, items=list(items))


def test_two_good_codes_make_one_submission_of_two_received_items(world: FakeWorld) -> None:
    view = sell(world, cash(CODE_A), cash(CODE_B, 50_000))
    assert [it.status for it in view.items] == ["received", "received"]
    assert view.totals["face_value"] == 60_000
    assert view.totals["payout"] == 54_000  # 90% of face, the brand's rate
    # written: one submission, two items, two registered codes, in one commit
    assert list(world.db.submissions) == [view.submission.id]
    assert len(world.db.items) == 2 and len(world.db.codes) == 2
    assert world.db.commits == 1


def test_a_code_is_stored_encrypted_and_shown_masked(world: FakeWorld) -> None:
    view = sell(world, cash(CODE_A))
    row = world.db.items[view.items[0].id]
    assert view.items[0].masked_code == "************0123"
    assert b"4161234567890123" not in row["code_enc"]
    assert "4161234567890123" not in str(row)


def test_a_large_first_sale_is_held_for_a_day_a_small_one_is_not(world: FakeWorld) -> None:
    """No paid sale yet and above 50,000 won in all: the payout waits 24 hours (fraud gets
    time to surface); up to 50,000 won it does not."""
    small = sell(world, cash(CODE_A, 50_000))
    assert small.items[0].hold_until is None
    large = sell(world, cash(CODE_B, 10_000), cash("4161-2345-6789-2222", 50_000))
    assert {it.status for it in large.items} == {"received"}
    assert large.items[1].hold_until == world.clock.now() + timedelta(hours=24)


def test_a_malformed_code_is_declined_and_counted_as_a_failure(world: FakeWorld) -> None:
    view = sell(world, cash(CODE_A), cash("1234"))
    assert [(it.status, it.decline_code) for it in view.items] == [
        ("received", None),
        ("declined", "invalid_format"),
    ]
    assert [(f["kind"], f["customer_id"]) for f in world.db.failures] == [("invalid_code", "c-1")]
    assert len(world.db.codes) == 1, "a declined item does not take its code"
    assert world.db.commits == 1


def test_a_carrier_billed_voucher_is_declined_with_its_lawful_routes(world: FakeWorld) -> None:
    view = sell(world, ItemIn("cultureland", CODE_A, 10_000, "carrier_billing"))
    item = view.items[0]
    assert (item.status, item.decline_code) == ("declined", "carrier_billing_prohibited")
    assert item.decision is not None and item.decision["statutory"] is True
    assert item.decision["routes"], "the customer is told the lawful ways to get money back"
    assert view.totals["payout"] == 0


def test_the_issuer_kill_switch_declines_its_vouchers_at_intake(world: FakeWorld) -> None:
    world.db.issuer_overrides["cultureland"] = {"enabled": False}
    view = sell(world, cash(CODE_A), cash("2345-6789-0123-456789", brand="munhwa"))
    assert [(it.brand_id, it.decline_code) for it in view.items] == [
        ("cultureland", "issuer_disabled"),
        ("munhwa", None),
    ]


def test_a_code_already_sold_by_someone_else_is_declined_as_a_duplicate(
    world: FakeWorld,
) -> None:
    world.customer("c-2", name="이서준")
    world.bank_account("c-2", "a-2")
    first = sell(world, cash(CODE_A), customer="c-2", account="a-2")
    second = sell(world, cash(CODE_A))
    assert first.items[0].status == "received"
    assert (second.items[0].status, second.items[0].decline_code) == ("declined", "duplicate_code")
    # the registry keeps its first owner
    assert [c["customer_id"] for c in world.db.codes.values()] == ["c-2"]
    assert world.db.commits == 2


def test_the_same_code_twice_in_one_request_is_refused_whole(world: FakeWorld) -> None:
    with pytest.raises(errors.DuplicateInRequest):
        sell(world, cash(CODE_A), cash(" 4161 2345 6789 0123 "))
    assert world.db.commits == 0 and not world.db.items


@pytest.mark.parametrize(
    ("setup", "refusal"),
    [
        (lambda w: w.customer("c-1", phone_verified=False), errors.PhoneNotVerified),
        (lambda w: w.bank_account("c-1", "a-1", status="verifying"), errors.BankAccountNotVerified),
        (lambda w: w.bank_account("c-1", "a-1", status="failed"), errors.BankAccountNotVerified),
        (
            lambda w: (w.customer("c-2", name="이서준"), w.bank_account("c-2", "a-1")),
            errors.BankAccountNotFound,
        ),
    ],
    ids=["phone_not_verified", "account_verifying", "account_failed", "someone_elses_account"],
)
def test_a_refused_submission_writes_nothing(world: FakeWorld, setup, refusal) -> None:
    setup(world)
    with pytest.raises(refusal):
        sell(world, cash(CODE_A))
    assert world.db.commits == 0
    assert not world.db.submissions and not world.db.items and not world.db.codes


def test_a_submission_has_one_to_the_limit_of_items(world: FakeWorld) -> None:
    with pytest.raises(errors.TooManyItems):
        sell(world)
    limit = world.deps.limits.max_items_per_submission
    too_many = [cash(f"4161{i:012d}") for i in range(limit + 1)]
    with pytest.raises(errors.TooManyItems):
        sell(world, *too_many)
    assert world.db.commits == 0
