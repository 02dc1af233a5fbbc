"""A stateful property test of the service layer over the in-memory fakes: hypothesis
interleaves submissions (valid, duplicate, malformed), the issuer's outcomes (captured,
answer lost, unavailable, spent elsewhere), worker passes, the clock, the bank settling
or bouncing a sent payout, and reviewers deciding items in review; after every step:

- ``ledger_check.check`` finds nothing;
- every item's history in ``item_events`` follows the transition table, from intake to
  its current status;
- no code is captured twice at the issuer, and no code has more than one item that was
  not declined;
- the bank never holds more for a customer than the payouts of their items that are
  being paid or paid, and our ledger moved exactly what the bank moved.

Reversals are not a rule: no service path posts one yet (the ledger's own property tests
cover them). Runs on SQLite, and on PostgreSQL when ``GIFTCASH_TEST_POSTGRES_URL`` is set
(one schema, emptied between examples)."""

from __future__ import annotations

import dataclasses
import re
import shutil
import uuid
from collections import Counter
from datetime import timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pyotp
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, create_engine, delete, func, insert, select, text
from sqlalchemy.engine import make_url

from fakes import FakeBank, FakeClock, FakeIssuer, FakeSms
from giftcash.adapters.db import migrate
from giftcash.adapters.db import tables as t
from giftcash.adapters.db.engine import make_engine
from giftcash.adapters.db.ledger_check import check as ledger_check
from giftcash.adapters.db.uow import SqlUnitOfWork
from giftcash.bootstrap import build_deps
from giftcash.config import Settings
from giftcash.domain import ledger
from giftcash.domain.states import ITEM_TRANSITIONS, ItemStatus
from giftcash.entrypoints.worker import Worker
from giftcash.identity import bank_accounts, customers, operators
from giftcash.identity.operators import Operator
from giftcash.intake import submissions
from giftcash.payouts import sending
from giftcash.redemption import steps as redemption
from giftcash.review import queue as review
from giftcash.service.ports import Ambiguous, Unavailable

pytestmark = pytest.mark.slow  # stateful machine over real databases

MACHINE = settings(
    max_examples=25,
    stateful_step_count=20,
    deadline=None,
    # no shrinking: each example builds a database, and a failing run of at most 20
    # steps reads well as it is (shrinking it took minutes)
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
PASSWORD = "machine password 1"
CUSTOMERS = 3
FACES = (1_000, 5_000, 30_000, 60_000, 150_000)  # 60k: a first-sale hold; 150k: review too
ALLOWED_AT_INTAKE = {"limit_exceeded", "too_many_attempts"}


class NoWebhooks:
    def send(self, url: str, headers: dict[str, str], body: str) -> int:
        raise AssertionError("the machine registers no webhook endpoint")


class ServiceMachine(RuleBasedStateMachine):
    engine_for_example: Any = None  # set by the test: () -> (engine, url, data_dir)

    def __init__(self) -> None:
        super().__init__()
        self.engine, url, data_dir = type(self).engine_for_example()
        self.clock = FakeClock()
        self.issuer, self.bank, self.sms = FakeIssuer(), FakeBank(settle_later=True), FakeSms()
        self.deps = build_deps(
            Settings(data_dir=data_dir, database_url=url),
            engine=self.engine,
            issuer=self.issuer,
            bank=self.bank,
            sms=self.sms,
            fast_passwords=True,
        )
        self.deps.clock = self.clock
        self.worker = Worker(
            self.deps,
            worker_id="machine",
            concurrency=2,
            per_issuer=2,
            webhook_sender=NoWebhooks(),  # no endpoints here; skips an HTTP client per example
        )
        self.serial = count(1)
        self.owner: dict[str, str] = {}  # account number -> customer, every account so far
        self.people = [self._customer(n) for n in range(CUSTOMERS)]
        op_id = operators.create_operator(
            self.deps,
            username="machine-rev",
            password="machine operator password",
            role="reviewer",
            totp_secret=pyotp.random_base32(),
        )
        self.reviewer = Operator(op_id, "machine-rev", "reviewer")
        self.codes: list[str] = []  # every valid code sold and submitted, in order

    def _customer(self, n: int) -> dict[str, str]:
        phone = f"0107{n:03d}{uuid.uuid4().int % 10_000:04d}"
        cid = customers.signup(
            self.deps,
            phone=phone,
            name="홍길동",
            birth_date=self.clock.now().date().replace(year=1990),
            password=PASSWORD,
        )
        customers.verify_phone(self.deps, phone=phone, code=self.sms.last_code(phone))
        return self._account(n, cid)

    def _account(self, n: int, cid: str) -> dict[str, str]:
        """A new own-name account, verified with its 1-won code."""
        number = f"7{n:02d}{uuid.uuid4().int % 10**10:010d}"
        self.bank.open("004", number, "홍길동")
        acct = bank_accounts.add_bank_account(
            self.deps, cid, bank_code="004", account_number=number, holder_name="홍길동"
        )
        bank_accounts.verify_bank_account(self.deps, cid, acct.id, self.bank.memo_to("004", number))
        self.owner[number] = cid
        return {"id": cid, "account_id": acct.id, "number": number}

    def teardown(self) -> None:
        self.worker.close()
        self.engine.dispose()

    # -- submissions -------------------------------------------------------------------

    def _submit(self, who: int, code: str, face: int, **kw: Any) -> Any:
        c = self.people[who]
        with self.engine.connect() as conn:
            status = conn.scalar(
                select(t.bank_accounts.c.status).where(t.bank_accounts.c.id == c["account_id"])
            )
        if status != "verified":  # a payout bounced: the customer adds another account
            c = self.people[who] = self._account(who, c["id"])
        view = submissions.submit(
            self.deps,
            c["id"],
            bank_account_id=c["account_id"],
            items=[submissions.ItemIn("cultureland", code, face, "cash", **kw)],
            device_key=f"device-{who}",
        )
        return view.items[0]

    @initialize(
        sales=st.lists(
            st.tuples(st.integers(0, CUSTOMERS - 1), st.sampled_from(FACES), st.booleans()),
            min_size=1,
            max_size=4,
        )
    )
    def opening_sales(self, sales: list[tuple[int, int, bool]]) -> None:
        """Every example starts with vouchers in flight."""
        for who, face, recent in sales:
            self.submit_valid(who, face, recent, dashed=False)

    @rule(
        who=st.integers(0, CUSTOMERS - 1),
        face=st.sampled_from(FACES),
        recent=st.booleans(),
        dashed=st.booleans(),
    )
    def submit_valid(self, who: int, face: int, recent: bool, dashed: bool) -> None:
        code = f"4180{next(self.serial):012d}"
        bought = self.clock.now() - timedelta(minutes=10 if recent else 60 * 24 * 30)
        self.issuer.sell("cultureland", code, face, purchased_at=bought)
        typed = "-".join(code[i : i + 4] for i in range(0, 16, 4)) if dashed else code
        item = self._submit(who, typed, face, purchased_at=bought if recent else None)
        self.codes.append(code)
        if item.status == "declined":
            assert item.decline_code in ALLOWED_AT_INTAKE, item.decline_code
        else:
            assert item.status in ("received", "review"), item.status

    @precondition(lambda self: bool(self.codes))
    @rule(who=st.integers(0, CUSTOMERS - 1), pick=st.integers(0, 10**6))
    def submit_again(self, who: int, pick: int) -> None:
        code = self.codes[pick % len(self.codes)]
        live_before = self._live_items(code)
        item = self._submit(who, f" {code} ", 1_000)
        if live_before:  # declined: as a duplicate, or for a reason that comes first
            assert item.status == "declined", item
            assert item.decline_code in {"duplicate_code"} | ALLOWED_AT_INTAKE, item

    @rule(who=st.integers(0, CUSTOMERS - 1), length=st.sampled_from([3, 15, 17, 30]))
    def submit_malformed(self, who: int, length: int) -> None:
        item = self._submit(who, "4" * length, 1_000)
        assert (item.status, item.decline_code) == ("declined", "invalid_format")

    # -- the issuer, the worker, the clock, the bank ----------------------------------

    @rule(kind=st.sampled_from(["lost_answer", "unavailable", "spent_elsewhere"]))
    def issuer_misbehaves(self, kind: str) -> None:
        if kind == "lost_answer":
            self.issuer.lose_next += 1
        elif kind == "unavailable":
            self.issuer.fail_next += 1
        elif self.codes:
            voucher = self.issuer.vouchers[self.codes[-1]]
            if voucher.spent_by is None:
                voucher.spent_by = "someone-else"

    @rule(wait_s=st.sampled_from([0, 90, 600]))
    def worker_pass(self, wait_s: int) -> None:
        """A pass, after a wait that lets earlier retries' backoff run out."""
        self.clock.advance(wait_s)
        self.worker.run_once()

    @rule(hours=st.sampled_from([1, 25]))
    def advance_clock(self, hours: int) -> None:
        """Failure windows close, first-sale holds end, days turn."""
        self.clock.advance(hours * 3600)

    def _pending_payouts(self) -> list[str]:
        with self.engine.connect() as conn:
            ours = set(conn.scalars(select(t.payouts.c.bank_tran_id)))
        return sorted(
            k for k, v in self.bank.transfers.items() if v["status"] == "pending" and k in ours
        )

    @precondition(lambda self: bool(self._pending_payouts()))
    @rule(pick=st.integers(0, 10**6), bounce=st.booleans())
    def bank_answers(self, pick: int, bounce: bool) -> None:
        pending = self._pending_payouts()
        tran_id = pending[pick % len(pending)]
        if bounce:
            self.bank.return_transfer(tran_id)
        else:
            self.bank.settle(tran_id)

    def _in_review(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(
                conn.scalars(
                    select(t.items.c.id).where(t.items.c.status == "review").order_by(t.items.c.id)
                )
            )

    @precondition(lambda self: bool(self._in_review()))
    @rule(pick=st.integers(0, 10**6), approve=st.booleans())
    def review_decides(self, pick: int, approve: bool) -> None:
        waiting = self._in_review()
        item_id = waiting[pick % len(waiting)]
        decide = review.approve if approve else review.decline
        item = decide(self.deps, self.reviewer, item_id, "checked by the machine")
        assert item.status == ("received" if approve else "declined")

    # -- invariants --------------------------------------------------------------------

    def _live_items(self, code: str) -> int:
        h = self.deps.vault.hmac(code)
        with self.engine.connect() as conn:
            return len(
                conn.execute(
                    select(t.items.c.id).where(
                        t.items.c.code_hmac == h, t.items.c.status != "declined"
                    )
                ).all()
            )

    @invariant()
    def books_hold(self) -> None:
        with SqlUnitOfWork(self.engine, read_only=True) as uow:
            assert ledger_check(uow.conn) == []

    @invariant()
    def histories_follow_the_table(self) -> None:
        e, i = t.item_events.c, t.items.c
        with self.engine.connect() as conn:
            now = dict(conn.execute(select(i.id, i.status)).all())
            events = conn.execute(
                select(e.item_id, e.from_status, e.to_status).order_by(e.item_id, e.id)
            ).all()
        last: dict[str, str] = {}
        for item_id, old, new in events:
            if item_id not in last:
                assert old is None, (item_id, old, new)
            else:
                assert old == last[item_id], (item_id, last[item_id], old, new)
                assert ItemStatus(new) in ITEM_TRANSITIONS[ItemStatus(old)], (old, new)
            last[item_id] = new
        assert last == now

    @invariant()
    def no_code_twice(self) -> None:
        assert self.issuer.codes_redeemed_twice() == 0
        with self.engine.connect() as conn:
            live = Counter(
                conn.scalars(select(t.items.c.code_hmac).where(t.items.c.status != "declined"))
            )
        assert all(n == 1 for n in live.values()), live.most_common(3)

    @invariant()
    def every_captured_won_is_booked(self) -> None:
        """What the issuer captured is in our ledger, but for items whose redemption is
        still being settled (an answer lost: the next claim asks the issuer)."""
        i, lp = t.items.c, t.ledger_postings.c
        with self.engine.connect() as conn:
            settling = set(
                conn.scalars(select(i.redeem_key).where(i.status == ItemStatus.REDEEMING.value))
            )
            booked = conn.scalar(
                select(func.coalesce(func.sum(lp.amount), 0)).where(
                    lp.account.like(ledger.ISSUER_PREFIX + "%"), lp.amount > 0
                )
            )
        captured = sum(
            r.amount or 0
            for key, (_code, r) in self.issuer.redemptions.items()
            if key not in settling
        )
        assert captured == booked, (captured, booked)

    @invariant()
    def never_paid_more_than_owed(self) -> None:
        i, lp, lt = t.items.c, t.ledger_postings.c, t.ledger_transfers.c
        with self.engine.connect() as conn:
            owed: Counter[str] = Counter()
            for cid, payout in conn.execute(
                select(i.customer_id, i.payout).where(i.status.in_(("paying", "paid")))
            ):
                owed[cid] += payout
            moved = {
                kind: int(total or 0)
                for kind, total in conn.execute(
                    select(lt.kind, func.sum(lp.amount))
                    .join(t.ledger_transfers, lt.id == lp.transfer_id)
                    .where(lp.amount > 0, lp.account.like(ledger.CUSTOMER_PREFIX + "%"))
                    .group_by(lt.kind)
                )
            }
        at_bank: Counter[str] = Counter()
        for v in self.bank.transfers.values():
            if v["status"] in ("pending", "done") and v["amount"] > 1:
                at_bank[self.owner[v["account"][1]]] += v["amount"]
        for cid, out in at_bank.items():
            assert out <= owed[cid], (out, owed[cid])
        # what left for customers and stayed out == payouts sent less returned
        returned = sum(
            v["amount"] for v in self.bank.transfers.values() if v["status"] == "returned"
        )
        assert sum(at_bank.values()) + returned == moved.get("payout_sent", 0)


# -- databases per example ------------------------------------------------------------------


def _fresh_schema(database_url: str) -> str:
    """A new schema in the session's PostgreSQL database, selected by ``search_path``."""
    schema = f"machine_{uuid.uuid4().hex[:12]}"
    admin_engine = create_engine(database_url)
    try:
        with admin_engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        admin_engine.dispose()
    url = make_url(database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def sqlite_copies(template: Path, tmp_path_factory: Any) -> Any:
    def fresh() -> tuple[Engine, str, Path]:
        folder = tmp_path_factory.mktemp("machine")
        target = folder / "giftcash.db"
        shutil.copyfile(template, target)
        url = f"sqlite:///{target}"
        return make_engine(url), url, folder

    return fresh


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine_for_example(request, tmp_path_factory):
    if request.param == "sqlite":
        yield sqlite_copies(request.getfixturevalue("sqlite_template"), tmp_path_factory)
        return
    url = _fresh_schema(request.getfixturevalue("postgres_database_url"))
    migrate.upgrade(url)
    seed = make_engine(url)
    with seed.connect() as conn:  # the rows a migrated database starts with
        initial = {
            table: [dict(r._mapping) for r in conn.execute(select(table))]
            for table in t.metadata.sorted_tables
        }
    seed.dispose()

    def emptied() -> tuple[Engine, str, Path]:
        engine = make_engine(url)
        with engine.begin() as conn:
            for table in reversed(t.metadata.sorted_tables):
                conn.execute(delete(table))
            for table, rows in initial.items():
                if rows:
                    conn.execute(insert(table), rows)
        return engine, url, tmp_path_factory.mktemp("machine")

    yield emptied


def test_the_service_keeps_its_invariants_whatever_happens(engine_for_example, request):
    ServiceMachine.engine_for_example = staticmethod(engine_for_example)
    postgres = "postgres" in request.node.callspec.id
    # PostgreSQL empties 40 tables per example: fewer examples keep it cheap
    run_state_machine_as_test(
        ServiceMachine, settings=settings(MACHINE, max_examples=10) if postgres else MACHINE
    )


# -- the machine can fail: bugs planted by these tests only --------------------------------


@pytest.fixture
def machine(sqlite_template, tmp_path_factory):
    ServiceMachine.engine_for_example = staticmethod(
        sqlite_copies(sqlite_template, tmp_path_factory)
    )
    m = ServiceMachine()
    yield m
    m.teardown()


def test_a_retry_without_inquiry_loses_captured_won(machine, monkeypatch):
    def redeem_again_under_a_new_key(deps, c):  # PLANTED
        key = c.key if c.prior_attempts == 0 else f"{c.key}-again{c.prior_attempts}"
        try:
            return redemption._classify(c, deps.issuer.redeem(c.issuer, key, c.code, c.pin))
        except (Ambiguous, Unavailable) as e:
            return redemption.RedeemOutcome(c, "retry", reason=str(e))

    monkeypatch.setattr(redemption, "redeem", redeem_again_under_a_new_key)
    machine.opening_sales([(0, 5_000, False)])
    machine.issuer_misbehaves("lost_answer")
    machine.worker_pass(0)  # admitted (a pass redeems what earlier passes admitted)
    machine.worker_pass(0)  # redeemed at the issuer; the answer is lost
    machine.every_captured_won_is_booked()  # the lost answer is still being settled
    machine.worker_pass(90)
    with pytest.raises(AssertionError) as caught:
        machine.every_captured_won_is_booked()
    captured, booked = _pair(caught.value)
    assert captured > booked


def test_a_payout_that_leaves_its_items_redeemed_pays_twice(machine, monkeypatch):
    real = machine.deps.uow

    class KeepRedeemed:  # PLANTED: payouts are made, their items never move to paying
        def __init__(self):
            self.uow = real()

        def __enter__(self):
            uow = self.uow.__enter__()
            # (and say they did, as a repository that lies would)
            uow.items.transition = lambda events, *a, **kw: {e.id for e in events}
            return uow

        def __exit__(self, *exc):
            return self.uow.__exit__(*exc)

    monkeypatch.setattr(sending, "create_payouts", _with_uow(sending.create_payouts, KeepRedeemed))
    machine.opening_sales([(0, 5_000, False)])
    for _ in range(3):  # admitted, redeemed, paid out: one step per pass
        machine.worker_pass(0)
    with pytest.raises(AssertionError) as caught:
        machine.never_paid_more_than_owed()
    at_bank, owed = _pair(caught.value)
    assert at_bank > owed


def _pair(error: AssertionError) -> tuple[int, int]:
    """The ``(found, allowed)`` an invariant's assertion carries."""
    match = re.match(r"\((\d+), (\d+)\)", str(error))
    assert match, str(error)
    return int(match.group(1)), int(match.group(2))


def _with_uow(fn, uow_factory):
    def run(deps, *a, **kw):
        return fn(dataclasses.replace(deps, uow=uow_factory), *a, **kw)

    return run
