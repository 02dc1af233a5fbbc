"""A purge on a database with old and new customers (issue 14, "How we will check it"):
the old personal data is gone, the books and the audit chain still verify (ledger check,
audit verify, bean-check), the counts are reported, and a second purge changes nothing.
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import test_admin_world
from sqlalchemy import insert, select
from test_admin_world import CUSTOMER_PASSWORD, World, customer, item, submit
from test_ledger_export import bean_check, export

from giftcash.adapters.db import tables as t
from giftcash.adapters.db.ledger_check import check as ledger_check
from giftcash.adapters.db.uow import SqlUnitOfWork
from giftcash.audit import log as audit
from giftcash.entrypoints.worker import Worker
from giftcash.identity import blocks
from giftcash.identity.operators import Operator
from giftcash.privacy import purge, withdrawal
from giftcash.review import queue as review
from giftcash.service.ports.privacy import AccessEntry, Erased

world = test_admin_world.world  # the shared fixture

DAY_S = 86_400
HELD = "sales or payouts are still in flight"
ADMIN = Operator(id="op-1", username="adm", role="admin")


def _sell(w: World, auth: dict, account_id: str, code: str) -> None:
    w.issuer.sell("cultureland", code, 10_000)
    submit(w, auth, account_id, item(code, 10_000))


def _customer_row(w: World, phone: str):
    with w.engine.connect() as conn:
        return conn.execute(select(t.customers).where(t.customers.c.phone == phone)).one_or_none()


def _by_id(w: World, customer_id: str):
    with w.engine.connect() as conn:
        return conn.execute(select(t.customers).where(t.customers.c.id == customer_id)).one()


def _accounts(w: World, customer_id: str) -> list:
    with w.engine.connect() as conn:
        a = t.bank_accounts.c
        return conn.execute(
            select(t.bank_accounts).where(a.customer_id == customer_id).order_by(a.id)
        ).all()


def _books_and_chain_hold(w: World, tmp_path) -> None:
    with SqlUnitOfWork(w.engine, read_only=True) as uow:
        assert ledger_check(uow.conn) == []
    with w.deps.reader() as uow:
        assert audit.verify(uow) == []
    path = tmp_path / "books.beancount"
    export(w.engine, path)
    result = bean_check(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_purge_forgets_old_customers_and_keeps_the_books(world: World, tmp_path) -> None:
    w = world
    # -- the old ones: one withdraws after selling, one sells and never comes back ---------
    gone_auth, gone_account = customer(w, "010-7100-0001", "71000000000001", name="김탈퇴")
    _sell(w, gone_auth, gone_account, "4180000000710001")
    w.bank.open("004", "71000000000002", "김탈퇴")  # a second account, never paid to
    r = w.client.post(
        "/v1/bank-accounts",
        json={"bank_code": "004", "account_number": "71000000000002", "holder_name": "김탈퇴"},
        headers=gone_auth,
    )
    assert r.status_code == 201, r.text
    idle_auth, idle_account = customer(w, "010-7100-0002", "71000000000003", name="이휴면")
    w.issuer.sell("cultureland", "4180000000710002", 10_000)
    sold = submit(w, idle_auth, idle_account, item("4180000000710002", 10_000))
    reviewed = sold["items"][0]["id"]
    review.send_to_review(w.deps, [reviewed], reason="scam_victim_guard: a test", flags=[])
    review.approve(w.deps, ADMIN, reviewed, "이휴면 본인과 통화함")  # names the person
    Worker(w.deps).drain(20)
    gone = _customer_row(w, "01071000001")
    idle = _customer_row(w, "01071000002")
    withdrawal.withdraw(w.deps, gone.id, CUSTOMER_PASSWORD)
    # an operator's reason names the person: personal data in the audit log
    blocks.block(w.deps, ADMIN, "customer", idle.id, "이휴면 본인 아님, 010-7100-0002로 확인")
    signin = w.client.post(
        "/v1/tokens", json={"phone": "010-7100-0001", "password": CUSTOMER_PASSWORD}
    )
    assert signin.status_code == 403 and signin.json()["code"] == "account_closed"
    # the phone stays with the withdrawn account until the purge: a sign-up is told so
    again = w.client.post(
        "/v1/signup",
        json={
            "phone": "010-7100-0001",
            "name": "김탈퇴",
            "birth_date": "1958-03-04",
            "password": CUSTOMER_PASSWORD,
        },
    )
    assert again.status_code == 201  # the same answer a new number gets
    phone, text = w.sms.outbox[-1]
    assert phone == "01071000001" and "탈퇴한 계정" in text and "365일" in text
    # one more old one whose sale never finished: held, whatever its age
    open_auth, open_account = customer(w, "010-7100-0003", "71000000000004", name="박진행")
    _sell(w, open_auth, open_account, "4180000000710003")
    pending = _customer_row(w, "01071000003")

    # -- two years and a day later, a new customer sells --------------------------------------
    w.clock.advance(2 * 365 * DAY_S + DAY_S)
    new_auth, new_account = customer(w, "010-7100-0004", "71000000000005", name="최신규")
    _sell(w, new_auth, new_account, "4180000000710004")
    with w.engine.connect() as conn:  # the worker would also redeem the held one's item
        new_id = _customer_row(w, "01071000004").id
        assert (
            conn.execute(
                select(t.items.c.status).where(t.items.c.customer_id == pending.id)
            ).scalar_one()
            == "received"
        )

    dry = purge.purge(w.deps, dry_run=True, batch=2)
    assert _customer_row(w, "01071000001") is not None  # the dry run changed nothing
    report = purge.purge(w.deps, batch=2)  # batches of two: several transactions
    assert dry.erased == report.erased
    counts = report.erased.counts()
    assert counts["customers_pseudonymised"] == 2
    assert counts["bank_accounts_destroyed"] == 1  # the account never paid to
    assert counts["consents_deleted"] == 0  # API sign-ups answer no consent form
    assert counts["sms_challenges_deleted"] >= 3  # two years old: every sign-up's code
    assert counts["blocks_deleted"] == 1
    # the block's record (and the withdrawal's) are redacted, the chain still verifies
    assert counts["audit_details_redacted"] == 2
    [block] = w.audit_rows("customer.block")
    assert block.detail is None and block.salt is None and block.redacted_at is not None
    assert block.subject == f"customer:{idle.id}" and block.body_digest
    assert report.held == {HELD: 1}

    for old, name in ((gone, "김탈퇴"), (idle, "이휴면")):
        row = _by_id(w, old.id)
        assert (row.status, row.name, row.password_hash) == ("pseudonymised", "", "!")
        assert row.phone == purge.pseudonym(old.id) and row.phone != old.phone
        assert str(row.birth_date) == "1900-01-01"
        for a in _accounts(w, old.id):
            assert a.holder_name in ("", name)  # the paid-to account stays five years
        with w.engine.connect() as conn:
            leftovers = conn.execute(
                select(t.ledger_transfers.c.memo, t.ledger_transfers.c.ref)
            ).all()
        assert not any(name in (m or "") + (r or "") for m, r in leftovers)
    destroyed = [a for a in _accounts(w, gone.id) if a.destroyed_at is not None]
    assert [
        (a.account_number_enc, a.account_number_masked, a.account_key_id) for a in destroyed
    ] == [(b"", "", "destroyed")]
    assert _by_id(w, pending.id).name == "박진행"  # held: nothing touched
    assert _by_id(w, new_id).name == "최신규"
    _books_and_chain_hold(w, tmp_path)
    purged = [r.detail for r in w.audit_rows("privacy.purge")]
    assert sum(d.get("customers_pseudonymised", 0) for d in purged) == 2

    # -- a second purge changes nothing ----------------------------------------------------
    audit_before = len(w.audit_rows())
    again = purge.purge(w.deps, batch=2)
    assert again.erased == Erased() and again.held == {HELD: 1}
    assert len(w.audit_rows()) == audit_before  # not even a record that nothing happened

    # -- the withdrawn phone signs up again, as a new customer -------------------------------
    customer(w, "010-7100-0001", "71000000000006", name="김탈퇴")
    back = _customer_row(w, "01071000001")
    assert back.id != gone.id

    # -- five years after the relationship ended, the accounts paid to go too --------------
    # (and the one who came back and then did nothing for four years is forgotten too)
    w.clock.advance((4 * 365 + 2) * DAY_S)
    later = purge.purge(w.deps, batch=2)
    assert later.erased.bank_accounts_destroyed == 3  # two paid to, one of the comeback
    assert later.erased.item_notes_erased == 1  # the reviewer's note on the old sale
    [approval] = w.audit_rows("item.approve")
    assert approval.detail is None and approval.redacted_at is not None
    with w.engine.connect() as conn:
        note = conn.execute(select(t.items.c.review_note).where(t.items.c.id == reviewed))
        assert note.scalar_one() is None
    assert later.erased.customers_pseudonymised == 1 and _by_id(w, back.id).name == ""
    assert all(a.destroyed_at is not None for a in _accounts(w, gone.id) + _accounts(w, idle.id))
    assert purge.purge(w.deps, batch=2).erased.bank_accounts_destroyed == 0
    _books_and_chain_hold(w, tmp_path)


def test_old_sign_in_records_go_and_the_access_log_stays_two_years(world: World) -> None:
    w = world
    customer(w, "010-7200-0001", "72000000000001")
    wrong = w.client.post("/v1/tokens", json={"phone": "010-7200-0001", "password": "nope"})
    assert wrong.status_code == 401
    with w.deps.uow() as uow:
        now = w.clock.now()
        uow.idempotency.lock("customer:c-1", "k-1", "h" * 64, now, now)
        uow.access_log.add(
            [
                AccessEntry(
                    "v-1-a", "v-1", w.clock.now(), "op-1", "admin", "customer", None, "c-1", "name"
                ),
            ]
        )
        uow.commit()
    with w.engine.begin() as conn:  # statement lines: one over five years old, one not
        for tran_id, booked in (("T-OLD", "2020-11-01"), ("T-NEW", "2026-11-01")):
            conn.execute(
                insert(t.bank_statement_lines).values(
                    bank_tran_id=tran_id,
                    direction="out",
                    booked_on=date.fromisoformat(booked),
                    currency="KRW",
                    amount=9_000,
                    counterparty="김*민",
                    result="matched",
                    line_hash="0" * 64,
                    import_id="imp-1",
                    imported_at=w.clock.now(),
                )
            )
    w.clock.advance(400 * DAY_S)  # past the sign-in records' 90 days, not the log's 730
    first = purge.purge(w.deps)
    assert first.erased.statement_counterparties_erased == 1
    with w.engine.connect() as conn:
        b = t.bank_statement_lines.c
        kept = dict(conn.execute(select(b.bank_tran_id, b.counterparty)).all())
    assert kept == {"T-OLD": None, "T-NEW": "김*민"}
    assert first.erased.sms_challenges_deleted >= 1
    assert first.erased.failed_attempts_deleted == 1
    assert first.erased.bounded_calls_deleted >= 2  # the sign-up's SMS, the failed sign-in
    assert first.erased.idempotency_keys_deleted == 1
    assert first.erased.sessions_deleted >= 1  # the sign-in's token, long expired
    assert first.erased.access_log_deleted == 0
    assert w.count(t.personal_data_access) == 1
    w.clock.advance(331 * DAY_S)
    assert purge.purge(w.deps).erased.access_log_deleted == 1
    assert purge.purge(w.deps).erased == Erased()


def test_the_worker_runs_the_purge_when_it_is_due(world: World) -> None:
    w = world
    customer(w, "010-7300-0001", "73000000000001", name="정탈퇴")
    gone = _customer_row(w, "01073000001")
    withdrawal.withdraw(w.deps, gone.id, CUSTOMER_PASSWORD)
    w.clock.advance(366 * DAY_S)
    idle = Worker(w.deps, retention_every_s=None)
    idle.run_once()
    idle.close()
    assert _by_id(w, gone.id).status == "withdrawn"  # a worker told never to purge
    worker = Worker(w.deps, retention_every_s=0.0)  # due at its first pass
    worker.run_once()
    worker.close()
    assert _by_id(w, gone.id).status == "pseudonymised"


def test_a_sign_in_racing_the_purge_wins(world: World) -> None:
    """The plan was made from the last activity it read; a sign-in committed after that
    read keeps the customer (the purge's update finds a later last activity)."""
    w = world
    customer(w, "010-7400-0001", "74000000000001", name="윤복귀")
    back = _customer_row(w, "01074000001")
    read_at = w.clock.now()
    w.clock.advance(DAY_S)
    signin = w.client.post(
        "/v1/tokens", json={"phone": "010-7400-0001", "password": CUSTOMER_PASSWORD}
    )
    assert signin.status_code == 200
    with w.deps.uow() as uow:
        done = uow.retention.pseudonymise(back.id, "~x", w.clock.now(), seen_by=read_at)
        uow.commit()
    assert done == Erased()
    assert _by_id(w, back.id).name == "윤복귀"


def test_an_unblocked_devices_address_leaves_the_audit_log_after_two_years(world: World):
    w = world
    blocks.block(w.deps, ADMIN, "device", "203.0.113.9", "카드깡 의심 주소")
    blocks.unblock(w.deps, ADMIN, "device", "203.0.113.9", "오탐")
    blocks.block(w.deps, ADMIN, "device", "198.51.100.7", "반복 시도")  # still blocked
    w.clock.advance(729 * DAY_S)
    assert purge.purge(w.deps).erased.audit_details_redacted == 0  # not two years yet
    w.clock.advance(2 * DAY_S)
    report = purge.purge(w.deps)
    assert report.erased.audit_details_redacted == 2  # the block and the unblock
    subjects = [r.subject for r in w.audit_rows() if r.action.startswith("device.")]
    assert subjects == ["device:redacted", "device:redacted", "device:198.51.100.7"]
    assert all("203.0.113.9" not in str(tuple(r)) for r in w.audit_rows())
    with w.deps.reader() as uow:
        assert audit.verify(uow) == []
    assert purge.purge(w.deps).erased == Erased()
