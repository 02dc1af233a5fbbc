"""Quoting, without a database: the live catalogue's price, the statutory refusal at the
quote, the issuer kill switch, and that a quote writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fakes_uow import FakeWorld
from giftcash.intake.quoting import make_quote
from giftcash.service import errors


@pytest.fixture
def world() -> FakeWorld:
    return FakeWorld()


def test_a_cash_bought_voucher_is_quoted_at_the_brands_rate(world: FakeWorld) -> None:
    view = make_quote(world.deps, "cultureland", 50_000, "cash")
    assert (view.quote.face_value, view.quote.fee, view.quote.payout) == (50_000, 5_000, 45_000)
    assert view.declined is None
    assert view.routes[0].route == "sell_here"
    # valid for the configured time from the injected clock
    assert view.quote.expires_at == world.clock.now() + timedelta(
        seconds=world.deps.limits.quote_valid_s
    )


def test_an_operators_rate_override_is_the_price_quoted(world: FakeWorld) -> None:
    world.db.brand_overrides["cultureland"] = {"buyback_rate_bps": 8_500}
    view = make_quote(world.deps, "cultureland", 50_000, "cash")
    assert (view.quote.fee, view.quote.payout) == (7_500, 42_500)


def test_a_carrier_billed_voucher_is_refused_at_the_quote_with_its_lawful_routes(
    world: FakeWorld,
) -> None:
    view = make_quote(world.deps, "cultureland", 50_000, "carrier_billing")
    assert view.declined is not None
    assert view.declined[0] == "carrier_billing_prohibited"
    assert "sell_here" not in [r.route for r in view.routes]
    assert view.routes, "a statutory refusal still lists what the customer can do"


def test_a_switched_off_issuer_is_refused_at_the_quote(world: FakeWorld) -> None:
    world.db.issuer_overrides["cultureland"] = {"enabled": False}
    view = make_quote(world.deps, "cultureland", 50_000, "cash")
    assert view.declined is not None and view.declined[0] == "issuer_disabled"
    # another issuer's brand is still bought
    assert make_quote(world.deps, "munhwa", 50_000, "cash").declined is None


def test_an_unknown_brand_is_not_found(world: FakeWorld) -> None:
    with pytest.raises(errors.NotFound):
        make_quote(world.deps, "no_such_brand", 50_000, "cash")


def test_a_quote_writes_nothing(world: FakeWorld) -> None:
    make_quote(world.deps, "cultureland", 50_000, "cash")
    make_quote(world.deps, "cultureland", 50_000, "carrier_billing")
    assert world.db.commits == 0
