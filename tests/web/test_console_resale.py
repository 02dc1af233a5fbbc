"""The console's resale page (finance and admin) over a real database: inventory by brand
and face value with its ageing, orders by state, and the deposits returned with why; in
Korean and English, with no payer's name on it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from test_console_actions import _form_post
from test_console_pages import Console, post

from giftcash.adapters.db import tables as t
from giftcash.adapters.db.app_uow import AppUnitOfWork
from giftcash.domain.states import DepositStatus, OrderStatus, UnitStatus, transition
from giftcash.resale import overview
from giftcash.service.ports.records import Claim, OrderDeposit
from resale_seed import NOW, order, seed


@pytest.fixture
def console(site) -> Console:
    return Console(site)


def stock_and_sell(engine) -> None:
    """Four units of 10,000 won: one expiring in 10 days, one in 60, one reserved by an
    order whose stranger's deposit is being returned, one in a year."""
    seed(engine, 4)
    with engine.begin() as conn:
        for unit, days in (("u-0", 10), ("u-1", 60)):
            conn.execute(
                update(t.inventory_units)
                .where(t.inventory_units.c.id == unit)
                .values(expires_at=NOW + timedelta(days=days))
            )
    with AppUnitOfWork(engine) as uow:
        uow.orders.add(order(1), NOW)
        reserve = transition("u-2", UnitStatus.STOCKED, UnitStatus.RESERVED)
        assert uow.inventory.apply([reserve], "o-01", NOW) == ["u-2"]
        deposit = OrderDeposit(
            id="d-1",
            order_id="o-01",
            bank_deposit_id="bank-1",
            amount=9_500,
            payer_name="김철수",
            received_at=NOW,
            status=DepositStatus.RECEIVED.value,
            return_reason=None,
            return_key=None,
            created_at=NOW,
        )
        assert uow.orders.add_deposit(deposit, NOW)
        judged = transition("d-1", DepositStatus.RECEIVED, DepositStatus.RETURNING)
        assert uow.orders.apply_deposit(judged, NOW, "other_name", "ret-1")
        uow.commit()


def test_the_overview_counts_stock_ageing_orders_and_returns(engine):
    stock_and_sell(engine)
    with AppUnitOfWork(engine, read_only=True) as uow:
        stock = uow.resale_reports.stock(NOW)
        tallies = uow.resale_reports.order_tallies()
        returns = uow.resale_reports.not_kept(10)
    by_state = {line.status: line for line in stock}
    assert set(by_state) == {"stocked", "reserved"}
    held = by_state["stocked"]
    assert (held.units, held.cost, held.expiring_30, held.expiring_90, held.no_expiry) == (
        3,
        27_000,
        1,
        2,
        0,
    )
    assert held.oldest == NOW and held.brand_id == "kyobo_gift" and held.face_value == 10_000
    assert by_state["reserved"].units == 1
    assert [(o.status, o.orders, o.amount) for o in tallies] == [("awaiting_payment", 1, 9_500)]
    assert [(d.id, d.return_reason, d.status) for d in returns] == [
        ("d-1", "other_name", "returning")
    ]


def test_finance_sees_the_page_in_korean_and_english(console: Console, engine):
    stock_and_sell(engine)
    finance = console.operator("op.finance", "finance")
    page = finance.get("/admin/resale")
    assert page.status_code == 200
    text = page.text
    assert 'data-state="stocked"' in text and 'data-units="3"' in text
    assert 'data-order-state="awaiting_payment"' in text and 'data-orders="1"' in text
    assert 'data-reason="other_name"' in text
    assert "김철수" not in text  # a payer's name is personal data: not on this page
    assert "27,000원" in text  # the stock's cost, in the Korean console
    assert "입금자명이 구매자 본인 이름과 다름" in text  # the reason in Korean
    finance.cookies.set("gc_lang", "en")
    english = finance.get("/admin/resale")
    assert "Payer's name is not the buyer's" in english.text
    assert "₩27,000" in english.text


def test_the_overview_service_reads_through_the_reader(console: Console, engine):
    stock_and_sell(engine)
    view = overview.overview(console.site.deps)
    assert (view.units, view.cost) == (4, 36_000)


def deliver_one(engine) -> None:
    """Order o-02 delivered with u-3 (cost 9,000, sold for 9,500); u-0 was reserved for
    it first and withdrawn (found spent before delivery), so it is not the order's cost."""
    seed(engine, 4)
    with AppUnitOfWork(engine) as uow:
        uow.orders.add(order(2), NOW)
        reserve = [transition(u, UnitStatus.STOCKED, UnitStatus.RESERVED) for u in ("u-0", "u-3")]
        assert sorted(uow.inventory.apply(reserve, "o-02", NOW)) == ["u-0", "u-3"]
        moves = [
            transition("u-0", UnitStatus.RESERVED, UnitStatus.WITHDRAWN),
            transition("u-3", UnitStatus.RESERVED, UnitStatus.DELIVERED),
        ]
        assert sorted(uow.inventory.apply(moves, "o-02", NOW)) == ["u-0", "u-3"]
        for move in (
            transition("o-02", OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID),
            transition("o-02", OrderStatus.PAID, OrderStatus.DELIVERED),
        ):
            assert uow.orders.apply(move, NOW)
        uow.commit()


def test_the_margin_by_brand_counts_delivered_units_only(engine):
    deliver_one(engine)
    with AppUnitOfWork(engine, read_only=True) as uow:
        margins = uow.resale_reports.margins()
    assert [(m.brand_id, m.orders, m.units, m.revenue, m.cost) for m in margins] == [
        ("kyobo_gift", 1, 1, 9_500, 9_000)
    ]
    assert (margins[0].margin, margins[0].margin_bps) == (500, 526)


def test_the_page_shows_the_margin_in_korean_and_english(console: Console, engine):
    deliver_one(engine)
    finance = console.operator("op.finance", "finance")
    text = finance.get("/admin/resale").text
    assert 'data-margin-brand="kyobo_gift" data-margin="500"' in text
    assert "브랜드별 마진" in text and "5.26%" in text
    finance.cookies.set("gc_lang", "en")
    english = finance.get("/admin/resale").text
    assert "Margin by brand" in english and "₩500" in english


def claim_in_review(engine) -> str:
    """Order o-02's delivered unit u-3 claimed by its buyer (c-02); the issuer said it is
    unspent, so the claim waits for an operator."""
    deliver_one(engine)
    c = Claim(
        id="cl-1",
        order_id="o-02",
        unit_id="u-3",
        customer_id="c-02",
        seller_id="c-00",
        currency="KRW",
        amount=9_500,
        status="review",
        reason="the till says invalid",
        issuer_status="active",
        used_at=None,
        used_where=None,
        refund=None,
        payout_id=None,
        created_at=NOW,
    )
    with AppUnitOfWork(engine) as uow:
        assert uow.claims.add(c, NOW)
        claimed = transition("u-3", UnitStatus.DELIVERED, UnitStatus.CLAIMED)
        assert uow.inventory.apply([claimed], "o-02", NOW) == ["u-3"]
        uow.commit()
    return c.id


def test_a_claim_in_review_is_shown_and_refunded_from_the_page(console: Console, engine):
    claim_id = claim_in_review(engine)
    finance = console.operator("op.finance", "finance")
    page = finance.get("/admin/resale").text
    assert f'data-claim="{claim_id}"' in page
    assert 'data-claim-state="review"' in page and 'data-claims="1"' in page
    assert "운영자 판단 대기" in page and "미사용" in page and "the till says invalid" in page
    assert f'action="/admin/resale/claims/{claim_id}/resolve"' in page
    assert "구매자에게 환불" in page and "클레임 거절" in page
    assert "채무가 있는 판매자가 없습니다." in page
    finance.cookies.set("gc_lang", "en")
    english = finance.get("/admin/resale").text
    assert "Waiting for an operator" in english and "Unspent" in english
    assert "Refund buyer" in english and "No seller owes anything." in english
    finance.cookies.set("gc_lang", "ko")

    path = f"/admin/resale/claims/{claim_id}/resolve"
    refused = _form_post(finance, path, "/admin/resale", {"decision": "refund", "note": " "})
    assert refused.status_code == 422
    r = _form_post(finance, path, "/admin/resale", {"decision": "refund", "note": "shop says so"})
    assert r.status_code == 303 and "done=refund" in r.headers["location"]
    after = finance.get(r.headers["location"]).text
    assert f'data-claim="{claim_id}"' not in after
    assert "환불했습니다." in after and 'data-claim-state="refunded"' in after
    assert 'data-debtor="c-00" data-owed="9000"' in after
    again = _form_post(finance, path, "/admin/resale", {"decision": "refuse", "note": "again"})
    assert again.status_code == 303 and "done=refund" in again.headers["location"]
    with engine.connect() as conn:
        row = conn.execute(
            select(t.claims.c.status, t.claims.c.resolved_by, t.claims.c.refund)
        ).one()
        unit = conn.scalar(
            select(t.inventory_units.c.status).where(t.inventory_units.c.id == "u-3")
        )
        blocked = conn.execute(select(t.blocks.c.subject)).scalars().all()
        kinds = conn.execute(select(t.ledger_transfers.c.kind)).scalars().all()
        done = conn.execute(
            select(t.audit_log.c.actor, t.audit_log.c.detail).where(
                t.audit_log.c.action == "claim.resolve"
            )
        ).all()
    assert tuple(row) == ("refunded", "operator:op.finance", "owed")
    assert unit == "refunded" and blocked == ["c-00"]
    assert sorted(kinds) == ["claim_refund", "resale_clawback"]
    assert [(a, d["outcome"]) for a, d in done] == [("operator:op.finance", "done")]


def test_a_refusal_from_the_page_upholds_the_unit(console: Console, engine):
    claim_id = claim_in_review(engine)
    admin = console.operator("op.admin", "admin")
    path = f"/admin/resale/claims/{claim_id}/resolve"
    r = _form_post(admin, path, "/admin/resale", {"decision": "refuse", "note": "balance intact"})
    assert r.status_code == 303 and "done=refuse" in r.headers["location"]
    assert "거절했습니다." in admin.get(r.headers["location"]).text
    with engine.connect() as conn:
        assert conn.scalar(select(t.claims.c.status)) == "refused"
        assert (
            conn.scalar(select(t.inventory_units.c.status).where(t.inventory_units.c.id == "u-3"))
            == "upheld"
        )
        assert conn.execute(select(t.ledger_transfers.c.kind)).all() == []
    reviewer = console.operator("op.reviewer", "reviewer")
    denied = post(reviewer, path, {"decision": "refund", "note": "x"}, token_from="/admin/review")
    assert denied.status_code == 403


def test_a_buyers_words_on_a_claim_are_shown_only_with_the_view_logged(console: Console, engine):
    finance = console.operator("op.finance", "finance")

    def logged() -> list[tuple]:
        a = t.personal_data_access.c
        with engine.connect() as conn:
            rows = conn.execute(select(a.page, a.customer_id, a.fields, a.role)).all()
        return [tuple(r) for r in rows]

    finance.get("/admin/resale")
    assert logged() == []  # no one's words on the page: nothing personal shown
    claim_in_review(engine)
    assert "the till says invalid" in finance.get("/admin/resale").text
    assert logged() == [("resale_claims", "c-02", "claim_reason", "finance")]
    log = console.operator("op.admin", "admin").get("/admin/privacy").text
    assert "검토 중인 재판매 신고" in log and "신고에 적은 구매자의 말" in log
