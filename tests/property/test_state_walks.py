"""Random walks through the item, payout and bank-account state machines: whatever is
tried, only the table's transitions ever happen, a refused step changes nothing, and a
move the table forbids never becomes an event (``transition`` asserts: a bug, not a
race)."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    allows,
    transition,
)

PROPERTY = settings(deadline=None)


def advance(state, target):
    """The walk's step: the event when the table allows the move, else None (the caller
    who would have asked is told no; ``transition`` itself would fail its assertion)."""
    if not allows(state, target):
        with pytest.raises(AssertionError):
            transition("row-1", state, target)
        return None
    return transition("row-1", state, target)


def walk(table: Mapping, start, attempts: list, terminal: frozenset) -> list[tuple]:
    """Try every target in ``attempts`` from wherever the walk is; return the steps taken."""
    state, taken = start, []
    for target in attempts:
        event = advance(state, target)
        if event is None:
            assert target not in table[state]
            continue
        assert event == Moved("row-1", state, target)
        taken.append((state, event.target))
        state = event.target
    assert all(b in table[a] for a, b in taken)
    if state in terminal:
        assert table[state] == frozenset()
    return taken


@PROPERTY
@given(
    start=st.sampled_from(list(ItemStatus)),
    attempts=st.lists(st.sampled_from(list(ItemStatus)), max_size=60),
)
def test_item_walks_take_only_listed_transitions(start, attempts) -> None:
    taken = walk(ITEM_TRANSITIONS, start, attempts, ITEM_TERMINAL)
    # a refused attempt leaves the walk where it was: each step starts where the last ended
    assert all(a[1] == b[0] for a, b in pairwise(taken))


@PROPERTY
@given(
    start=st.sampled_from(list(PayoutStatus)),
    attempts=st.lists(st.sampled_from(list(PayoutStatus)), max_size=60),
)
def test_payout_walks_take_only_listed_transitions(start, attempts) -> None:
    walk(PAYOUT_TRANSITIONS, start, attempts, PAYOUT_TERMINAL)


@PROPERTY
@given(
    start=st.sampled_from(list(BankAccountStatus)),
    attempts=st.lists(st.sampled_from(list(BankAccountStatus)), max_size=30),
)
def test_bank_account_walks_take_only_listed_transitions(start, attempts) -> None:
    taken = walk(BANK_ACCOUNT_TRANSITIONS, start, attempts, BANK_ACCOUNT_TERMINAL)
    # an account is verified at most once, and once failed it stays failed
    assert [b for _, b in taken].count(BankAccountStatus.VERIFIED) <= 1
    if BankAccountStatus.FAILED in [b for _, b in taken]:
        assert taken[-1][1] is BankAccountStatus.FAILED


@PROPERTY
@given(choices=st.lists(st.integers(min_value=0), min_size=1, max_size=10))
def test_guided_bank_account_walks_end_failed_or_verified(choices: list[int]) -> None:
    state = BankAccountStatus.VERIFYING
    for choice in choices:
        options = sorted(BANK_ACCOUNT_TRANSITIONS[state])
        if not options:
            break
        state = transition("a-1", state, options[choice % len(options)]).target
    assert state in BANK_ACCOUNT_TRANSITIONS
    assert BANK_ACCOUNT_TERMINAL == {BankAccountStatus.FAILED}


def test_every_table_covers_its_statuses() -> None:
    for table, statuses in (
        (ITEM_TRANSITIONS, ItemStatus),
        (PAYOUT_TRANSITIONS, PayoutStatus),
        (BANK_ACCOUNT_TRANSITIONS, BankAccountStatus),
    ):
        assert set(table) == set(statuses)
        assert all(t in statuses for targets in table.values() for t in targets)


@PROPERTY
@given(choices=st.lists(st.integers(min_value=0), min_size=1, max_size=40))
def test_guided_item_walks_from_received_end_in_a_listed_state(choices: list[int]) -> None:
    # Always pick an allowed target, so long walks do happen (unlike blind attempts).
    state, visited = ItemStatus.RECEIVED, [ItemStatus.RECEIVED]
    for choice in choices:
        options = sorted(ITEM_TRANSITIONS[state])
        if not options:
            assert state in ITEM_TERMINAL
            break
        state = transition("i-1", state, options[choice % len(options)]).target
        visited.append(state)
    pairs = list(pairwise(visited))
    assert all(b in ITEM_TRANSITIONS[a] for a, b in pairs)
    bought_states = (ItemStatus.REDEEMED, ItemStatus.STOCKED)
    # an item is paid at most once per walk, and only after being bought: redeemed at its
    # issuer, or stocked for resale
    if ItemStatus.PAID in visited:
        assert visited.count(ItemStatus.PAID) == 1
        bought = [n for n, s in enumerate(visited) if s in bought_states]
        assert bought and bought[0] < visited.index(ItemStatus.PAID)
