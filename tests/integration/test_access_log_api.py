"""The v1 admin API logs its views of personal data as the console does (issue 14, item
4): the review queue, a case and the case export, with the operator, ids only. SQLite and
PostgreSQL."""

from __future__ import annotations

import test_admin_world
from sqlalchemy import select
from test_admin_review import _two_items_in_review
from test_admin_world import World

from giftcash.adapters.db import tables as t

world = test_admin_world.world  # the shared fixture


def _log(w: World) -> list:
    c = t.personal_data_access.c
    with w.engine.connect() as conn:
        return conn.execute(select(t.personal_data_access).order_by(c.at, c.id)).all()


def test_the_review_queue_and_the_case_export_are_logged(world: World):
    w = world
    _two_items_in_review(w)
    rev = w.operator("rev", "reviewer")
    assert w.client.get("/v1/admin/review", headers=rev).status_code == 200
    with w.engine.connect() as conn:
        customer_id = conn.execute(
            select(t.customers.c.id).where(t.customers.c.phone == "01060000001")
        ).scalar_one()
        reviewer_id = conn.execute(
            select(t.operators.c.id).where(t.operators.c.username == "rev")
        ).scalar_one()
    [row] = _log(w)
    assert (row.page, row.subject, row.customer_id) == ("review", "api", customer_id)
    assert (row.operator_id, row.role) == (reviewer_id, "reviewer")
    assert "김영희" not in str(tuple(row))
    fin = w.operator("fin", "finance")
    assert w.client.get("/v1/admin/cases/export?format=csv", headers=fin).status_code == 200
    export = _log(w)[-1]
    assert (export.page, export.subject, export.role) == (
        "case_export",
        "api:cases:all:csv",
        "finance",
    )
