"""A reviewer's decision, without a database: approve sends the item on to redemption,
decline ends it with the review's own code; either is audited in the same commit, and a
refused decision is rolled back and its refusal audited on its own."""

from __future__ import annotations

import pytest

from fakes_uow import FakeWorld
from giftcash.audit import log as audit
from giftcash.domain.errors import IllegalTransition
from giftcash.identity.operators import Operator
from giftcash.review import queue as review
from giftcash.service import errors

REVIEWER = Operator(id="op-1", username="reviewer", role="reviewer")


@pytest.fixture
def world() -> FakeWorld:
    w = FakeWorld()
    w.customer("c-1")
    w.bank_account("c-1", "a-1")
    w.submission("c-1", "a-1", "s-1")
    w.item("i-1", "review")
    return w


def audit_trail(world: FakeWorld) -> list[tuple[str, str | None, str]]:
    return [(r.action, r.subject, (r.detail or {})["outcome"]) for r in world.db.audit]


def test_an_approved_item_goes_back_to_received_for_redemption(world: FakeWorld) -> None:
    item = review.approve(world.deps, REVIEWER, "i-1", "  seller  known,   receipts  seen ")
    assert (item.status, item.decline_code) == ("received", None)
    row = world.db.items["i-1"]
    assert (row["reviewed_by"], row["reviewed_at"]) == ("operator:reviewer", world.clock.now())
    assert row["review_note"] == "seller known, receipts seen"
    assert ("i-1", "review", "received") in world.db.item_events
    assert audit_trail(world) == [("item.approve", "item:i-1", "done")]
    assert world.db.commits == 1


def test_a_declined_item_ends_with_the_reviews_code(world: FakeWorld) -> None:
    item = review.decline(world.deps, REVIEWER, "i-1", "receipt does not match")
    assert (item.status, item.decline_code) == ("declined", review.REVIEW_DECLINE_CODE)
    assert item.decline_message == review.REVIEW_DECLINE_MESSAGE
    assert audit_trail(world) == [("item.decline", "item:i-1", "done")]
    assert world.db.commits == 1


def test_a_second_decision_on_the_same_item_is_refused_and_changes_nothing(
    world: FakeWorld,
) -> None:
    review.approve(world.deps, REVIEWER, "i-1", "ok")
    with pytest.raises(IllegalTransition):
        review.decline(world.deps, REVIEWER, "i-1", "changed my mind")
    row = world.db.items["i-1"]
    assert (row["status"], row["decline_code"], row["review_note"]) == ("received", None, "ok")
    # the refusal is on the record, committed on its own
    assert audit_trail(world) == [
        ("item.approve", "item:i-1", "done"),
        ("item.decline", "item:i-1", "refused"),
    ]
    assert world.db.audit[-1].detail["code"] == "illegal_transition"
    assert world.db.commits == 2


@pytest.mark.parametrize("reason", ["", "   ", "x" * (review.MAX_REASON + 1)])
def test_a_decision_needs_a_reason(world: FakeWorld, reason: str) -> None:
    with pytest.raises(errors.InvalidInput):
        review.approve(world.deps, REVIEWER, "i-1", reason)
    assert world.db.items["i-1"]["status"] == "review"
    assert audit_trail(world) == [("item.approve", "item:i-1", "refused")]


def test_an_unknown_item_is_not_found_and_the_attempt_is_audited(world: FakeWorld) -> None:
    with pytest.raises(review.ItemNotFound):
        review.approve(world.deps, REVIEWER, "no-such-item", "ok")
    assert audit_trail(world) == [("item.approve", "item:no-such-item", "refused")]


def test_the_decisions_form_an_unbroken_audit_chain(world: FakeWorld) -> None:
    world.item("i-2", "review")
    review.approve(world.deps, REVIEWER, "i-1", "ok")
    with pytest.raises(IllegalTransition):
        review.approve(world.deps, REVIEWER, "i-1", "again")
    review.decline(world.deps, REVIEWER, "i-2", "no")
    records = world.db.audit
    assert [r.seq for r in records] == [1, 2, 3]
    assert audit.check_chain(records, (records[-1].seq, records[-1].hash)) == []
