"""Model-based: the stored ledger answers exactly as the in-memory ``domain.ledger.Ledger``
for random sequences of posts, replays, conflicting replays, reversals and overdraws."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from giftcash.adapters.db.engine import make_engine
from giftcash.adapters.db.ledger_check import check
from giftcash.adapters.db.tables import GENESIS_HASH, ledger_head, metadata
from giftcash.adapters.db.uow import SqlUnitOfWork
from giftcash.domain import ledger as L
from giftcash.domain.errors import DomainError

CUSTOMERS = ["c1", "c2"]

op = st.one_of(
    st.tuples(
        st.just("redeem"),
        st.sampled_from(CUSTOMERS),
        st.integers(1, 50_000),
        st.integers(0, 100),
    ),
    st.tuples(st.just("pay"), st.sampled_from(CUSTOMERS), st.integers(1, 60_000)),
    st.tuples(st.just("reverse"), st.integers(0, 30)),
    st.tuples(st.just("replay"), st.integers(0, 30)),
    st.tuples(st.just("conflict"), st.integers(0, 30)),
    st.tuples(st.just("bad_reverse"), st.integers(0, 30)),
)


def memory_engine():
    engine = make_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(ledger_head).values(id=1, seq=0, hash=GENESIS_HASH))
    return engine


def build(step: int, action: tuple, made: list[L.Transfer]) -> L.Transfer | None:
    kind = action[0]
    if kind == "redeem":
        _, customer, face, fee_pct = action
        payout = max(1, face - face * fee_pct // 100)
        return L.redemption(
            f"t{step}",
            issuer="cultureland",
            customer_id=customer,
            face=face,
            payout=payout,
            currency="KRW",
            ref=f"i{step}",
        )
    if kind == "pay":
        _, customer, amount = action
        return L.payout_sent(
            f"t{step}", customer_id=customer, amount=amount, currency="KRW", ref=f"p{step}"
        )
    if not made:
        return None
    earlier = made[action[1] % len(made)]
    if kind == "reverse":
        return L.reversal(earlier, f"t{step}")
    if kind == "replay":
        return earlier
    if kind == "bad_reverse":  # claims to reverse, but repeats the original instead
        return L.Transfer(
            id=f"t{step}",
            currency=earlier.currency,
            postings=earlier.postings,
            kind="reversal",
            reverses=earlier.id,
        )
    # conflict: the earlier id with other content
    return L.bank_fee(earlier.id, amount=1 + step, currency="KRW", ref="x")


def outcome(fn) -> object:
    try:
        return fn()
    except DomainError as e:
        return e.code


@pytest.mark.slow  # over 2 s on the loaded 2-core machine
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op, min_size=1, max_size=25))
def test_stored_ledger_matches_the_model(actions):
    engine = memory_engine()
    model = L.Ledger()
    made: list[L.Transfer] = []
    try:
        for step, action in enumerate(actions):
            t = build(step, action, made)
            if t is None:
                continue
            expected = outcome(lambda t=t: model.post(t))
            with SqlUnitOfWork(engine) as uow:
                got = outcome(lambda t=t, uow=uow: uow.ledger.post(t))
                uow.commit()
            assert got == expected, (action, got, expected)
            if expected is True:
                made.append(t)
        with SqlUnitOfWork(engine, read_only=True) as uow:
            assert L.nonzero(uow.ledger.balances()) == L.nonzero(model.balances)
            assert uow.ledger.count() == len(model.transfers)
            assert check(uow.conn) == []
    finally:
        engine.dispose()
