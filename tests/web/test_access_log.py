"""Every console view of personal data is logged (issue 14, item 4): who (operator id and
role), what (page, fields, the customers shown), when; ids only, never the data; the log
is a console page for admins alone, in Korean."""

from __future__ import annotations

import test_console_pages
from sqlalchemy import select, update
from test_console_pages import Console, _items_in_review
from test_korean_pages import english_in
from websupport import PASSWORD

from giftcash.adapters.db import tables as t
from giftcash.audit import log as audit
from giftcash.identity import operators, tiers
from giftcash.privacy import withdrawal

console = test_console_pages.console  # the shared fixture


def _log(console: Console) -> list:
    c = t.personal_data_access.c
    with console.site.deps.uow() as uow:  # type: ignore[attr-defined]
        return uow.conn.execute(select(t.personal_data_access).order_by(c.at, c.id)).all()


def _customer_id(console: Console) -> str:
    with console.site.deps.uow() as uow:  # type: ignore[attr-defined]
        return uow.conn.execute(
            select(t.customers.c.id).where(t.customers.c.phone == "01044445555")
        ).scalar_one()


def _operator_id(console: Console, username: str) -> str:
    account = operators.operator_exists(console.site.deps, username)
    assert account
    with console.site.deps.uow() as uow:  # type: ignore[attr-defined]
        return uow.conn.execute(
            select(t.operators.c.id).where(t.operators.c.username == username)
        ).scalar_one()


def test_a_customer_record_view_is_logged_with_ids_only(console: Console):
    _items_in_review(console.site)
    admin = console.operator("adm", "admin")
    customer_id = _customer_id(console)
    assert admin.get(f"/admin/customers/{customer_id}").status_code == 200
    [row] = [r for r in _log(console) if r.page == "customer"]
    assert (row.customer_id, row.role, row.subject) == (customer_id, "admin", None)
    assert row.operator_id == _operator_id(console, "adm")
    assert "name" in row.fields.split(",") and "phone" in row.fields.split(",")
    # the log carries no personal data itself
    for value in row:
        assert "최영자" not in str(value) and "01044445555" not in str(value)


def test_lists_log_every_customer_they_show(console: Console):
    _items_in_review(console.site)
    customer_id = _customer_id(console)
    reviewer = console.operator("rev", "reviewer")
    assert reviewer.get("/admin/review").status_code == 200
    admin = console.operator("adm", "admin")
    assert admin.get("/admin/customers?q=5555").status_code == 200
    by_page = {(r.page, r.customer_id, r.role) for r in _log(console)}
    assert ("review", customer_id, "reviewer") in by_page
    assert ("customers", customer_id, "admin") in by_page


def test_the_log_page_is_for_admins_and_in_korean(console: Console):
    _items_in_review(console.site)
    customer_id = _customer_id(console)
    admin = console.operator("adm", "admin")
    admin.cookies.set("gc_lang", "ko")
    admin.get(f"/admin/customers/{customer_id}")
    page = admin.get(f"/admin/privacy?customer={customer_id}")
    assert page.status_code == 200
    assert "개인정보 조회 기록" in page.text and "고객 상세" in page.text
    assert customer_id in page.text
    body = page.text.split("<main", 1)[-1]
    assert "전화번호" in body and english_in(body) == []
    other = admin.get("/admin/privacy?customer=nobody")
    assert "조건에 맞는 기록이 없습니다" in other.text
    finance = console.operator("fin", "finance")
    assert finance.get("/admin/privacy").status_code == 403


def test_the_console_says_a_customer_withdrew(console: Console):
    site = console.site
    site.sign_up("010-4444-6666", name="한탈퇴")
    with site.deps.uow() as uow:  # type: ignore[attr-defined]
        customer_id = uow.conn.execute(
            select(t.customers.c.id).where(t.customers.c.phone == "01044446666")
        ).scalar_one()
    withdrawal.withdraw(site.deps, customer_id, PASSWORD)  # type: ignore[arg-type]
    admin = console.operator("adm", "admin")
    admin.cookies.set("gc_lang", "ko")
    page = admin.get(f"/admin/customers/{customer_id}").text
    assert 'data-status="withdrawn"' in page and "탈퇴" in page


def test_a_pseudonymised_customer_is_named_by_id_in_the_console(console: Console):
    _items_in_review(console.site)
    customer_id = _customer_id(console)
    with console.site.deps.uow() as uow:  # type: ignore[attr-defined]
        uow.conn.execute(  # what the purge leaves of the person
            update(t.customers)
            .where(t.customers.c.id == customer_id)
            .values(name="", phone="~x", status="pseudonymised")
        )
        uow.commit()
    admin = console.operator("adm", "admin")
    record = admin.get(f"/admin/customers/{customer_id}").text
    assert f"<h1>{customer_id}</h1>" in record and 'data-status="pseudonymised"' in record
    listed = admin.get("/admin/customers").text
    assert f"<strong>{customer_id}</strong>" in listed


def test_the_audit_page_says_a_record_was_erased(console: Console):
    deps = console.site.deps
    with deps.uow() as uow:  # type: ignore[attr-defined]
        audit.record(uow, "operator:adm", "customer.block", "customer:c-9", {"reason": "김*"})
        uow.commit()
    with deps.uow() as uow:  # type: ignore[attr-defined]
        seqs = uow.audit.redact("customer:c-9", deps.clock.now(), 10)  # type: ignore[attr-defined]
        audit.record(
            uow, "system:retention", audit.PURGE_ACTION, "privacy", {"redacted_seqs": seqs}
        )
        uow.commit()
    admin = console.operator("adm", "admin")
    admin.cookies.set("gc_lang", "ko")
    page = admin.get("/admin/audit").text
    assert 'data-redacted="yes"' in page and "파기됨" in page and "김*" not in page
    assert 'data-verified="yes"' in page  # the chain still verifies


def test_the_customer_record_logs_the_tier_and_the_edd_answers_it_shows(console: Console):
    _items_in_review(console.site)
    admin = console.operator("adm", "admin")
    customer_id = _customer_id(console)
    assert admin.get(f"/admin/customers/{customer_id}").status_code == 200
    deps = console.site.deps  # type: ignore[attr-defined]
    op = operators.Operator("op-x", "adm", "admin")
    tiers.require_edd(deps, op, customer_id, "자금 출처 확인")
    page = admin.get(f"/admin/customers/{customer_id}")
    assert page.status_code == 200 and "자금 출처 확인" in page.text
    tiers.answer_edd(deps, customer_id, occupation="교사", source_of_funds="급여", purpose="생활비")
    page = admin.get(f"/admin/customers/{customer_id}")
    assert page.status_code == 200 and "교사" in page.text
    first, asked, answered = [r.fields.split(",") for r in _log(console) if r.page == "customer"]
    assert "tier" in first and "edd_answers" not in first and "edd_reason" not in first
    assert "edd_reason" in asked and "edd_answers" not in asked
    assert "edd_answers" in answered and "tier" in answered
    for row in _log(console):  # ids and field names, never the answers
        assert "교사" not in str(tuple(row)) and "자금 출처" not in str(tuple(row))
