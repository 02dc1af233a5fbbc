"""The buyer's guarantee (resale/claims.py) on SQLite and PostgreSQL, over the fake issuer
and the fake virtual accounts: a voucher spent before delivery is refunded once (its
deposit returned whole), its seller owes its cost, is held and has a case; spent after
delivery is refused with the issuer's evidence and moves nothing; unspent goes to review;
a repeat answers the same claim; outside the window, undelivered or another's order is
refused; an issuer that does not answer records nothing; the seller's next payout is
netted. The books pass ``ledger check`` after each."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta
from itertools import count

import pytest
from sqlalchemy import insert, select, update
from test_db_orders import NOW
from test_resale_delivery import balance, world

from fakes import FakeBank
from giftcash.adapters.db import ledger_check
from giftcash.adapters.db import tables as t
from giftcash.adapters.db.app_uow import AppUnitOfWork
from giftcash.domain import ledger
from giftcash.domain.claims import ClaimWindowClosed
from giftcash.domain.states import PayoutStatus as PS
from giftcash.payouts import sending
from giftcash.resale import claims, delivery
from giftcash.resale.worker import send_returns
from giftcash.service.ports import Unavailable

SELLER, BUYER = "c-00", "c-01"
SHOP = "GS25 역삼점"


def delivered(engine, stocked: int = 1, ordered: int = 1):
    """The seller's units stocked on the books (their price owed to the seller), the
    buyer's order paid and delivered at NOW; the clock a day later."""
    deps, issuer, bank = world(engine, stocked, ordered)
    ids = count(1)
    deps = replace(deps, new_bank_tran_id=lambda: f"M202600001U{next(ids):09}")
    with AppUnitOfWork(engine) as uow:
        uow.ledger.post_many(
            [
                ledger.stocking(
                    f"stock:i-{n}",
                    brand_id="kyobo_gift",
                    customer_id=SELLER,
                    cost=9_000,
                    currency="KRW",
                    ref=f"i-{n}",
                )
                for n in range(stocked)
            ]
        )
        uow.commit()
    assert delivery.deliver_paid(deps, "w1") == 1
    deps.clock.advance(86_400)  # type: ignore[attr-defined]
    return deps, issuer, bank


def code(n: int) -> str:
    return f"61070000000{n:05}"


def look(engine):
    with engine.connect() as conn:
        assert ledger_check.check(conn) == []
        units = dict(conn.execute(select(t.inventory_units.c.id, t.inventory_units.c.status)).all())
        found = conn.execute(select(t.claims.c.unit_id, t.claims.c.status)).all()
        cases = conn.execute(select(t.aml_cases.c.kind, t.aml_cases.c.subject)).all()
        blocked = conn.execute(select(t.blocks.c.subject)).scalars().all()
        kinds = conn.execute(select(t.ledger_transfers.c.kind)).scalars().all()
    return units, [tuple(c) for c in found], [tuple(c) for c in cases], blocked, sorted(kinds)


def test_spent_before_delivery_refunds_once_the_seller_owes_and_is_held(engine):
    deps, issuer, bank = delivered(engine)
    issuer.spend(code(0), NOW - timedelta(hours=1), SHOP)

    first = claims.file_claim(deps, BUYER, "o-01", "u-0", "  the shop says it was used ")
    assert first.created
    c = first.claim
    assert (c.status, c.refund, c.amount, c.seller_id) == (
        "refunded",
        "deposit_return",
        9_500,
        SELLER,
    )
    assert (c.used_where, c.reason) == (SHOP, "the shop says it was used")
    again = claims.file_claim(deps, BUYER, "o-01", "u-0", None)
    assert not again.created and again.claim == c
    for _ in range(2):
        send_returns(deps.uow, bank, deps.clock.now())

    units, found, cases, blocked, kinds = look(engine)
    assert units == {"u-0": "refunded"} and found == [("u-0", "refunded")]
    assert cases == [("resold_spent", f"customer:{SELLER}")] and blocked == [SELLER]
    assert kinds.count("claim_refund") == kinds.count("resale_clawback") == 1
    with engine.connect() as conn:
        acts = conn.execute(select(t.audit_log.c.action, t.audit_log.c.subject)).all()
    assert ("customer.block", f"customer:{SELLER}") in acts
    assert [a for a in acts if a[0] == "order.claim"] == [("order.claim", "order:o-01")]
    assert [r.outcome for r in bank.returns.values()] == ["returned"]
    assert bank.returned_twice() == 0
    with engine.connect() as conn:
        dep = conn.execute(select(t.order_deposits.c.status, t.order_deposits.c.return_reason))
        assert dep.all() == [("returned", "claim_refunded")]
    assert balance(engine, ledger.receivable_account(SELLER)) == 9_000
    assert balance(engine, ledger.buyer_account(BUYER)) == 0
    assert balance(engine, ledger.COST_OF_SALES) == 0
    assert balance(engine, ledger.RESALE_INCOME) + balance(engine, ledger.RESALE_REFUNDS) == 0


def test_spent_after_delivery_is_refused_with_the_issuers_evidence(engine):
    deps, issuer, bank = delivered(engine)
    issuer.spend(code(0), NOW + timedelta(hours=2), SHOP)
    before = look(engine)[4]

    c = claims.file_claim(deps, BUYER, "o-01", "u-0", None).claim
    assert (c.status, c.refund, c.issuer_status, c.used_where) == ("refused", None, "used", SHOP)
    assert c.used_at is not None and c.used_at.replace(tzinfo=NOW.tzinfo) == NOW + timedelta(
        hours=2
    )
    units, found, cases, blocked, kinds = look(engine)
    assert units == {"u-0": "upheld"} and found == [("u-0", "refused")]
    assert (cases, blocked, kinds) == ([], [], before)  # no money moved, nobody held
    assert send_returns(deps.uow, bank, deps.clock.now()).returned == 0


def test_spent_after_delivery_but_before_the_buyer_saw_it_is_refunded(engine):
    deps, issuer, _ = delivered(engine)
    issuer.spend(code(0), NOW + timedelta(hours=2), SHOP)  # delivered at NOW, unseen
    assert [c.code for c in delivery.delivered_codes(deps, BUYER, "o-01")] == [code(0)]
    c = claims.file_claim(deps, BUYER, "o-01", "u-0", None).claim
    assert (c.status, c.refund) == ("refunded", "deposit_return")
    with engine.connect() as conn:
        seen = conn.scalar(select(t.orders.c.codes_revealed_at).where(t.orders.c.id == "o-01"))
    assert seen is not None and seen.replace(tzinfo=NOW.tzinfo) == NOW + timedelta(days=1)
    units, found, cases, blocked, _ = look(engine)
    assert units == {"u-0": "refunded"} and found == [("u-0", "refunded")]
    assert blocked == [SELLER] and len(cases) == 1


def test_spent_after_the_buyer_saw_it_is_refused(engine):
    deps, issuer, _ = delivered(engine)
    delivery.delivered_codes(deps, BUYER, "o-01")  # seen a day after delivery
    issuer.spend(code(0), NOW + timedelta(days=1, minutes=5), SHOP)
    c = claims.file_claim(deps, BUYER, "o-01", "u-0", None).claim
    assert (c.status, c.used_where) == ("refused", SHOP)
    assert look(engine)[3] == []


def test_an_unspent_voucher_goes_to_review_and_moves_nothing(engine):
    deps, _, _ = delivered(engine)
    before = look(engine)[4]
    c = claims.file_claim(deps, BUYER, "o-01", "u-0", None).claim
    assert (c.status, c.issuer_status, c.used_at) == ("review", "active", None)
    units, _, cases, blocked, kinds = look(engine)
    assert units == {"u-0": "claimed"} and (cases, blocked, kinds) == ([], [], before)


def test_outside_the_window_undelivered_or_anothers_order_nothing_is_taken(engine):
    deps, issuer, _ = world(engine)
    with pytest.raises(claims.NotDelivered):
        claims.file_claim(deps, BUYER, "o-01", "u-0", None)  # paid, not yet delivered
    assert delivery.deliver_paid(deps, "w1") == 1
    issuer.spend(code(0), NOW - timedelta(hours=1), SHOP)
    with pytest.raises(delivery.OrderNotFound):
        claims.file_claim(deps, SELLER, "o-01", "u-0", None)
    with pytest.raises(claims.UnitNotFound):
        claims.file_claim(deps, BUYER, "o-01", "u-9", None)
    deps.clock.advance(31 * 86_400)  # type: ignore[attr-defined]
    with pytest.raises(ClaimWindowClosed) as e:
        claims.file_claim(deps, BUYER, "o-01", "u-0", None)
    assert e.value.code == "claim_window_closed"
    assert look(engine)[:2] == ({"u-0": "delivered"}, [])


def test_an_issuer_not_answering_records_nothing_and_the_claim_is_asked_again(engine, monkeypatch):
    deps, issuer, _ = delivered(engine)
    issuer.spend(code(0), NOW - timedelta(hours=1), SHOP)
    answer = issuer.inquire_balance

    def down(*a):
        raise Unavailable("timeout")

    monkeypatch.setattr(issuer, "inquire_balance", down)
    with pytest.raises(claims.IssuerUnanswered):
        claims.file_claim(deps, BUYER, "o-01", "u-0", None)
    assert look(engine)[:2] == ({"u-0": "delivered"}, [])
    monkeypatch.setattr(issuer, "inquire_balance", answer)
    assert claims.file_claim(deps, BUYER, "o-01", "u-0", None).claim.status == "refunded"


def test_the_sellers_next_payout_is_netted_and_a_larger_debt_carries(engine):
    # two units of one order: a unit's price is not the whole deposit, so a refund is owed
    # to the buyer (a payout once they have a verified account)
    deps, issuer, _ = delivered(engine, stocked=3, ordered=2)
    with engine.connect() as conn:
        sold = conn.execute(
            select(t.inventory_units.c.id, t.inventory_units.c.item_id)
            .where(t.inventory_units.c.status == "delivered")
            .order_by(t.inventory_units.c.id)
        ).all()
    (u_a, i_a), (u_b, i_b) = sold
    for item in (i_a, i_b):
        issuer.spend(code(int(item[2:])), NOW - timedelta(hours=1), SHOP)
    owed = claims.file_claim(deps, BUYER, "o-01", u_a, None).claim
    assert (owed.status, owed.refund, owed.payout_id) == ("refunded", "owed", None)
    with engine.begin() as conn:
        conn.execute(
            insert(t.bank_accounts).values(
                id="ba-buyer", customer_id=BUYER, bank_code="088", account_number_enc=b"x",
                account_key_id="k", account_number_masked="****5678", holder_name="홍길동",
                status="verified", created_at=NOW,
            )
        )  # fmt: skip
    paid_back = claims.file_claim(deps, BUYER, "o-01", u_b, None).claim
    assert paid_back.refund == "payout" and paid_back.payout_id is not None
    with engine.connect() as conn:
        row = conn.execute(
            select(t.payouts.c.customer_id, t.payouts.c.amount, t.payouts.c.status).where(
                t.payouts.c.id == paid_back.payout_id
            )
        ).one()
    assert tuple(row) == (BUYER, 9_500, "pending")
    assert balance(engine, ledger.customer_account(BUYER)) == -19_000  # both refunds owed
    assert balance(engine, ledger.receivable_account(SELLER)) == 18_000

    # the seller is due 27,000 for three items: 18,000 netted, 9,000 paid out
    assert sending.create_payouts(deps) == 1
    with engine.connect() as conn:
        (seller_payout,) = conn.execute(
            select(t.payouts.c.amount).where(t.payouts.c.customer_id == SELLER)
        ).scalars()
    assert seller_payout == 9_000
    assert balance(engine, ledger.receivable_account(SELLER)) == 0
    assert balance(engine, ledger.customer_account(SELLER)) == -9_000
    assert look(engine)[4].count("receivable_netted") == 1


def test_a_debt_larger_than_what_is_due_takes_it_all_and_the_rest_carries(engine):
    deps, issuer, _ = delivered(engine, stocked=2, ordered=2)
    for n in range(2):
        issuer.spend(code(n), NOW - timedelta(hours=1), SHOP)
    for unit in ("u-0", "u-1"):
        assert claims.file_claim(deps, BUYER, "o-01", unit, None).claim.status == "refunded"
    with engine.begin() as conn:  # one of the two already paid to the seller before
        conn.execute(update(t.items).where(t.items.c.id == "i-1").values(status="paid"))
    assert balance(engine, ledger.receivable_account(SELLER)) == 18_000
    assert sending.create_payouts(deps) == 0  # nothing left to send
    with engine.connect() as conn:
        assert conn.scalar(select(t.items.c.status).where(t.items.c.id == "i-0")) == "paid"
        assert (
            conn.execute(select(t.payouts.c.id).where(t.payouts.c.customer_id == SELLER)).all()
            == []
        )
        assert ledger_check.check(conn) == []
    assert balance(engine, ledger.receivable_account(SELLER)) == 9_000  # carries
    assert sending.create_payouts(deps) == 0
    assert balance(engine, ledger.receivable_account(SELLER)) == 9_000


def test_two_claims_at_once_record_one_and_refund_once(engine):
    deps, issuer, _ = delivered(engine)
    issuer.spend(code(0), NOW - timedelta(hours=1), SHOP)
    got: list[claims.Filed] = []
    start = threading.Barrier(2)

    def claim() -> None:
        start.wait()
        got.append(claims.file_claim(deps, BUYER, "o-01", "u-0", None))

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(got) == 2 and got[0].claim.id == got[1].claim.id
    assert sorted(f.created for f in got) == [False, True]
    _, found, cases, blocked, kinds = look(engine)
    assert found == [("u-0", "refunded")] and kinds.count("claim_refund") == 1
    assert len(cases) == 1 and blocked == [SELLER]


def test_a_refund_by_payout_reaches_the_buyers_own_account_and_the_books_close(engine):
    deps, issuer, _ = delivered(engine, stocked=2, ordered=2)
    bank = FakeBank()
    deps = replace(deps, bank=bank)
    accounts = {
        "ba-1": ("004", "11100000001", "홍길동"),
        "ba-buyer": ("088", "22200000002", "홍길동"),
    }
    with engine.begin() as conn:
        conn.execute(
            insert(t.bank_accounts).values(
                id="ba-buyer", customer_id=BUYER, bank_code="088", account_number_enc=b"x",
                account_key_id="k", account_number_masked="****0002", holder_name="홍길동",
                status="verified", created_at=NOW,
            )
        )  # fmt: skip
        for account_id, (bank_code, number, holder) in accounts.items():
            enc, key = deps.vault.encrypt(number, account_id)
            conn.execute(
                update(t.bank_accounts)
                .where(t.bank_accounts.c.id == account_id)
                .values(account_number_enc=enc, account_key_id=key)
            )
            bank.open(bank_code, number, holder)
    issuer.spend(code(0), NOW - timedelta(hours=1), SHOP)
    refund = claims.file_claim(deps, BUYER, "o-01", "u-0", None).claim
    assert refund.refund == "payout"
    assert sending.create_payouts(deps) == 1  # the seller's: 18,000 due, 9,000 netted

    sends = sending.claim_payouts(deps, "w1", (PS.PENDING,), 10)
    sending.record_sends(deps, "w1", [sending.send_payout(deps, c) for c in sends])
    checks = sending.claim_payouts(deps, "w1", (PS.SENT,), 10)
    sending.record_checks(deps, "w1", [sending.check_payout(deps, c) for c in checks])

    paid = sorted((x["account"], x["amount"]) for x in bank.transfers.values())
    assert paid == [(("004", "11100000001"), 9_000), (("088", "22200000002"), 9_500)]
    with engine.connect() as conn:
        assert (
            conn.scalar(select(t.payouts.c.status).where(t.payouts.c.id == refund.payout_id))
            == "confirmed"
        )
        assert ledger_check.check(conn) == []
    assert balance(engine, ledger.customer_account(BUYER)) == 0
    assert balance(engine, ledger.customer_account(SELLER)) == 0
    assert balance(engine, ledger.receivable_account(SELLER)) == 0


def _verified_account(engine, deps, bank: FakeBank, account_id: str, number: str) -> None:
    """A verified account of the buyer's own, known to the bank under their name."""
    enc, key = deps.vault.encrypt(number, account_id)
    with engine.begin() as conn:
        conn.execute(
            insert(t.bank_accounts).values(
                id=account_id, customer_id=BUYER, bank_code="088", account_number_enc=enc,
                account_key_id=key, account_number_masked="****" + number[-4:],
                holder_name="홍길동", status="verified", created_at=NOW, verified_at=NOW,
            )
        )  # fmt: skip
    bank.open("088", number, "홍길동")


def _send_and_check(deps) -> None:
    sends = sending.claim_payouts(deps, "w1", (PS.PENDING,), 10)
    sending.record_sends(deps, "w1", [sending.send_payout(deps, c) for c in sends])
    checks = sending.claim_payouts(deps, "w1", (PS.SENT,), 10)
    sending.record_checks(deps, "w1", [sending.check_payout(deps, c) for c in checks])


def _refund_payouts(engine) -> list[tuple[str, int, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.payouts.c.bank_account_id, t.payouts.c.amount, t.payouts.c.status)
            .where(t.payouts.c.customer_id == BUYER)
            .order_by(t.payouts.c.created_at, t.payouts.c.id)
        ).all()
    return [tuple(r) for r in rows]


def test_an_owed_refund_is_paid_once_the_buyer_has_an_account_and_again_after_a_bounce(engine):
    deps, issuer, _ = delivered(engine, stocked=2, ordered=2)
    bank = FakeBank()
    deps = replace(deps, bank=bank)
    issuer.spend(code(0), NOW - timedelta(hours=1), SHOP)
    owed = claims.file_claim(deps, BUYER, "o-01", "u-0", None).claim
    assert (owed.refund, owed.payout_id) == ("owed", None)

    # no verified account yet: nothing is made, the claim stays owed
    assert claims.repay_refunds(deps) == claims.RepayPass(paid=0, owed=0)
    assert _refund_payouts(engine) == []

    _verified_account(engine, deps, bank, "ba-first", "22200000001")
    assert claims.repay_refunds(deps) == claims.RepayPass(paid=1, owed=0)
    assert claims.repay_refunds(deps) == claims.RepayPass(paid=0, owed=0)  # once
    with engine.connect() as conn:
        first = conn.execute(
            select(t.claims.c.refund, t.claims.c.payout_id).where(t.claims.c.id == owed.id)
        ).one()
    assert first.refund == "payout" and first.payout_id is not None
    assert _refund_payouts(engine) == [("ba-first", 9_500, "pending")]

    # the receiving bank bounces it: the money is back on the buyer's liability, their
    # account failed; with no other verified account the claim says owed again
    bank.settle_later = True
    _send_and_check(deps)
    (tran_id,) = [k for k, x in bank.transfers.items() if x["account"][1] == "22200000001"]
    bank.return_transfer(tran_id)
    deps.clock.advance(3_600)  # past the check's backoff
    _send_and_check(deps)
    assert _refund_payouts(engine) == [("ba-first", 9_500, "returned")]
    assert claims.repay_refunds(deps) == claims.RepayPass(paid=0, owed=1)
    with engine.connect() as conn:
        again = conn.execute(
            select(t.claims.c.refund, t.claims.c.payout_id).where(t.claims.c.id == owed.id)
        ).one()
    assert tuple(again) == ("owed", None)
    assert claims.repay_refunds(deps) == claims.RepayPass(paid=0, owed=0)

    # a new verified account: paid there, and this time it arrives
    bank.settle_later = False
    _verified_account(engine, deps, bank, "ba-second", "22200000002")
    assert claims.repay_refunds(deps) == claims.RepayPass(paid=1, owed=0)
    _send_and_check(deps)
    assert _refund_payouts(engine) == [
        ("ba-first", 9_500, "returned"),
        ("ba-second", 9_500, "confirmed"),
    ]
    arrived = [
        (x["account"], x["amount"]) for x in bank.transfers.values() if x["status"] == "done"
    ]
    assert arrived == [(("088", "22200000002"), 9_500)]  # the buyer got it once
    assert balance(engine, ledger.customer_account(BUYER)) == 0
    with engine.connect() as conn:
        assert ledger_check.check(conn) == []
    assert claims.repay_refunds(deps) == claims.RepayPass(paid=0, owed=0)


def test_a_worker_with_a_stale_list_makes_no_second_payout(engine, monkeypatch):
    # two workers read the same owed claim; the one that writes second finds it changed
    deps, issuer, _ = delivered(engine, stocked=2, ordered=2)
    bank = FakeBank()
    deps = replace(deps, bank=bank)
    issuer.spend(code(0), NOW - timedelta(hours=1), SHOP)
    assert claims.file_claim(deps, BUYER, "o-01", "u-0", None).claim.refund == "owed"
    _verified_account(engine, deps, bank, "ba-first", "22200000001")
    with AppUnitOfWork(engine) as uow:
        stale = uow.claims.to_repay(10)
    assert [c.refund for c in stale] == ["owed"]
    assert claims.repay_refunds(deps) == claims.RepayPass(paid=1, owed=0)

    from giftcash.adapters.db.repositories_claims import Claims

    monkeypatch.setattr(Claims, "to_repay", lambda self, limit: stale)
    assert claims.repay_refunds(deps) == claims.RepayPass(paid=0, owed=0)
    assert _refund_payouts(engine) == [("ba-first", 9_500, "pending")]


def test_the_purge_erases_payer_names_and_claim_words_after_five_years(engine):
    from giftcash.privacy import purge

    deps, issuer, _ = delivered(engine)
    issuer.spend(code(0), NOW - timedelta(hours=1), SHOP)
    words = "the shop said it was used"
    assert claims.file_claim(deps, BUYER, "o-01", "u-0", words).claim.reason == words

    def kept():
        with engine.connect() as conn:
            payers = conn.execute(select(t.order_deposits.c.payer_name)).scalars().all()
            said = conn.execute(select(t.claims.c.reason)).scalars().all()
        return payers, said

    payers, said = kept()
    assert payers and all(payers) and said == [words]
    deps.clock.advance(4 * 365 * 86_400)  # within the five years: kept
    assert purge.purge(deps).erased.deposit_payers_erased == 0
    assert kept() == (payers, said)

    deps.clock.advance(400 * 86_400)  # past them
    done = purge.purge(deps).erased
    assert (done.deposit_payers_erased, done.claim_words_erased) == (len(payers), 1)
    assert kept() == ([None] * len(payers), [None])
    again = purge.purge(deps).erased
    assert (again.deposit_payers_erased, again.claim_words_erased) == (0, 0)
    with engine.connect() as conn:
        assert ledger_check.check(conn) == []
        assert conn.execute(select(t.claims.c.status)).scalars().all() == ["refunded"]
