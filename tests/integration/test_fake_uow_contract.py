"""The in-memory unit of work (tests/fakes_uow.py) tells the truth: one scenario of
intake and bank-account verification, run through the same service functions over the
fakes and over the real repositories, ends in the same answers. If a repository changes
what it answers, this fails before the unit tests built on the fake start to lie."""

from __future__ import annotations

from dataclasses import replace

from fakes_uow import FakeWorld
from giftcash.adapters.db.app_uow import AppUnitOfWork
from giftcash.identity import bank_accounts
from giftcash.intake import quoting, submissions
from giftcash.intake.submissions import ItemIn
from giftcash.service import errors
from giftcash.service.deps import Deps

GOOD, OTHER, THIRD = "4161-2345-6789-0123", "4161-2345-6789-9999", "4161-2345-6789-2222"


def real_deps(world: FakeWorld, engine) -> Deps:
    deps = replace(
        world.deps,
        uow=lambda: AppUnitOfWork(engine),
        read_uow=lambda: AppUnitOfWork(engine, read_only=True),
    )
    with deps.uow() as uow:
        for cid, phone, name in (
            ("c-1", "010-1111-0001", "김민지"),
            ("c-2", "010-1111-0002", "이서준"),
        ):
            uow.customers.add(
                cid, phone, name, world.db.customers[cid].birth_date, "x", world.clock.now()
            )
            uow.customers.mark_verified(cid, world.clock.now())
        uow.overrides.set_issuer("munhwa", {"enabled": False}, world.clock.now(), "test")
        uow.commit()
    return deps


def scenario(deps: Deps, world: FakeWorld) -> list[object]:
    seen: list[object] = []
    for cid, name, number in (("c-1", "김민지", "110123456789"), ("c-2", "이서준", "110987654321")):
        world.bank.open("088", number, name)
        acct = bank_accounts.add_bank_account(
            deps, cid, bank_code="088", account_number=number, holder_name=name
        )
        try:
            bank_accounts.verify_bank_account(deps, cid, acct.id, "GC" + "x")
        except errors.InvalidCode:
            seen.append("wrong code refused")
        memo = world.bank.memo_to("088", number)
        acct = bank_accounts.verify_bank_account(deps, cid, acct.id, memo)
        seen.append((acct.status, acct.verify_attempts, acct.holder_name))
    c1, c2 = (bank_accounts.list_bank_accounts(deps, c)[0].id for c in ("c-1", "c-2"))
    first = submissions.submit(
        deps, "c-2", bank_account_id=c2, items=[ItemIn("cultureland", GOOD, 10_000, "cash")]
    )
    sub = submissions.submit(
        deps,
        "c-1",
        bank_account_id=c1,
        items=[
            ItemIn("cultureland", GOOD, 10_000, "cash"),  # c-2 sold it first
            ItemIn("cultureland", OTHER, 30_000, "cash"),
            ItemIn("cultureland", THIRD, 40_000, "cash"),  # over 50,000 in all: held
            ItemIn("cultureland", "12", 10_000, "cash"),
            ItemIn("cultureland", "4161-0000-0000-0001", 10_000, "carrier_billing"),
            ItemIn("munhwa", "2345-6789-0123-456789", 10_000, "cash"),  # issuer switched off
        ],
        device_key="dev-1",
    )
    for view in (first, sub):
        seen.append(view.totals)
        seen.extend(
            (
                it.brand_id,
                it.status,
                it.decline_code,
                it.hold_until is not None,
                it.warning,
                it.payout,
            )
            for it in view.items
        )
    q = quoting.make_quote(deps, "cultureland", 50_000, "credit_card")
    seen.append((q.quote.payout, q.declined and q.declined[0], [r.route for r in q.routes]))
    return seen


def test_the_fake_and_the_database_answer_alike(engine) -> None:
    fake = FakeWorld()
    real = FakeWorld()
    for w in (fake, real):
        w.customer("c-1", name="김민지")
        w.customer("c-2", name="이서준")
    fake.db.issuer_overrides["munhwa"] = {"enabled": False}
    deps = real_deps(real, engine)
    expected = scenario(fake.deps, fake)
    assert ("cultureland", "declined", "duplicate_code", False, None, 9_000) in expected
    # the policy declines a switched-off issuer like any other rule: the item keeps its
    # quoted payout, as a duplicate does (since the decline registry, no intake shortcut)
    assert ("munhwa", "declined", "issuer_disabled", False, None, 9_000) in expected
    assert scenario(deps, real) == expected
