"""The log of console views of personal data, without a database: one row per customer
a view showed (one with none when it showed nobody), ids and field names only, read back
newest first and by customer or operator."""

from __future__ import annotations

from datetime import timedelta

from fakes_uow import FakeWorld
from giftcash.identity.operators import Operator
from giftcash.privacy import access_log
from giftcash.privacy.access_log import View

ADMIN = Operator(id="op-1", username="adm", role="admin")
FINANCE = Operator(id="op-2", username="fin", role="finance")


def test_a_view_logs_each_customer_it_showed_once() -> None:
    w = FakeWorld()
    view_id = access_log.record(
        w.deps, ADMIN, View("payouts", ("name", "bank_account_masked")), ["c-1", "c-2", "c-1"]
    )
    rows = w.db.access_log
    assert [(r.view_id, r.customer_id) for r in rows] == [(view_id, "c-1"), (view_id, "c-2")]
    assert {(r.operator_id, r.role, r.page, r.fields) for r in rows} == {
        ("op-1", "admin", "payouts", "name,bank_account_masked")
    }
    assert w.db.commits == 1


def test_a_view_that_showed_nobody_is_logged_too() -> None:
    w = FakeWorld()
    access_log.record(w.deps, FINANCE, View("case_export", ("masked_name",), "cases:all"), [])
    [row] = w.db.access_log
    assert (row.customer_id, row.subject, row.role) == (None, "cases:all", "finance")


def test_entries_read_newest_first_by_customer_and_operator() -> None:
    w = FakeWorld()
    access_log.record(w.deps, ADMIN, View("customer", ("name",)), ["c-1"])
    w.clock.advance(60)
    access_log.record(w.deps, FINANCE, View("payouts", ("name",)), ["c-1", "c-2"])
    newest = access_log.entries(w.deps)
    assert [e.operator_id for e in newest] == ["op-2", "op-2", "op-1"]
    assert [e.page for e in access_log.entries(w.deps, customer_id="c-1")] == [
        "payouts",
        "customer",
    ]
    assert [e.customer_id for e in access_log.entries(w.deps, operator_id="op-1")] == ["c-1"]
    last = newest[0]
    older = access_log.entries(w.deps, before=(last.at, last.id))
    assert all(e.at <= last.at for e in older) and last not in older
    assert w.clock.now() - newest[-1].at == timedelta(seconds=60)
