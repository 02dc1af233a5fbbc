"""``policy.Batch``: a submission's items share the active rules and the advisor's
answers, and every decision is the one ``evaluate`` makes without it."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from giftcash.domain.brands import CULTURELAND, HAPPYMONEY, STARBUCKS
from giftcash.domain.jurisdictions import pack
from giftcash.domain.policy import (
    Batch,
    CustomerFacts,
    History,
    ItemFacts,
    Outcome,
    Sighting,
    Stage,
    evaluate,
)

NOW = datetime(2025, 3, 10, 3, 0, tzinfo=UTC)
KR = pack("KR")


def _items() -> list[tuple[ItemFacts, History, int]]:
    """Repeated and distinct inputs in one submission, its running totals growing past
    the limits so that later items of the same brand and face value decide otherwise."""
    out = []
    before_items = before_value = 0
    brands = (CULTURELAND, HAPPYMONEY, STARBUCKS)
    faces = (10_000, 50_000, 300_000)
    sources = ("cash", "credit_card", "unknown")
    purchased = (None, NOW - timedelta(days=2), NOW - timedelta(days=40))
    for n, (brand, face, source, bought) in enumerate(
        itertools.product(brands, faces, sources, purchased)
    ):
        for repeat in range(3):
            sightings = (Sighting("someone-else", None),) if (n + repeat) % 11 == 0 else ()
            history = History(
                submission_items_before=before_items,
                submission_value_before=before_value,
                submission_value=5_000_000,
                issuer_exposure=before_value,
                code_sightings=sightings,
            )
            it = ItemFacts(brand, face, source, purchased_at=bought)
            out.append((it, history, face * 9 // 10))
            before_items += 1
            before_value += face
    return out


def test_a_batch_decides_every_item_as_evaluate_alone_does() -> None:
    customer = CustomerFacts(id="c1", completed_sales=2)
    batch = Batch(KR)
    outcomes = set()
    for it, history, payout in _items():
        alone = evaluate(KR, it, now=NOW, customer=customer, history=history, payout=payout)
        shared = evaluate(
            KR, it, now=NOW, customer=customer, history=history, payout=payout, batch=batch
        )
        assert shared == alone
        outcomes.add(alone.outcome)
    # the inputs reach more than one outcome, so equality is not trivially "accept"
    assert Outcome.DECLINE in outcomes and len(outcomes) >= 2


def test_a_batch_answers_the_same_brand_and_face_value_once() -> None:
    batch = Batch(KR)
    a = evaluate(KR, ItemFacts(CULTURELAND, 50_000, "cash"), now=NOW, payout=45_000, batch=batch)
    b = evaluate(KR, ItemFacts(CULTURELAND, 50_000, "cash"), now=NOW, payout=45_000, batch=batch)
    c = evaluate(KR, ItemFacts(CULTURELAND, 10_000, "cash"), now=NOW, payout=9_000, batch=batch)
    assert a.routes is b.routes  # one advisor answer shared
    assert c.routes != a.routes  # another face value, another answer
    assert batch.active(Stage.INTAKE) == KR.active(Stage.INTAKE)
