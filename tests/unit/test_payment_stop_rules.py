"""Payment stops (지급정지) as rules and as use cases over the in-memory fakes: what a stop
covers, what it finds each item doing, what settling does to each, the stop's own state
machine; filing freezes a payout not yet sent, a release sends it again, a settlement
moves what was owed to the stop's liability; every change is audited, refusals too."""

from __future__ import annotations

from itertools import product

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fakes_uow import FakeWorld
from giftcash.domain import ledger
from giftcash.domain import stops as rules
from giftcash.domain.states import ItemStatus as IS
from giftcash.domain.states import PayoutStatus as PS
from giftcash.identity.operators import ForbiddenRole, Operator
from giftcash.service import errors
from giftcash.stops import filing

FINANCE = Operator("op-1", "finance1", "finance")
BANK = Operator("op-2", "kb-desk", "stop_requester")
F, SM = rules.Finding, rules.SettleMove

# -- what a stop covers -----------------------------------------------------------------------

SUBJECT = rules.Subject(customer_id="c-1", code_hmac="code-h", account_hmac="acct-h")


@pytest.mark.parametrize(
    ("scope", "key", "covered"),
    [
        ("customer", "c-1", True),
        ("customer", "c-2", False),
        ("code", "code-h", True),
        ("code", "acct-h", False),  # a code's stop never matches an account's hash
        ("account", "acct-h", True),
        ("account", "code-h", False),
    ],
)
def test_a_stop_covers_what_it_names_and_nothing_else(scope: str, key: str, covered: bool):
    assert rules.covers(rules.StopKey(rules.StopScope(scope), key), SUBJECT) is covered


def test_an_item_without_a_known_account_is_not_covered_by_an_account_stop():
    no_account = rules.Subject("c-1", "code-h", None)
    assert not rules.covers(rules.StopKey(rules.StopScope.ACCOUNT, "acct-h"), no_account)


# -- what a stop finds ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "payout", "item_leased", "payout_leased", "found"),
    [
        (IS.RECEIVED, None, False, False, F.HELD),
        (IS.RECEIVED, None, True, False, F.HELD),  # only asked about: nothing captured yet
        (IS.REDEEMING, None, False, False, F.HELD),  # waiting for a retry: not called again
        (IS.REDEEMING, None, True, False, F.IN_FLIGHT),  # claimed before the stop
        (IS.REDEEMED, None, False, False, F.HELD),
        (IS.PAYING, PS.PENDING, False, False, F.HELD),
        (IS.PAYING, PS.SENDING, False, True, F.IN_FLIGHT),
        (IS.PAYING, PS.UNKNOWN, False, False, F.IN_DOUBT),
        (IS.PAYING, PS.SENT, False, False, F.PAID_BEFORE),
        (IS.PAID, PS.CONFIRMED, False, False, F.PAID_BEFORE),
        (IS.DECLINED, None, False, False, F.CLOSED),
        (IS.WITHHELD, PS.CANCELLED, False, False, F.CLOSED),
    ],
)
def test_what_a_stop_finds(item, payout, item_leased, payout_leased, found):
    assert (
        rules.finding(item, payout, item_leased=item_leased, payout_leased=payout_leased) is found
    )


@pytest.mark.parametrize(
    ("item", "payout", "leased", "move"),
    [
        (IS.RECEIVED, None, False, SM.DECLINE),
        (IS.REVIEW, None, False, SM.DECLINE),
        (IS.REDEEMING, None, False, SM.FAIL),
        (IS.REDEEMING, None, True, SM.WAIT),
        (IS.REDEEMED, None, False, SM.WITHHOLD),
        (IS.PAYING, PS.HELD, False, SM.WITHHOLD),
        (IS.PAYING, PS.PENDING, False, SM.WITHHOLD),
        (IS.PAYING, PS.UNKNOWN, False, SM.WAIT),
        (IS.PAYING, PS.SENT, False, SM.WAIT),
        (IS.PAID, PS.CONFIRMED, False, SM.NOTHING),
        (IS.INVALID, None, False, SM.NOTHING),
    ],
)
def test_what_settling_does_to_each_item(item, payout, leased, move):
    assert rules.settle_move(item, payout, item_leased=leased) is move


ITEMS = st.sampled_from(list(IS))
PAYOUTS = st.one_of(st.none(), st.sampled_from(list(PS)))


@given(ITEMS, PAYOUTS, st.booleans(), st.booleans())
def test_money_that_left_is_never_withheld_and_nothing_held_is_called_out(
    item, payout, item_leased, payout_leased
):
    found = rules.finding(item, payout, item_leased=item_leased, payout_leased=payout_leased)
    move = rules.settle_move(item, payout, item_leased=item_leased)
    if found is F.PAID_BEFORE:  # the customer has the money: a settlement takes nothing
        assert move in (SM.NOTHING, SM.WAIT)
    if move is SM.WITHHOLD:  # only what we still owe, and only what no bank call carries
        # (a resold voucher's stocked item: its seller's price is owed like a redeemed one's)
        owed = (IS.REDEEMED, IS.STOCKED, IS.PAYING)
        assert item in owed and payout in (None, PS.PENDING, PS.HELD)
    if found is F.HELD:
        assert not item_leased or item is not IS.REDEEMING


def test_the_stop_state_machine():
    for a, b in product(rules.StopState, repeat=2):
        if a is rules.StopState.ACTIVE and b is not rules.StopState.ACTIVE:
            assert rules.advance(a, b) is b
        else:
            with pytest.raises(rules.StopNotActive):
                rules.advance(a, b)


# -- the use cases over the fakes -----------------------------------------------------------


@pytest.fixture
def world() -> FakeWorld:
    w = FakeWorld()
    w.customer("c-1")
    w.bank_account("c-1", "a-1")
    w.db.bank_accounts["a-1"]["account_number_hmac"] = "acct-h"
    w.submission("c-1", "a-1", "s-1")
    w.item("i-1", "paying", payout=9_000)
    w.item("i-2", "redeemed", payout=4_500)
    w.item("i-3", "received")
    w.db.items["i-1"]["payout_id"] = "p-1"
    w.db.payouts["p-1"] = {
        "id": "p-1",
        "customer_id": "c-1",
        "bank_account_id": "a-1",
        "currency": "KRW",
        "amount": 9_000,
        "status": "pending",
    }
    return w


def _payable(world: FakeWorld) -> list:
    with world.deps.uow() as uow:
        return uow.items.payable_groups(world.clock.now(), 10)


def _by_customer(**more: str) -> filing.StopRequest:
    fields = {
        "scope": "customer",
        "requester": "police",
        "requester_name": "경찰청",
        "requester_contact": "182",
        "reference": "P-1",
        "reason": "피해금",
        "customer_id": "c-1",
    }
    return filing.StopRequest(**{**fields, **more})


def test_filing_freezes_the_payout_not_yet_sent_and_audits(world: FakeWorld):
    detail = filing.file_stop(world.deps, BANK, _by_customer())
    assert detail.found == {"held": 3}
    assert world.db.payouts["p-1"]["status"] == "held"
    assert [(r.action, (r.detail or {})["outcome"]) for r in world.db.audit] == [
        ("payment_stop.file", "done")
    ]
    assert _payable(world) == []


def test_a_requester_sees_its_own_stops_and_may_not_release_them(world: FakeWorld):
    stop = filing.file_stop(world.deps, BANK, _by_customer()).stop
    other = Operator("op-3", "other-bank", "stop_requester")
    with pytest.raises(filing.StopNotFound):
        filing.get_stop(world.deps, other, stop.id)
    assert filing.list_stops(world.deps, other, state=None, cursor=None, limit=10) == []
    with pytest.raises(ForbiddenRole):
        filing.release_stop(world.deps, BANK, stop.id, "오인")
    assert world.db.payment_stops[stop.id].state == "active"


def test_a_release_lets_the_held_payout_go_once_and_cannot_be_repeated(world: FakeWorld):
    stop = filing.file_stop(world.deps, BANK, _by_customer()).stop
    released = filing.release_stop(world.deps, FINANCE, stop.id, "  무혐의   확인 ")
    assert released.stop.state == "released" and released.stop.close_reason == "무혐의 확인"
    assert world.db.payouts["p-1"]["status"] == "pending"
    (group,) = _payable(world)
    assert group.item_ids == ["i-2"]  # i-1 rides in p-1 already
    with pytest.raises(rules.StopNotActive):
        filing.settle_stop(world.deps, FINANCE, stop.id, "늦음")
    outcomes = [(r.action, (r.detail or {})["outcome"]) for r in world.db.audit]
    assert outcomes[-1] == ("payment_stop.settle", "refused")


def test_settling_moves_what_was_owed_to_the_stop_and_ends_the_items(world: FakeWorld):
    stop = filing.file_stop(world.deps, BANK, _by_customer()).stop
    filing.settle_stop(world.deps, FINANCE, stop.id, "피해자 환급")
    items = world.db.items
    assert [items[i]["status"] for i in ("i-1", "i-2", "i-3")] == [
        "withheld",
        "withheld",
        "declined",
    ]
    assert items["i-3"]["decline_code"] == "payment_stop"
    assert world.db.payouts["p-1"]["status"] == "cancelled"
    with world.deps.uow() as uow:
        stop_owes = uow.ledger.balance(ledger.payment_stop_account(stop.id), "KRW")
        customer_debited = uow.ledger.balance(ledger.customer_account("c-1"), "KRW")
    assert stop_owes == -(9_000 + 4_500)
    assert customer_debited == 9_000 + 4_500  # the fake world holds no redemption credit


def test_a_code_stop_holds_one_voucher_and_no_payout_that_does_not_carry_it(world: FakeWorld):
    world.db.items["i-2"]["code_hmac"] = world.deps.vault.hmac("4180000000000002")
    stop = filing.file_stop(
        world.deps, BANK, _by_customer(scope="code", code=" 4180 0000 0000 0002 ")
    ).stop
    assert filing.get_stop(world.deps, BANK, stop.id).found == {"held": 1}
    assert stop.subject_masked.endswith("0002")
    assert _payable(world) == []  # i-2, the only redeemed item, is held
    assert world.db.payouts["p-1"]["status"] == "pending"  # i-1's payout does not carry it


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"scope": "planet"}, "scope"),
        ({"requester": "neighbour"}, "requester"),
        ({"reason": "   "}, "reason"),
        ({"reference": "x" * 200}, "reference"),
        ({"scope": "account", "bank_code": "004", "account_number": None}, "account_number"),
    ],
)
def test_bad_requests_are_refused_with_the_field(world: FakeWorld, change, field):
    with pytest.raises(errors.InvalidInput) as e:
        filing.file_stop(world.deps, BANK, _by_customer(**change))
    assert e.value.context.get("field") == field
    assert world.db.payment_stops == {}
