"""A purge on a database with old and new customers (issue 14, "How we will check it"):
the old personal data is gone, the books and the audit chain still verify (ledger check,
audit verify, bean-check), the counts are reported, and a second purge changes nothing.
SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
import test_admin_world
from fastapi.testclient import TestClient
from sqlalchemy import insert, or_, select
from test_admin_world import CUSTOMER_PASSWORD, World, customer, item, submit
from test_ledger_export import bean_check, export

from appcache import app_for
from fakes import FakeBank, FakeClock, FakeIdentity, FakeIssuer, FakeSms
from giftcash.adapters.db import tables as t
from giftcash.adapters.db.ledger_check import check as ledger_check
from giftcash.adapters.db.uow import SqlUnitOfWork
from giftcash.audit import log as audit
from giftcash.bootstrap import build_deps
from giftcash.config import Settings
from giftcash.domain import retention
from giftcash.entrypoints.worker import Worker
from giftcash.identity import blocks, tiers, verification
from giftcash.identity.operators import Operator
from giftcash.privacy import purge, withdrawal
from giftcash.review import queue as review
from giftcash.service import errors
from giftcash.service.ports.privacy import AccessEntry, Erased
from giftcash.stops import filing, tracing

world = test_admin_world.world  # the shared fixture

DAY_S = 86_400
HELD = "sales or payouts are still in flight"
ADMIN = Operator(id="op-1", username="adm", role="admin")
FINANCE = Operator(id="op-finance", username="finance1", role="finance")


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


# -- the identity part and the payment stops (issue 14, items 1 and 3) ----------------------


@pytest.fixture
def iworld(engine, tmp_path):
    """The shared world with identity verification configured (a verified person per
    customer, tiers in force)."""
    issuer, bank, sms, identity = FakeIssuer(), FakeBank(), FakeSms(), FakeIdentity()
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(data_dir=tmp_path, database_url=url)
    deps = build_deps(
        settings,
        engine=engine,
        issuer=issuer,
        bank=bank,
        sms=sms,
        identity=identity,
        fast_passwords=True,
    )
    clock = FakeClock(datetime(2026, 11, 27, 9, 0, 7, 123456, tzinfo=UTC))
    deps.clock = clock
    with TestClient(app_for(deps)) as client:
        w = World(client, deps, issuer, bank, sms, engine, clock, url)
        w.identity = identity  # type: ignore[attr-defined]
        yield w


def _verified(w: World, phone: str, account: str, name: str, ci: str) -> tuple[dict, str]:
    """A customer signed up through identity verification, with a verified account."""
    digits = phone.replace("-", "")
    w.identity.person(digits, name=name, birth_date=date(1980, 6, 1), ci=ci)  # type: ignore[attr-defined]
    r = w.client.post(
        "/v1/signup",
        json={
            "phone": phone,
            "name": name,
            "birth_date": "1980-06-01",
            "password": CUSTOMER_PASSWORD,
        },
    )
    assert r.status_code == 201 and r.json()["verification"] == "identity", r.text
    w.identity.confirm(digits)  # type: ignore[attr-defined]
    r = w.client.post("/v1/signup/identity", json={"phone": phone})
    assert r.status_code == 200, r.text
    r = w.client.post("/v1/tokens", json={"phone": phone, "password": CUSTOMER_PASSWORD})
    assert r.status_code == 200, r.text
    auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
    w.bank.open("004", account, name)
    r = w.client.post(
        "/v1/bank-accounts",
        json={"bank_code": "004", "account_number": account, "holder_name": name},
        headers=auth,
    )
    assert r.status_code == 201, r.text
    account_id = r.json()["id"]
    memo = w.bank.memo_to("004", account)
    r = w.client.post(f"/v1/bank-accounts/{account_id}/verify", json={"code": memo}, headers=auth)
    assert r.status_code == 200, r.text
    return auth, account_id


def _identity_rows(w: World, customer_id: str, phone: str, ci_hmac: str) -> dict[str, int]:
    ic, b = t.identity_checks.c, t.bounded_calls.c
    return {
        "identities": w.count(
            t.customer_identities,
            or_(
                t.customer_identities.c.customer_id == customer_id,
                t.customer_identities.c.ci_hmac == ci_hmac,
            ),
        ),
        "checks": w.count(t.identity_checks, or_(ic.customer_id == customer_id, ic.phone == phone)),
        "due_diligence": w.count(
            t.customer_due_diligence, t.customer_due_diligence.c.customer_id == customer_id
        ),
        "bounds_by_person": w.count(t.bounded_calls, b.person == f"ci:{ci_hmac}"),
    }


def _stop(scope: str, **subject: str) -> filing.StopRequest:
    return filing.StopRequest(
        scope=scope,
        requester="bank",
        requester_name="KB국민은행 사기대응팀",
        requester_contact="1588-9999",
        reference="KB-2026-0001",
        reason="보이스피싱 피해금 입금 계좌",
        **subject,
    )


def test_a_verified_customer_past_the_keep_period_leaves_no_identity_data(
    iworld: World, tmp_path
) -> None:
    w = iworld
    auth, account = _verified(w, "010-7500-0001", "75000000000001", "한검증", "ci-han")
    _sell(w, auth, account, "4180000000750001")
    Worker(w.deps).drain(20)
    me = _customer_row(w, "01075000001")
    tiers.require_edd(w.deps, ADMIN, me.id, "한검증 고객 자금 출처 확인 필요")
    tiers.answer_edd(
        w.deps, me.id, occupation="회사원", source_of_funds="급여", purpose="상품권 현금화"
    )
    ci_hmac = verification.ci_key(w.deps, "ci-han")
    before = _identity_rows(w, me.id, "01075000001", ci_hmac)
    assert before["identities"] == 1 and before["checks"] >= 1 and before["due_diligence"] == 1
    withdrawal.withdraw(w.deps, me.id, CUSTOMER_PASSWORD)

    # during the keep period the person is still known: one person, one customer holds
    w.clock.advance(200 * DAY_S)
    w.identity.person("01075000002", name="한검증", birth_date=date(1980, 6, 1), ci="ci-han")  # type: ignore[attr-defined]
    r = w.client.post(
        "/v1/signup",
        json={
            "phone": "010-7500-0002",
            "name": "한검증",
            "birth_date": "1980-06-01",
            "password": CUSTOMER_PASSWORD,
        },
    )
    assert r.status_code == 201, r.text
    w.identity.confirm("01075000002")  # type: ignore[attr-defined]
    refused = w.client.post("/v1/signup/identity", json={"phone": "010-7500-0002"})
    assert refused.json()["code"] == "identity_already_registered", refused.text
    assert purge.purge(w.deps).erased.customers_pseudonymised == 0

    # past the keep period: the purge forgets the person, the dry run counted it exactly
    w.clock.advance(166 * DAY_S)
    dry = purge.purge(w.deps, dry_run=True)
    assert _identity_rows(w, me.id, "01075000001", ci_hmac)["identities"] == 1
    report = purge.purge(w.deps)
    assert dry.erased == report.erased
    assert report.erased.customers_pseudonymised == 1
    assert report.erased.identities_deleted == 1
    assert report.erased.due_diligence_deleted == 1
    assert report.erased.identity_checks_deleted == before["checks"]
    assert _identity_rows(w, me.id, "01075000001", ci_hmac) == {
        "identities": 0,
        "checks": 0,
        "due_diligence": 0,
        "bounds_by_person": 0,
    }
    # the CI's keyed hash is nowhere; the EDD request's reason is redacted from the audit log
    with w.engine.connect() as conn:
        for table in (t.customers, t.bounded_calls, t.audit_log, t.identity_checks):
            assert not any(ci_hmac in str(tuple(r)) for r in conn.execute(select(table)))
    [asked] = w.audit_rows("customer.require_edd")
    assert asked.detail is None and asked.redacted_at is not None
    assert _by_id(w, me.id).status == "pseudonymised"
    _books_and_chain_hold(w, tmp_path)
    assert purge.purge(w.deps).erased == Erased()

    # the person may now join again, as a new customer
    _verified(w, "010-7500-0003", "75000000000003", "한검증", "ci-han")
    back = _customer_row(w, "01075000003")
    assert back.id != me.id and back.name == "한검증"


def test_an_active_payment_stop_holds_the_customer_from_purge_and_withdrawal(
    iworld: World, tmp_path
) -> None:
    w = iworld
    # one paid sale to an account a bank then stops; one sale of a code a bank stops
    auth_a, acc_a = _verified(w, "010-7600-0001", "76000000000001", "오계좌", "ci-oh")
    _sell(w, auth_a, acc_a, "4180000000760001")
    Worker(w.deps).drain(20)
    auth_c, acc_c = _verified(w, "010-7600-0002", "76000000000002", "서코드", "ci-seo")
    code_stop = filing.file_stop(w.deps, FINANCE, _stop("code", code="4180000000760002"))
    _sell(w, auth_c, acc_c, "4180000000760002")
    _verified(w, "010-7600-0003", "76000000000003", "박고객", "ci-park")
    account_stop = filing.file_stop(
        w.deps, FINANCE, _stop("account", bank_code="004", account_number="76000000000001")
    )
    person = _customer_row(w, "01076000003")
    customer_stop = filing.file_stop(w.deps, FINANCE, _stop("customer", customer_id=person.id))
    Worker(w.deps).drain(20)
    stopped_a, stopped_c = _customer_row(w, "01076000001"), _customer_row(w, "01076000002")

    # withdrawal is refused while a stop covers the customer: by account, code, customer
    for who in (stopped_a, stopped_c, person):
        with pytest.raises(errors.WithdrawalRefused) as refused:
            withdrawal.withdraw(w.deps, who.id, CUSTOMER_PASSWORD)
        assert refused.value.context["reason"] == "payment_stop"
        assert _by_id(w, who.id).status == "active"

    # the code's stop is settled (the voucher goes back to the victim); two stay active
    filing.settle_stop(w.deps, FINANCE, code_stop.stop.id, "피해자에게 상품권 반환")
    Worker(w.deps).drain(20)
    w.clock.advance(2 * 365 * DAY_S + DAY_S)  # all three inactive past the keep period
    dry = purge.purge(w.deps, dry_run=True)
    report = purge.purge(w.deps)
    assert dry.erased == report.erased and dry.held == report.held
    assert report.held == {retention.HELD_BY_STOP: 2}
    assert report.erased.customers_pseudonymised == 1  # the settled stop's customer
    assert _by_id(w, stopped_a.id).name == "오계좌" and _by_id(w, person.id).name == "박고객"
    assert w.count(t.customer_identities) == 2
    gone = _by_id(w, stopped_c.id)
    assert (gone.status, gone.name) == ("pseudonymised", "")

    # the settled stop's tracing export still follows the chain: ids and masked values
    doc = json.loads(tracing.export(w.deps, FINANCE, code_stop.stop.id, fmt="json").content)
    [row] = doc["chain"]
    assert row["customer_id"] == stopped_c.id and row["customer_name"] == "*"
    assert row["masked_code"].endswith("0002") and "4180000000760002" not in str(doc)
    assert row["item_status"] == "declined" and row["bank_code"] == "004"
    assert row["account_masked"].endswith("0002") and row["account_holder"] == "서*"
    csv_report = tracing.export(w.deps, FINANCE, code_stop.stop.id, fmt="csv")
    assert csv_report.count == 1 and stopped_c.id in csv_report.content
    assert purge.purge(w.deps).erased == Erased()

    # released, the held customers are forgotten at the next purge (their period passed)
    filing.release_stop(w.deps, FINANCE, account_stop.stop.id, "피해 사실 없음 확인")
    filing.release_stop(w.deps, FINANCE, customer_stop.stop.id, "경찰 수사 결과 무혐의")
    Worker(w.deps).drain(20)
    later = purge.purge(w.deps)
    assert later.held == {} and later.erased.customers_pseudonymised == 2
    assert later.erased.identities_deleted == 2
    assert w.count(t.customer_identities) == 0 and w.count(t.customer_due_diligence) == 0
    assert w.count(t.identity_checks) == 0
    _books_and_chain_hold(w, tmp_path)
    assert purge.purge(w.deps).erased == Erased()


def test_a_stop_filed_after_the_plan_keeps_the_customer(world: World) -> None:
    """The plan was made before the stop was filed; the purge's update finds the stop."""
    w = world
    customer(w, "010-7700-0001", "77000000000001", name="구정지")
    late = _customer_row(w, "01077000001")
    filing.file_stop(w.deps, FINANCE, _stop("customer", customer_id=late.id))
    with w.deps.uow() as uow:
        done = uow.retention.pseudonymise(late.id, "~x", w.clock.now(), seen_by=w.clock.now())
        uow.commit()
    assert done == Erased()
    assert _by_id(w, late.id).name == "구정지"
