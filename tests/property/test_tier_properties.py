"""Properties of due diligence by amount over random facts and sales: more done never
asks more, a larger sale never asks less, and lowering the amounts never lets through a
sale the higher amounts stopped."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from giftcash.domain.tiers import Sale, Step, TierFacts, TierLimits, requirement

ORDER = {None: 0, Step.ANSWER_EDD: 1, Step.CHECK_ID_DOCUMENT: 2, Step.VERIFY_IDENTITY: 3}
won = st.integers(min_value=0, max_value=50_000_000)
facts = st.builds(TierFacts, st.just(True), st.booleans(), st.booleans(), st.booleans())
limits = st.builds(TierLimits, won, won, st.integers(min_value=1, max_value=10_000_000))
sales = st.builds(Sale, won, won, won)


def asked(f: TierFacts, lim: TierLimits, sale: Sale) -> bool:
    return requirement(f, lim, sale) is not None


@given(facts, limits, sales)
def test_more_due_diligence_done_never_asks_for_more(f: TierFacts, lim: TierLimits, sale: Sale):
    more = TierFacts(True, True, f.document_checked or f.identity_verified, True)
    if asked(f, lim, sale) is False:
        assert not asked(more, lim, sale)
    assert ORDER[_step(more, lim, sale)] <= ORDER[_step(f, lim, sale)]


@given(facts, limits, sales, won)
def test_a_larger_sale_never_asks_less(f: TierFacts, lim: TierLimits, sale: Sale, more: int):
    larger = Sale(sale.day_value + more, sale.month_value + more, sale.one_off_value + more)
    if asked(f, lim, sale):
        assert asked(f, lim, larger)


@given(facts, limits, sales, won)
def test_lowered_amounts_stop_what_the_higher_ones_stopped(
    f: TierFacts, lim: TierLimits, sale: Sale, cut: int
):
    lower = TierLimits(
        max(lim.identity_max_value_per_day - cut, 0),
        max(lim.identity_max_value_per_month - cut, 0),
        max(lim.edd_one_off_value - cut, 1),
    )
    if asked(f, lim, sale):
        assert asked(f, lower, sale)


def _step(f: TierFacts, lim: TierLimits, sale: Sale) -> Step | None:
    found = requirement(f, lim, sale)
    return found.step if found else None
