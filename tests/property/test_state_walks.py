"""Random walks through the item and payout state machines: whatever is tried, only the
table's transitions ever happen, and a refused step changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from giftcash.domain.errors import IllegalTransition
from giftcash.domain.states import (
    ITEM_TERMINAL,
    ITEM_TRANSITIONS,
    PAYOUT_TERMINAL,
    PAYOUT_TRANSITIONS,
    ItemStatus,
    PayoutStatus,
    advance_item,
    advance_payout,
)

PROPERTY = settings(deadline=None)


def walk(
    table: Mapping, advance: Callable, start, attempts: list, terminal: frozenset
) -> list[tuple]:
    """Try every target in ``attempts`` from wherever the walk is; return the steps taken."""
    state, taken = start, []
    for target in attempts:
        try:
            new = advance(state, target)
        except IllegalTransition:
            assert target not in table[state]
            continue
        assert new is target
        taken.append((state, new))
        state = new
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
    taken = walk(ITEM_TRANSITIONS, advance_item, start, attempts, ITEM_TERMINAL)
    # a refused attempt leaves the walk where it was: each step starts where the last ended
    assert all(a[1] == b[0] for a, b in pairwise(taken))


@PROPERTY
@given(
    start=st.sampled_from(list(PayoutStatus)),
    attempts=st.lists(st.sampled_from(list(PayoutStatus)), max_size=60),
)
def test_payout_walks_take_only_listed_transitions(start, attempts) -> None:
    walk(PAYOUT_TRANSITIONS, advance_payout, start, attempts, PAYOUT_TERMINAL)


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
        state = advance_item(state, options[choice % len(options)])
        visited.append(state)
    pairs = list(pairwise(visited))
    assert all(b in ITEM_TRANSITIONS[a] for a, b in pairs)
    # an item is paid at most once per walk, and only after being redeemed
    if ItemStatus.PAID in visited:
        assert visited.count(ItemStatus.PAID) == 1
        assert visited.index(ItemStatus.REDEEMED) < visited.index(ItemStatus.PAID)
