"""Payment stops (지급정지), on SQLite and PostgreSQL: a stop by account, by customer or
by code holds what it names from its commit on (nothing redeemed at the issuer, nothing
deposited at the bank, as the fake issuer's and bank's own records show); a release pays
once under the payout's own ``bank_tran_id``; a settlement ends them with the transfer
that records it, and the books still check; a stop that comes after the money went out
says so; the tracing export lists the chain."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from apiworld import World, add_account, item, signup
from giftcash.adapters.db import ledger_check
from giftcash.adapters.db import tables as t
from giftcash.adapters.db.ledger_export import export_beancount
from giftcash.adapters.db.uow import SqlUnitOfWork
from giftcash.domain import ledger
from giftcash.domain.states import PayoutStatus as PS
from giftcash.entrypoints.worker import Worker
from giftcash.identity.operators import Operator
from giftcash.payouts import sending
from giftcash.redemption import steps as redemption
from giftcash.stops import filing, holds, tracing

FINANCE = Operator("op-finance", "finance1", "finance")
BANK_KEY = Operator("op-bank", "kb-fraud-desk", "stop_requester")
ACCOUNT = "11100000000001"


def _sell(w: World, auth: dict, account: str, *codes: str, face: int = 10_000) -> str:
    for code in codes:
        w.issuer.sell("cultureland", code, face, purchased_at=datetime.now(UTC) - timedelta(days=3))
    r = w.client.post(
        "/v1/submissions",
        headers=auth,
        json={"bank_account_id": account, "items": [item(c, face) for c in codes]},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _drain(w: World) -> None:
    worker = Worker(w.deps, cases_every_s=None)
    try:
        for _ in range(8):  # admitted, redeemed, paid out, confirmed; then idle passes
            worker.run_once()
    finally:
        worker.close()


def _request(scope: str, **subject: str) -> filing.StopRequest:
    return filing.StopRequest(
        scope=scope,
        requester="bank",
        requester_name="KB국민은행 사기대응팀",
        requester_contact="1588-9999",
        reference="KB-2026-0001",
        reason="보이스피싱 피해금 입금 계좌",
        **subject,
    )


def _redeemed_keys(w: World) -> set[str]:
    return set(w.issuer.redemptions)


def _items(w: World) -> dict[str, str]:
    with w.engine.connect() as conn:
        return dict(conn.execute(select(t.items.c.masked_code, t.items.c.status)).all())


def _payouts(w: World) -> list:
    with w.engine.connect() as conn:
        return list(conn.execute(select(t.payouts).order_by(t.payouts.c.id)))


def _books_check(w: World) -> None:
    with w.engine.connect() as conn:
        assert ledger_check.check(conn) == []


def _balance(w: World, account: str) -> int:
    with w.engine.connect() as conn:
        value = conn.scalar(
            select(t.ledger_accounts.c.balance).where(t.ledger_accounts.c.path == account)
        )
    return int(value or 0)


def _owed(w: World) -> int:
    """What the customer's redeemed, unpaid items are owed (their payouts)."""
    with w.engine.connect() as conn:
        q = select(t.items.c.payout).where(t.items.c.status.in_(("redeemed", "paying")))
        return sum(conn.scalars(q))


def _owed_total(w: World) -> int:
    with w.engine.connect() as conn:
        return sum(conn.scalars(select(t.items.c.payout).where(t.items.c.status == "paid")))


def _customer_id(w: World) -> str:
    with w.engine.connect() as conn:
        return str(conn.scalar(select(t.customers.c.id)))


def test_a_stop_by_account_holds_the_payout_until_released_then_pays_once(world: World):
    w = world
    auth = signup(w, "010-7100-0001")
    account = add_account(w, auth, ACCOUNT)
    _sell(w, auth, account, "4180710000000001")
    worker = Worker(w.deps, cases_every_s=None)
    worker.run_once()  # admitted
    worker.run_once()  # redeemed
    worker.close()
    stop = filing.file_stop(
        w.deps, BANK_KEY, _request("account", bank_code="004", account_number=ACCOUNT)
    )
    assert stop.found == {"held": 1}
    _drain(w)
    assert w.bank.paid_to("004", ACCOUNT) == 0  # the bank's own record: nothing paid
    (held,) = holds.held_sales(w.deps, _customer_id(w)).values()
    assert held.requester_name == "KB국민은행 사기대응팀" and held.stop_id == stop.stop.id
    # the customer's API says so too, with whom to call
    (sale,) = w.client.get("/v1/submissions", headers=auth).json()["data"]
    (it,) = w.client.get(f"/v1/submissions/{sale['id']}", headers=auth).json()["items"]
    assert it["payment_stop"]["requester"] == "bank"
    assert it["payment_stop"]["requester_contact"] == "1588-9999"
    assert _payouts(w) == []  # no payout made for a stopped account
    customer = ledger.customer_account(_customer_id(w))
    assert _balance(w, customer) == -_owed(w)  # held money stays a liability

    filing.release_stop(w.deps, FINANCE, stop.stop.id, "피해 사실 없음 확인")
    _drain(w)
    _drain(w)
    payouts = _payouts(w)
    assert len(payouts) == 1 and payouts[0].status == "confirmed"
    assert len(w.bank.transfers) == 2  # the 1-won check and the one payout
    assert w.bank.paid_to("004", ACCOUNT) == payouts[0].amount
    assert _balance(w, customer) == 0
    assert holds.held_sales(w.deps, _customer_id(w)) == {}
    (it,) = w.client.get(f"/v1/submissions/{sale['id']}", headers=auth).json()["items"]
    assert it["payment_stop"] is None and it["status"] == "paid"
    _books_check(w)


def test_a_stop_by_customer_freezes_a_pending_payout_and_a_release_sends_it_once(world: World):
    w = world
    auth = signup(w, "010-7100-0002")
    account = add_account(w, auth, "11100000000002")
    _sell(w, auth, account, "4180710000000002", "4180710000000003")
    d = w.deps
    redemption.record_admissions(
        d, "w1", [redemption.inquire(d, c) for c in redemption.claim_admissions(d, "w1", 10)]
    )
    redemption.record_redemptions(
        d, "w1", [redemption.redeem(d, c) for c in redemption.claim_redemptions(d, "w1", 10)]
    )
    assert sending.create_payouts(d) == 1
    (before,) = _payouts(w)
    assert before.status == "pending"

    stop = filing.file_stop(d, FINANCE, _request("customer", customer_id=_customer_id(w)))
    assert stop.found == {"held": 2}
    (held,) = _payouts(w)
    assert held.status == "held"  # visible: frozen, not sent
    assert sending.claim_payouts(d, "w1", (PS.PENDING, PS.SENDING, PS.UNKNOWN), 10) == []
    _drain(w)
    assert w.bank.paid_to("004", "11100000000002") == 0

    filing.release_stop(d, FINANCE, stop.stop.id, "경찰 수사 결과 무혐의")
    _drain(w)
    (after,) = _payouts(w)
    assert after.status == "confirmed" and after.bank_tran_id == before.bank_tran_id
    assert w.bank.paid_to("004", "11100000000002") == before.amount
    assert sum(1 for x in w.bank.transfers.values() if x["amount"] > 1) == 1
    _books_check(w)


def test_a_stop_by_code_holds_that_voucher_only_and_settling_declines_it(world: World):
    w = world
    auth = signup(w, "010-7100-0003")
    account = add_account(w, auth, "11100000000003")
    stolen, clean = "4180710000000004", "4180710000000005"
    stop = filing.file_stop(w.deps, FINANCE, _request("code", code=stolen))
    assert stop.found == {}  # not sold here yet: matches nothing now
    _sell(w, auth, account, stolen, clean)
    _drain(w)
    # the stolen voucher was never asked about at the issuer, let alone redeemed
    assert not any(c.endswith(code) for code in [stolen] for c in w.issuer.calls)
    assert w.issuer.vouchers[stolen].spent_by is None
    assert w.issuer.vouchers[clean].spent_by is not None
    statuses = _items(w)
    assert statuses["************0004"] == "received"
    assert statuses["************0005"] == "paid"
    detail = filing.get_stop(w.deps, FINANCE, stop.stop.id)
    assert detail.found == {"held": 1}  # the worker's pass recorded the sale after it

    filing.settle_stop(w.deps, FINANCE, stop.stop.id, "피해자에게 상품권 반환")
    _drain(w)
    assert _items(w)["************0004"] == "declined"
    assert w.issuer.vouchers[stolen].spent_by is None
    _books_check(w)


def test_settling_withholds_redeemed_items_and_moves_the_liability(world: World, tmp_path):
    w = world
    auth = signup(w, "010-7100-0004")
    account = add_account(w, auth, "11100000000004")
    _sell(w, auth, account, "4180710000000006")
    d = w.deps
    redemption.record_admissions(
        d, "w1", [redemption.inquire(d, c) for c in redemption.claim_admissions(d, "w1", 10)]
    )
    redemption.record_redemptions(
        d, "w1", [redemption.redeem(d, c) for c in redemption.claim_redemptions(d, "w1", 10)]
    )
    sending.create_payouts(d)
    stop = filing.file_stop(d, FINANCE, _request("customer", customer_id=_customer_id(w)))
    customer = ledger.customer_account(_customer_id(w))
    owed = -_balance(w, customer)
    assert owed > 0

    with pytest.raises(filing.StopNotFound):
        filing.settle_stop(d, FINANCE, "no-such-stop", "피해금 반환 완료")
    filing.settle_stop(d, FINANCE, stop.stop.id, "피해금 반환 완료")
    _drain(w)
    assert _items(w)["************0006"] == "withheld"
    (payout,) = _payouts(w)
    assert payout.status == "cancelled"
    assert w.bank.paid_to("004", "11100000000004") == 0
    assert _balance(w, customer) == 0
    assert _balance(w, ledger.payment_stop_account(stop.stop.id)) == -owed
    _books_check(w)
    # beancount's own bean-check accepts the books with the stop's liability in them
    path = tmp_path / "books.beancount"
    with SqlUnitOfWork(w.engine, read_only=True) as uow, open(path, "w", encoding="utf-8") as f:
        export_beancount(uow.conn, f)
    checked = subprocess.run(
        [str(Path(sys.executable).parent / "bean-check"), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Liabilities:Payment-stop:" in path.read_text(encoding="utf-8")
    with pytest.raises(filing.rules.StopNotActive):
        filing.release_stop(d, FINANCE, stop.stop.id, "too late")


def test_a_stop_after_the_payout_was_sent_records_that_and_links_it(world: World):
    w = world
    auth = signup(w, "010-7100-0005")
    account = add_account(w, auth, "11100000000005")
    _sell(w, auth, account, "4180710000000007")
    _drain(w)
    (payout,) = _payouts(w)
    assert payout.status == "confirmed"
    stop = filing.file_stop(
        w.deps, BANK_KEY, _request("account", bank_code="004", account_number="111-0000-0000005")
    )
    assert stop.found == {"paid_before": 1}
    assert stop.paid_before == [payout.id]


def test_an_unknown_account_matches_nothing_now_and_holds_a_later_payout_to_it(world: World):
    w = world
    number = "11100000000006"
    stop = filing.file_stop(
        w.deps, BANK_KEY, _request("account", bank_code="004", account_number=number)
    )
    assert stop.found == {} and stop.stop.subject_masked.endswith("0006")
    auth = signup(w, "010-7100-0006")
    account = add_account(w, auth, number)
    _sell(w, auth, account, "4180710000000008")
    _drain(w)
    assert w.bank.paid_to("004", number) == 0
    assert _items(w)["************0008"] == "received"  # held before the issuer is asked
    assert w.issuer.vouchers["4180710000000008"].spent_by is None
    assert filing.get_stop(w.deps, BANK_KEY, stop.stop.id).found == {"held": 1}
    filing.release_stop(w.deps, FINANCE, stop.stop.id, "계좌 명의인 확인")
    _drain(w)
    assert w.bank.paid_to("004", number) == _owed_total(w)
    _books_check(w)


def test_a_stop_racing_a_redemption_records_it_in_flight_and_holds_its_money(world: World):
    w = world
    auth = signup(w, "010-7100-0007")
    account = add_account(w, auth, "11100000000007")
    _sell(w, auth, account, "4180710000000009")
    d = w.deps
    redemption.record_admissions(
        d, "w1", [redemption.inquire(d, c) for c in redemption.claim_admissions(d, "w1", 10)]
    )
    claims = redemption.claim_redemptions(d, "w1", 10)  # the intent committed first
    stop = filing.file_stop(d, FINANCE, _request("customer", customer_id=_customer_id(w)))
    assert stop.found == {"in_flight": 1}
    redemption.record_redemptions(d, "w1", [redemption.redeem(d, c) for c in claims])
    _drain(w)
    assert w.bank.paid_to("004", "11100000000007") == 0  # captured, held, not paid
    assert _items(w)["************0009"] == "redeemed"
    filing.release_stop(d, FINANCE, stop.stop.id, "확인 완료")
    _drain(w)
    assert _items(w)["************0009"] == "paid"
    assert sum(1 for x in w.bank.transfers.values() if x["amount"] > 1) == 1


def test_the_tracing_export_follows_the_chain_with_codes_and_accounts_masked(world: World):
    w = world
    auth = signup(w, "010-7100-0008", name="김철수")
    account = add_account(w, auth, "11100000000008", name="김철수")
    code = "4180710000000010"
    _sell(w, auth, account, code)
    _drain(w)
    stop = filing.file_stop(w.deps, BANK_KEY, _request("code", code=code))
    report = tracing.export(w.deps, BANK_KEY, stop.stop.id, fmt="csv")
    rows = list(csv.DictReader(io.StringIO(report.content)))
    assert len(rows) == 1 and report.count == 1
    row = rows[0]
    assert row["masked_code"] == "************0010" and code not in report.content
    assert row["account_masked"].endswith("0008") and "11100000000008" not in report.content
    assert row["customer_name"] == "김*" and "김철수" not in report.content
    assert row["finding"] == "paid_before" and row["payout_status"] == "confirmed"
    assert int(row["face_value"]) == 10_000 and row["bank_tran_id"]
    doc = json.loads(tracing.export(w.deps, BANK_KEY, stop.stop.id, fmt="json").content)
    assert (
        doc["stop"]["reference"] == "KB-2026-0001" and doc["chain"][0]["item_id"] == row["item_id"]
    )
    # another partner's key does not see this stop
    other = Operator("op-other", "other-bank", "stop_requester")
    with pytest.raises(filing.StopNotFound):
        tracing.export(w.deps, other, stop.stop.id, fmt="csv")


def _payout_in_doubt(w: World, code: str, number: str) -> str:
    """A payout claimed to send whose worker died before the bank was called: ``sending``,
    its lease run out; the bank has never heard of it."""
    auth = signup(w, "010-7100-00" + number[-2:])
    account = add_account(w, auth, number)
    _sell(w, auth, account, code)
    d = w.deps
    redemption.record_admissions(
        d, "w1", [redemption.inquire(d, c) for c in redemption.claim_admissions(d, "w1", 10)]
    )
    redemption.record_redemptions(
        d, "w1", [redemption.redeem(d, c) for c in redemption.claim_redemptions(d, "w1", 10)]
    )
    assert sending.create_payouts(d) == 1
    (claim,) = sending.claim_payouts(d, "dead-worker", (PS.PENDING,), 10)
    with w.engine.begin() as conn:  # the dead worker's lease runs out
        conn.execute(
            t.payouts.update().values(lease_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    return claim.payout_id


def test_a_payout_the_bank_may_have_is_asked_about_never_sent_and_then_settled(world: World):
    w = world
    payout_id = _payout_in_doubt(w, "4180710000000011", "11100000000011")
    stop = filing.file_stop(w.deps, FINANCE, _request("customer", customer_id=_customer_id(w)))
    assert stop.found == {"in_doubt": 1}
    with pytest.raises(filing.StopMustWait):  # the bank's answer first
        filing.settle_stop(w.deps, FINANCE, stop.stop.id, "피해금 반환")
    _drain(w)  # the worker asks the bank (never heard of it) and freezes it: nothing sent
    assert w.bank.transfers == {} or all(x["amount"] == 1 for x in w.bank.transfers.values())
    (held,) = _payouts(w)
    assert held.id == payout_id and held.status == "held"
    filing.settle_stop(w.deps, FINANCE, stop.stop.id, "피해금 반환")
    (cancelled,) = _payouts(w)
    assert cancelled.status == "cancelled"
    assert _items(w)["************0011"] == "withheld"
    _books_check(w)


def test_a_payout_the_bank_did_get_before_the_stop_is_recorded_sent(world: World):
    w = world
    payout_id = _payout_in_doubt(w, "4180710000000012", "11100000000012")
    (row,) = _payouts(w)
    # the dead worker's call did reach the bank before it died
    w.bank.deposit(row.bank_tran_id, "004", "11100000000012", "홍길동", row.amount, memo="gc")
    stop = filing.file_stop(w.deps, FINANCE, _request("customer", customer_id=_customer_id(w)))
    assert stop.found == {"in_doubt": 1}
    _drain(w)
    (sent,) = _payouts(w)
    assert sent.id == payout_id and sent.status == "confirmed"
    assert sum(1 for x in w.bank.transfers.values() if x["amount"] > 1) == 1  # not sent again
    _books_check(w)


def _redeeming_after_a_call(w: World, code: str, number: str, *, captured: bool) -> str:
    """An item whose issuer call went out and whose answer never came back: the issuer
    either captured it (``captured``) or never got the call."""
    from dataclasses import replace

    d = w.deps
    d.limits = replace(d.limits, backoff_base_s=0.0, backoff_cap_s=0.0)
    auth = signup(w, "010-7100-01" + number[-2:])
    account = add_account(w, auth, number)
    _sell(w, auth, account, code)
    redemption.record_admissions(
        d, "w1", [redemption.inquire(d, c) for c in redemption.claim_admissions(d, "w1", 10)]
    )
    if captured:
        w.issuer.lose_next = 1
    else:
        w.issuer.fail_next = 1
    claims = redemption.claim_redemptions(d, "w1", 10)
    redemption.record_redemptions(d, "w1", [redemption.redeem(d, c) for c in claims])
    (status,) = _items(w).values()
    assert status == "redeeming"
    return claims[0].item_id


@pytest.mark.parametrize("captured", [True, False], ids=["captured", "never-got-it"])
def test_an_item_at_the_issuer_in_doubt_is_asked_about_never_captured_anew(
    world: World, captured: bool
):
    w = world
    _redeeming_after_a_call(w, "4180710000000013", "11100000000013", captured=captured)
    stop = filing.file_stop(w.deps, FINANCE, _request("customer", customer_id=_customer_id(w)))
    assert stop.found == {"held": 1}
    calls_before = len(w.issuer.calls)
    _drain(w)
    asked = w.issuer.calls[calls_before:]
    assert asked and all(c.startswith("inquire:") for c in asked)  # no capture sent
    (status,) = _items(w).values()
    assert status == ("redeemed" if captured else "redeeming")  # a capture is on the books
    assert w.bank.paid_to("004", "11100000000013") == 0

    filing.release_stop(w.deps, FINANCE, stop.stop.id, "확인 완료")
    _drain(w)
    (status,) = _items(w).values()
    assert status == "paid"
    assert len(w.issuer.redemptions) == 1 and w.issuer.codes_redeemed_twice() == 0
    assert sum(1 for x in w.bank.transfers.values() if x["amount"] > 1) == 1
    _books_check(w)
