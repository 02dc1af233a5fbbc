"""Due diligence by amount through the API and the service (issue 14, item 2), on SQLite
and PostgreSQL: a verified customer sells up to the day's amount, an ID-document check
lifts it, a large one-off sale waits for the EDD answers, an operator asking for EDD
stops every sale until they are given, and the amounts are never raised."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from test_identity_signup import _complete, _start, _token
from test_identity_signup import world as world

from apiworld import World, add_account, item
from giftcash.adapters.db import tables as t
from giftcash.catalogue import overrides
from giftcash.domain.policy import StatutoryRule
from giftcash.identity import tiers
from giftcash.identity.operators import Operator

OP = Operator("op-1", "ops", "admin")
BOUGHT = datetime.now(UTC) - timedelta(days=3)


def _sell(w: World, auth: dict, account: str, codes: list[str]) -> list[str | None]:
    for code in codes:
        w.issuer.sell("cultureland", code, 50_000, purchased_at=BOUGHT)
    r = w.client.post(
        "/v1/submissions",
        headers=auth,
        json={"bank_account_id": account, "items": [item(c, 50_000) for c in codes]},
    )
    assert r.status_code == 201, r.text
    return [(i["decline"] or {}).get("code") for i in r.json()["items"]]


def _codes(start: int, n: int) -> list[str]:
    return [f"41803400000{k:05d}" for k in range(start, start + n)]


def test_tiers_unlock_larger_sales_and_never_loosen(world: World):
    w, identity = world, world.identity  # type: ignore[attr-defined]
    person = identity.person("01034000001", name="이서연", birth_date=date(1992, 8, 1))
    identity.documents.add(("이서연", "9208012000000", date(2019, 5, 2)))
    customer_id = _start(w, "01034000001")["customer_id"]
    identity.confirm("01034000001")
    assert _complete(w, "01034000001").status_code == 200
    auth = _token(w, "01034000001")
    account = add_account(w, auth, "34000000000001", name=person.name)
    # the operator lowers the amounts (tighter is allowed) so a test sells little
    overrides.patch_rule(
        w.deps,
        OP,
        "due_diligence",
        params={"identity_max_value_per_day": 100_000, "edd_one_off_value": 300_000},
    )
    with pytest.raises(StatutoryRule):  # and never raises them above the floor
        overrides.patch_rule(w.deps, OP, "due_diligence", params={"edd_one_off_value": 20_000_000})

    seen = tiers.view(w.deps, customer_id)
    assert (seen.tier, seen.room.day_left, seen.room.next_step) == (1, 100_000, "check_id_document")
    assert _sell(w, auth, account, _codes(1, 2)) == [None, None]  # 100,000: the day's amount
    assert _sell(w, auth, account, _codes(3, 1)) == ["id_document_required"]
    assert tiers.view(w.deps, customer_id).room.day_left == 0
    r = w.client.get("/v1/due-diligence", headers=auth)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "in_force": True,
        "tier": 1,
        "currency": "KRW",
        "day_used": 100_000,
        "day_left": 0,
        "month_used": 100_000,
        "month_left": 4_900_000,
        "next_step": "check_id_document",
        "edd_one_off_value": 300_000,
    }
    assert w.client.get("/v1/due-diligence").status_code == 401

    with pytest.raises(tiers.IdDocumentMismatch):
        tiers.check_id_document(
            w.deps, customer_id, id_number="920801-2000000", issue_date=date(2020, 5, 2)
        )
    tiers.check_id_document(
        w.deps, customer_id, id_number="920801-2000000", issue_date=date(2019, 5, 2)
    )
    assert tiers.view(w.deps, customer_id).tier == 2
    assert _sell(w, auth, account, _codes(4, 1)) == [None]

    large = _sell(w, auth, account, _codes(5, 6))  # 300,000 at once: EDD first
    assert large == ["due_diligence_required"] * 6
    tiers.answer_edd(
        w.deps,
        customer_id,
        occupation="회사원",
        source_of_funds="급여",
        purpose="선물 받은 상품권 현금화",
    )
    assert _sell(w, auth, account, _codes(11, 6)) == [None] * 6
    answers = tiers.edd_answers(w.deps, customer_id)
    assert answers is not None and answers.occupation == "회사원"
    with w.engine.connect() as conn:
        sealed = conn.execute(select(t.customer_due_diligence.c.answers_enc)).scalar_one()
    assert "회사원".encode() not in bytes(sealed)

    tiers.require_edd(w.deps, OP, customer_id, "a case asks who pays this customer")
    assert _sell(w, auth, account, _codes(17, 1)) == ["due_diligence_required"]
    seen = tiers.view(w.deps, customer_id)
    assert seen.edd_required_reason == "a case asks who pays this customer"
    with w.engine.connect() as conn:
        actions = conn.execute(select(t.audit_log.c.action)).scalars().all()
    assert "customer.require_edd" in actions and "rule.update" in actions
    tiers.answer_edd(
        w.deps, customer_id, occupation="회사원", source_of_funds="급여", purpose="생활비"
    )
    assert _sell(w, auth, account, _codes(18, 1)) == [None]


def test_a_customer_without_a_verified_identity_sells_nothing_where_checks_are_in_force(
    world: World,
):
    from apiworld import signup as sms_signup

    w = world
    identity, w.deps.identity = w.deps.identity, None  # an SMS sign-up from before
    auth = sms_signup(w, "010-3500-0001")
    account = add_account(w, auth, "35000000000001")
    w.deps.identity = identity
    assert _sell(w, auth, account, _codes(30, 1)) == ["identity_required"]


def test_the_amounts_are_settings_that_may_only_lower_the_statutory_floor(engine, tmp_path):
    from giftcash.bootstrap import build_deps
    from giftcash.config import Settings

    url = str(engine.url)
    lowered = Settings(
        data_dir=tmp_path,
        database_url=url,
        tier_identity_max_day_won=200_000,
        edd_one_off_won=5_000_000,
    )
    deps = build_deps(lowered, engine=engine, fast_passwords=True)
    assert deps.rule_params == {
        "identity_max_value_per_day": 200_000,
        "edd_one_off_value": 5_000_000,
    }
    rules = {r.id: r for r in overrides.list_rules(deps)}
    assert rules["due_diligence"].params["identity_max_value_per_day"] == 200_000
    assert rules["due_diligence"].params["identity_max_value_per_month"] == 5_000_000
    with pytest.raises(StatutoryRule):  # an operator cannot raise it back either
        overrides.patch_rule(
            deps, OP, "due_diligence", params={"identity_max_value_per_day": 300_000}
        )
    raised = Settings(data_dir=tmp_path, database_url=url, edd_one_off_won=20_000_000)
    with pytest.raises(StatutoryRule):
        build_deps(raised, engine=engine, fast_passwords=True)
