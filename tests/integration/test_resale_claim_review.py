"""Claims in review settled by an operator (resale/claim_review.py) on SQLite and
PostgreSQL: a refund has exactly the effects of a refund decided at filing (the buyer's
deposit returned once, the seller's receivable, the seller held, a case), a refusal
upholds the unit and moves nothing, a repeat answers the first outcome with no second
effect, a claim the issuer settled is not resolved again, an unknown one is not found.
Every attempt is audited and the books pass ``ledger check``."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from test_resale_claims import BUYER, SELLER, delivered, look
from test_resale_delivery import balance

from giftcash.adapters.db import tables as t
from giftcash.domain import ledger
from giftcash.identity.operators import Operator
from giftcash.resale import claim_review, claims
from giftcash.resale.worker import send_returns
from giftcash.service import errors

FINANCE = Operator("op-f", "finance.kim", "finance")


def in_review(engine):
    """A delivered unit whose voucher the issuer says is unspent: its claim waits."""
    deps, _, bank = delivered(engine)
    c = claims.file_claim(deps, BUYER, "o-01", "u-0", "it does not work at the till").claim
    assert c.status == "review"
    return deps, bank, c


def resolutions(engine):
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.audit_log.c.actor, t.audit_log.c.subject, t.audit_log.c.detail).where(
                t.audit_log.c.action == "claim.resolve"
            )
        ).all()
    return [(r.actor, r.subject, r.detail["outcome"], r.detail.get("code")) for r in rows]


def test_an_operators_refund_has_the_effects_of_a_refund_at_filing(engine):
    deps, bank, c = in_review(engine)
    before = look(engine)[4]

    done = claim_review.resolve_claim(deps, FINANCE, c.id, "refund", "  shop's receipt shows  it")
    assert done.created
    r = done.claim
    assert (r.status, r.refund, r.resolved_by, r.resolution_note) == (
        "refunded",
        "deposit_return",
        "operator:finance.kim",
        "shop's receipt shows it",
    )
    again = claim_review.resolve_claim(deps, FINANCE, c.id, "refuse", "changed my mind")
    assert not again.created and again.claim.status == "refunded"
    for _ in range(2):
        send_returns(deps.uow, bank, deps.clock.now())

    units, found, cases, blocked, kinds = look(engine)  # look checks the ledger
    assert units == {"u-0": "refunded"} and found == [("u-0", "refunded")]
    assert cases == [("resold_spent", f"customer:{SELLER}")] and blocked == [SELLER]
    new = list(kinds)
    for k in before:
        new.remove(k)
    assert sorted(new) == ["claim_refund", "order_refunded", "resale_clawback"]
    assert [r.outcome for r in bank.returns.values()] == ["returned"]
    assert bank.returned_twice() == 0
    assert balance(engine, ledger.receivable_account(SELLER)) == 9_000
    assert balance(engine, ledger.buyer_account(BUYER)) == 0
    assert resolutions(engine) == [("operator:finance.kim", f"claim:{c.id}", "done", None)]
    with engine.connect() as conn:
        row = conn.execute(
            select(t.claims.c.status, t.claims.c.resolved_by, t.claims.c.resolution_note)
        ).one()
    assert tuple(row) == ("refunded", "operator:finance.kim", "shop's receipt shows it")
    with engine.connect() as conn:  # the seller held in the name of who settled it
        held_by = conn.scalar(select(t.blocks.c.blocked_by).where(t.blocks.c.subject == SELLER))
    assert held_by == "operator:finance.kim"


def test_an_operators_refusal_upholds_the_unit_and_moves_nothing(engine):
    deps, bank, c = in_review(engine)
    before = look(engine)

    r = claim_review.resolve_claim(deps, FINANCE, c.id, "refuse", "balance is intact").claim
    assert (r.status, r.refund, r.payout_id) == ("refused", None, None)
    assert claim_review.resolve_claim(deps, FINANCE, c.id, "refund", "x").claim == r

    units, found, cases, blocked, kinds = look(engine)
    assert units == {"u-0": "upheld"} and found == [("u-0", "refused")]
    assert (cases, blocked, kinds) == ([], [], before[4])
    assert balance(engine, ledger.receivable_account(SELLER)) == 0
    assert send_returns(deps.uow, bank, deps.clock.now()).returned == 0
    assert [x[2] for x in resolutions(engine)] == ["done"]


def test_a_claim_the_issuer_settled_or_an_unknown_one_is_refused_and_audited(engine):
    deps, issuer, _ = delivered(engine)
    issuer.spend("6107000000000000", deps.clock.now(), "GS25")  # spent after delivery
    c = claims.file_claim(deps, BUYER, "o-01", "u-0", None).claim
    assert c.status == "refused"
    before = look(engine)
    with pytest.raises(claim_review.ClaimNotInReview) as e:
        claim_review.resolve_claim(deps, FINANCE, c.id, "refund", "please")
    assert e.value.code == "claim_not_in_review"
    with pytest.raises(claim_review.ClaimNotFound) as nf:
        claim_review.resolve_claim(deps, FINANCE, "no-such-claim", "refund", "please")
    assert nf.value.code == "claim_not_found"
    with pytest.raises(errors.InvalidInput):
        claim_review.resolve_claim(deps, FINANCE, c.id, "maybe", "please")
    with pytest.raises(errors.InvalidInput):
        claim_review.resolve_claim(deps, FINANCE, c.id, "refund", "   ")
    assert look(engine) == before
    assert [(x[2], x[3]) for x in resolutions(engine)] == [
        ("refused", "claim_not_in_review"),
        ("refused", "claim_not_found"),
    ]


def test_two_operators_at_once_settle_it_once(engine):
    deps, _, c = in_review(engine)
    got: list[claim_review.Resolved] = []
    start = threading.Barrier(2)

    def resolve() -> None:
        start.wait()
        got.append(claim_review.resolve_claim(deps, FINANCE, c.id, "refund", "spent, no time"))

    threads = [threading.Thread(target=resolve) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(got) == 2 and sorted(x.created for x in got) == [False, True]
    assert {x.claim.status for x in got} == {"refunded"}
    _, found, cases, blocked, kinds = look(engine)
    assert found == [("u-0", "refunded")] and kinds.count("claim_refund") == 1
    assert kinds.count("resale_clawback") == 1 and len(cases) == 1 and blocked == [SELLER]


def test_claims_are_listed_by_state_a_page_at_a_time(engine):
    deps, _, c = in_review(engine)
    assert [
        x.id for x in claim_review.list_claims(deps, status="review", cursor=None, limit=5)
    ] == [c.id]
    assert claim_review.list_claims(deps, status="refunded", cursor=None, limit=5) == []
    assert claim_review.list_claims(deps, status=None, cursor=c.id, limit=5) == []
    with pytest.raises(errors.InvalidInput):
        claim_review.list_claims(deps, status="open", cursor=None, limit=5)
    with deps.reader() as uow:
        (waiting,) = uow.resale_reports.claims_in_review(10)
        tallies = uow.resale_reports.claim_tallies()
    assert (waiting.claim.id, waiting.brand_id, waiting.face_value) == (c.id, "kyobo_gift", 10_000)
    assert [(x.status, x.claims, x.amount) for x in tallies] == [("review", 1, 9_500)]
    claim_review.resolve_claim(deps, FINANCE, c.id, "refund", "spent")
    with deps.reader() as uow:
        assert uow.resale_reports.claims_in_review(10) == []
        (debt,) = uow.resale_reports.debts(10)
    assert (debt.customer_id, debt.currency, debt.owed) == (SELLER, "KRW", 9_000)
