"""The item, payout and bank-account state machines: the table is the only way to change
a status. A move the table allows becomes an event; any other fails an assertion (a bug in
the caller, never a conflict to answer or a race to retry)."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from itertools import pairwise, product

import pytest

from giftcash.domain.states import (
    BANK_ACCOUNT_TERMINAL,
    BANK_ACCOUNT_TRANSITIONS,
    ITEM_TERMINAL,
    ITEM_TRANSITIONS,
    PAYOUT_TERMINAL,
    PAYOUT_TRANSITIONS,
    BankAccountStatus,
    ItemStatus,
    Moved,
    PayoutStatus,
    transition,
    transitions,
)

IS, PS, BS = ItemStatus, PayoutStatus, BankAccountStatus


def advance_item(current, target):
    return transition("i-1", IS(current), IS(target)).target


def advance_payout(current, target):
    return transition("p-1", PS(current), PS(target)).target


ITEM_PAIRS = list(product(ItemStatus, repeat=2))
PAYOUT_PAIRS = list(product(PayoutStatus, repeat=2))
BANK_ACCOUNT_PAIRS = list(product(BankAccountStatus, repeat=2))


def _ids(pair: tuple[object, object]) -> str:
    return "->".join(str(s) for s in pair)


def reachable(table: Mapping, start) -> set:
    seen, todo = {start}, deque([start])
    while todo:
        for nxt in table[todo.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


# -- the tables cover every state -----------------------------------------------------


def test_every_state_has_a_row() -> None:
    assert set(ITEM_TRANSITIONS) == set(ItemStatus)
    assert set(PAYOUT_TRANSITIONS) == set(PayoutStatus)
    assert set(BANK_ACCOUNT_TRANSITIONS) == set(BankAccountStatus)
    for table in (ITEM_TRANSITIONS, PAYOUT_TRANSITIONS, BANK_ACCOUNT_TRANSITIONS):
        for targets in table.values():
            assert targets <= set(table)


# -- every pair, allowed or not -------------------------------------------------------


@pytest.mark.parametrize("pair", ITEM_PAIRS, ids=_ids)
def test_item_pairs(pair: tuple[ItemStatus, ItemStatus]) -> None:
    current, target = pair
    if target in ITEM_TRANSITIONS[current]:
        assert transition("i-1", current, target, "why") == Moved("i-1", current, target, "why")
        assert advance_item(current.value, target.value) is target
    else:
        with pytest.raises(AssertionError, match=f"ItemStatus: {current} -> {target}"):
            transition("i-1", current, target)


@pytest.mark.parametrize("pair", PAYOUT_PAIRS, ids=_ids)
def test_payout_pairs(pair: tuple[PayoutStatus, PayoutStatus]) -> None:
    current, target = pair
    if target in PAYOUT_TRANSITIONS[current]:
        assert advance_payout(current, target) is target
        assert advance_payout(current.value, target.value) is target
    else:
        with pytest.raises(AssertionError):
            advance_payout(current.value, target.value)


@pytest.mark.parametrize("pair", BANK_ACCOUNT_PAIRS, ids=_ids)
def test_bank_account_pairs(pair: tuple[BankAccountStatus, BankAccountStatus]) -> None:
    current, target = pair
    if target in BANK_ACCOUNT_TRANSITIONS[current]:
        assert transition("a-1", current, target).target is target
    else:
        with pytest.raises(AssertionError):
            transition("a-1", current, target)


def test_the_bank_account_table() -> None:
    assert _edges(BANK_ACCOUNT_TRANSITIONS) == {
        (BS.VERIFYING, BS.VERIFIED),
        (BS.VERIFYING, BS.FAILED),
        (BS.VERIFIED, BS.FAILED),
    }
    assert BANK_ACCOUNT_TERMINAL == {BS.FAILED}


def test_one_move_for_many_rows() -> None:
    assert transitions(["a", "b"], IS.REDEEMED, IS.PAYING) == [
        Moved("a", IS.REDEEMED, IS.PAYING),
        Moved("b", IS.REDEEMED, IS.PAYING),
    ]
    with pytest.raises(AssertionError):
        transitions(["a"], IS.PAID, IS.PAYING)


def test_most_pairs_are_illegal() -> None:
    # guards the two tests above against a table that allows everything
    allowed = sum(len(t) for t in ITEM_TRANSITIONS.values())
    assert allowed < len(ITEM_PAIRS) // 4


# -- the diagram in DESIGN.md ---------------------------------------------------------

DESIGN_ITEM_EDGES = {
    (IS.RECEIVED, IS.DECLINED),
    (IS.RECEIVED, IS.REVIEW),
    (IS.REVIEW, IS.RECEIVED),
    (IS.REVIEW, IS.DECLINED),
    (IS.RECEIVED, IS.REDEEMING),
    (IS.REDEEMING, IS.REDEEMED),
    (IS.REDEEMED, IS.PAYING),
    (IS.PAYING, IS.PAID),
    (IS.PAYING, IS.REDEEMED),
    (IS.REDEEMING, IS.INVALID),
}
DESIGN_PAYOUT_EDGES = {
    (PS.PENDING, PS.SENDING),
    (PS.SENDING, PS.SENT),
    (PS.SENT, PS.CONFIRMED),
    (PS.SENDING, PS.UNKNOWN),
    (PS.UNKNOWN, PS.SENT),
    (PS.SENT, PS.RETURNED),
}
# A payment stop (domain/stops.py, issue 14): a held payout resumes or is cancelled when
# the stop is settled, and the items it held end withheld (paid to the victim instead).
STOP_ITEM_EDGES = {
    (IS.REDEEMED, IS.WITHHELD),
    (IS.PAYING, IS.WITHHELD),
    (IS.STOCKED, IS.WITHHELD),
}
# Resale (DESIGN.md "Resale", item (resell)): received -> (verifying) -> stocked -> paying
# -> paid; "verifying" is the admission's balance inquiry in ``received``. A payout
# returned gives a stocked item back to stocked, as it gives a redeemed one to redeemed.
RESALE_ITEM_EDGES = {
    (IS.RECEIVED, IS.STOCKED),
    (IS.STOCKED, IS.PAYING),
    (IS.PAYING, IS.STOCKED),
}
STOP_PAYOUT_EDGES = {
    (PS.PENDING, PS.HELD),
    (PS.SENDING, PS.HELD),  # the bank's inquiry says it never got it
    (PS.UNKNOWN, PS.HELD),
    (PS.HELD, PS.PENDING),
    (PS.HELD, PS.CANCELLED),
}


def _edges(table: Mapping) -> set:
    return {(a, b) for a, targets in table.items() for b in targets}


def test_the_tables_hold_the_designed_transitions() -> None:
    assert DESIGN_ITEM_EDGES <= _edges(ITEM_TRANSITIONS)
    assert DESIGN_PAYOUT_EDGES <= _edges(PAYOUT_TRANSITIONS)


def test_the_item_table_has_nothing_beyond_the_design_and_failure() -> None:
    to_failed = {(s, IS.FAILED) for s in ItemStatus if s not in ITEM_TERMINAL}
    designed = DESIGN_ITEM_EDGES | RESALE_ITEM_EDGES | STOP_ITEM_EDGES
    assert _edges(ITEM_TRANSITIONS) == designed | to_failed


def test_only_a_payment_stop_holds_or_cancels_a_payout() -> None:
    into = {(a, b) for a, b in _edges(PAYOUT_TRANSITIONS) if PS.HELD in (a, b)}
    assert into | {(PS.HELD, PS.CANCELLED)} == STOP_PAYOUT_EDGES
    assert {a for a, b in _edges(PAYOUT_TRANSITIONS) if b is PS.CANCELLED} == {PS.HELD}


def test_paid_and_redeemed_items_never_go_back_to_redeeming() -> None:
    # redeeming twice would capture value twice
    for state in ItemStatus:
        if state is not IS.RECEIVED:
            assert IS.REDEEMING not in ITEM_TRANSITIONS[state]


# -- terminal states ------------------------------------------------------------------


def test_terminal_states() -> None:
    assert ITEM_TERMINAL == {IS.DECLINED, IS.INVALID, IS.PAID, IS.FAILED, IS.WITHHELD}
    assert PAYOUT_TERMINAL == {PS.CONFIRMED, PS.RETURNED, PS.REJECTED, PS.CANCELLED}


@pytest.mark.parametrize("state", sorted(ITEM_TERMINAL), ids=str)
def test_terminal_items_have_no_exit(state: ItemStatus) -> None:
    for target in ItemStatus:
        with pytest.raises(AssertionError):
            advance_item(state, target)


@pytest.mark.parametrize("state", sorted(PAYOUT_TERMINAL), ids=str)
def test_terminal_payouts_have_no_exit(state: PayoutStatus) -> None:
    for target in PayoutStatus:
        with pytest.raises(AssertionError):
            advance_payout(state, target)


# -- reachability ---------------------------------------------------------------------


@pytest.mark.parametrize("state", sorted(set(ItemStatus) - ITEM_TERMINAL), ids=str)
def test_every_open_item_can_reach_failed(state: ItemStatus) -> None:
    assert IS.FAILED in reachable(ITEM_TRANSITIONS, state)
    assert advance_item(state, IS.FAILED) is IS.FAILED  # in one step: never stuck


def test_every_item_state_is_reachable_from_received() -> None:
    assert reachable(ITEM_TRANSITIONS, IS.RECEIVED) == set(ItemStatus)


def test_every_payout_state_is_reachable_from_pending() -> None:
    assert reachable(PAYOUT_TRANSITIONS, PS.PENDING) == set(PayoutStatus)


@pytest.mark.parametrize("state", list(PayoutStatus), ids=str)
def test_every_payout_can_finish(state: PayoutStatus) -> None:
    assert reachable(PAYOUT_TRANSITIONS, state) & PAYOUT_TERMINAL


def test_an_unknown_status_name_is_not_a_transition() -> None:
    with pytest.raises(ValueError):
        advance_item("lost", "failed")


# -- resale: the seller's item and the unit of inventory -------------------------------

from giftcash.domain.states import UNIT_TERMINAL, UNIT_TRANSITIONS, UnitStatus  # noqa: E402

US = UnitStatus


def test_a_resell_item_is_stocked_from_received_and_paid_like_a_redeemed_one() -> None:
    # received -> stocked: the admission's balance inquiry is its verification
    path = [IS.RECEIVED, IS.STOCKED, IS.PAYING, IS.PAID]
    for a, b in pairwise(path):
        assert advance_item(a, b) is b
    # a payout returned or rejected gives it back to stocked, never to redeemed's path
    assert advance_item(IS.PAYING, IS.STOCKED) is IS.STOCKED
    assert IS.REDEEMING not in ITEM_TRANSITIONS[IS.STOCKED]
    assert IS.REDEEMED not in ITEM_TRANSITIONS[IS.STOCKED]
    # a payment stop withholds it; an operator's failure is always possible
    assert {IS.WITHHELD, IS.FAILED} <= ITEM_TRANSITIONS[IS.STOCKED]


@pytest.mark.parametrize("target", [IS.REDEEMING, IS.REDEEMED, IS.PAID, IS.RECEIVED])
def test_a_stocked_item_is_never_redeemed_or_paid_without_a_payout(target) -> None:
    with pytest.raises(AssertionError):
        transition("i-1", IS.STOCKED, target)


def test_the_unit_machine_follows_the_design() -> None:
    assert set(UNIT_TRANSITIONS) == set(UnitStatus)
    assert UNIT_TRANSITIONS[US.STOCKED] == {US.RESERVED, US.WITHDRAWN}
    assert UNIT_TRANSITIONS[US.RESERVED] == {US.DELIVERED, US.STOCKED, US.WITHDRAWN}
    assert UNIT_TRANSITIONS[US.DELIVERED] == {US.CLAIMED}
    assert UNIT_TRANSITIONS[US.CLAIMED] == {US.REFUNDED, US.UPHELD}
    assert UNIT_TERMINAL == {US.WITHDRAWN, US.REFUNDED, US.UPHELD}
    assert reachable(UNIT_TRANSITIONS, US.STOCKED) == set(UnitStatus)
    assert transition("u-1", US.STOCKED, US.RESERVED).target is US.RESERVED
    with pytest.raises(AssertionError):
        transition("u-1", US.STOCKED, US.DELIVERED)  # never delivered unreserved


# --- orders and deposits (resale, the buyer's side) ---

from giftcash.domain.states import (  # noqa: E402
    DEPOSIT_TERMINAL,
    DEPOSIT_TRANSITIONS,
    ORDER_TERMINAL,
    ORDER_TRANSITIONS,
    DepositStatus,
    OrderStatus,
)

OS, DS = OrderStatus, DepositStatus


def test_order_table_covers_every_status_and_is_reachable():
    assert set(ORDER_TRANSITIONS) == set(OrderStatus)
    assert reachable(ORDER_TRANSITIONS, OS.AWAITING_PAYMENT) == set(OrderStatus)
    assert ORDER_TERMINAL == {OS.DELIVERED, OS.EXPIRED, OS.REFUNDED}


@pytest.mark.parametrize(("a", "b"), list(product(OrderStatus, repeat=2)))
def test_order_moves_are_the_designs(a, b):
    allowed = {
        (OS.AWAITING_PAYMENT, OS.PAID),
        (OS.AWAITING_PAYMENT, OS.EXPIRED),
        (OS.PAID, OS.DELIVERED),
        (OS.PAID, OS.REFUNDED),
    }
    if (a, b) in allowed:
        assert transition("o-1", a, b) == Moved("o-1", a, b)
    else:
        with pytest.raises(AssertionError):
            transition("o-1", a, b)


@pytest.mark.parametrize(("a", "b"), list(product(DepositStatus, repeat=2)))
def test_deposit_moves_are_the_designs(a, b):
    allowed = {
        (DS.RECEIVED, DS.MATCHED),
        (DS.RECEIVED, DS.RETURNING),
        (DS.RETURNING, DS.RETURNED),
        (DS.MATCHED, DS.RETURNING),  # kept, but the order could not be delivered
    }
    if (a, b) in allowed:
        assert transition("d-1", a, b, "late").target is b
    else:
        with pytest.raises(AssertionError):
            transition("d-1", a, b)
    assert DEPOSIT_TERMINAL == {DS.RETURNED}
    assert set(DEPOSIT_TRANSITIONS) == set(DepositStatus)
