"""A product coupon's expiry reaches the policy from the issuer's inquiry: the pipeline
declines one under its brand's minimum days left with ``coupon_near_expiry`` at admission,
before anything is redeemed, and admits one with days to spare."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from apiworld import World, add_account, signup, world  # noqa: F401  (the fixture)
from giftcash.domain.brands import CATALOGUE, Disposition
from giftcash.entrypoints.worker import Worker

pytestmark = pytest.mark.usefixtures("backend")

BOUGHT_BACK = "kyochon_coupon"  # resold in the catalogue; bought back here, so it is redeemed


def bought_back_catalogue() -> tuple:
    return tuple(
        replace(b, disposition=Disposition.REDEEM, resale_pricing=None)
        if b.id == BOUGHT_BACK
        else b
        for b in CATALOGUE
    )


def test_the_issuer_s_expiry_decides_near_expiry_at_admission(world: World) -> None:  # noqa: F811
    w = world
    w.deps.brand_catalogue = bought_back_catalogue()
    auth = signup(w, "010-5400-0016")
    account = add_account(w, auth, "54000000000016")
    now = datetime.now(UTC)
    soon, later = "940100000016", "940100000017"
    w.issuer.sell("kyochon", soon, 23_000, channel="gift", expires_at=now + timedelta(days=3))
    w.issuer.sell("kyochon", later, 23_000, channel="gift", expires_at=now + timedelta(days=90))
    items = [
        {"brand_id": BOUGHT_BACK, "code": c, "face_value": 23_000, "funding_source": "gift"}
        for c in (soon, later)
    ]
    r = w.client.post(
        "/v1/submissions", headers=auth, json={"bank_account_id": account, "items": items}
    )
    assert r.status_code == 201, r.text
    assert [i["status"] for i in r.json()["items"]] == ["received"] * 2  # no expiry known yet

    Worker(w.deps, batch=64).drain(20)

    got = w.client.get(f"/v1/submissions/{r.json()['id']}", headers=auth).json()["items"]
    by_last4 = {i["masked_code"][-4:]: i for i in got}
    assert by_last4[soon[-4:]]["status"] == "declined"
    assert by_last4[soon[-4:]]["decline"]["code"] == "coupon_near_expiry"
    assert by_last4[later[-4:]]["status"] not in ("declined", "review", "failed")
    # declined before redemption: the issuer still holds it for its owner's routes
    assert w.issuer.vouchers[soon].spent_by is None
    assert w.issuer.vouchers[later].spent_by is not None
