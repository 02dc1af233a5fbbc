"""Payout creation, without a database: one payout per customer, account and currency
carries every redeemed item that is due; held items and items whose account is not
verified wait. Which rows are due is the repository's query (here its in-memory twin);
what is made of them, the service's."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from fakes_uow import FakeLedger, FakeWorld
from giftcash.domain import ledger
from giftcash.payouts.sending import NettingRaced, create_payouts


@pytest.fixture
def world() -> FakeWorld:
    w = FakeWorld()
    w.customer("c-1")
    w.bank_account("c-1", "a-1")
    w.submission("c-1", "a-1", "s-1")
    return w


def payouts(world: FakeWorld) -> list[tuple[str, str, int, str]]:
    return [
        (p["customer_id"], p["bank_account_id"], p["amount"], p["status"])
        for p in world.db.payouts.values()
    ]


def test_a_customers_redeemed_items_go_out_in_one_payout(world: FakeWorld) -> None:
    world.item("i-1", "redeemed", payout=9_000)
    world.item("i-2", "redeemed", payout=45_000)
    assert create_payouts(world.deps) == 1
    assert payouts(world) == [("c-1", "a-1", 54_000, "pending")]
    (payout,) = world.db.payouts.values()
    assert re.fullmatch(r"M202600001U[0-9A-Z]{9}", payout["bank_tran_id"])
    for item_id in ("i-1", "i-2"):
        assert world.db.items[item_id]["status"] == "paying"
        assert world.db.items[item_id]["payout_id"] == payout["id"]
    assert world.db.commits == 1


def test_each_customer_and_account_gets_its_own_payout(world: FakeWorld) -> None:
    world.bank_account("c-1", "a-2")
    world.submission("c-1", "a-2", "s-2")
    world.customer("c-2", name="이서준")
    world.bank_account("c-2", "a-3")
    world.submission("c-2", "a-3", "s-3")
    world.item("i-1", "redeemed", submission_id="s-1", payout=1_000)
    world.item("i-2", "redeemed", submission_id="s-2", payout=2_000)
    world.item("i-3", "redeemed", submission_id="s-3", payout=3_000)
    assert create_payouts(world.deps) == 3
    assert sorted(payouts(world)) == [
        ("c-1", "a-1", 1_000, "pending"),
        ("c-1", "a-2", 2_000, "pending"),
        ("c-2", "a-3", 3_000, "pending"),
    ]


def test_a_held_item_waits_until_its_hold_ends(world: FakeWorld) -> None:
    world.item("i-1", "redeemed", hold_until=world.clock.now() + timedelta(hours=24))
    assert create_payouts(world.deps) == 0
    assert world.db.items["i-1"]["status"] == "redeemed"
    world.clock.advance(24 * 3600)
    assert create_payouts(world.deps) == 1
    assert world.db.items["i-1"]["status"] == "paying"


@pytest.mark.parametrize("account_status", ["verifying", "failed"])
def test_nothing_is_paid_to_an_account_that_is_not_verified(
    world: FakeWorld, account_status: str
) -> None:
    world.db.bank_accounts["a-1"]["status"] = account_status
    world.item("i-1", "redeemed")
    assert create_payouts(world.deps) == 0
    assert not world.db.payouts


def test_items_not_yet_redeemed_or_already_paying_are_not_paid_again(world: FakeWorld) -> None:
    for n, status in enumerate(["received", "redeeming", "review", "paying", "paid", "declined"]):
        world.item(f"i-{n}", status)
    assert create_payouts(world.deps) == 0
    assert not world.db.payouts


def test_a_second_run_finds_nothing_left_to_pay(world: FakeWorld) -> None:
    world.item("i-1", "redeemed")
    assert create_payouts(world.deps) == 1
    assert create_payouts(world.deps) == 0
    assert len(world.db.payouts) == 1


# -- resale: stocked items are paid like redeemed ones -------------------------------------


def stocked(world: FakeWorld, item_id: str, **kw: object) -> None:
    """A resold voucher's item, stocked, with its unit of inventory (as admission left it)."""
    from giftcash.service.ports.records import InventoryUnit

    world.item(item_id, "stocked", **kw)  # type: ignore[arg-type]
    row = world.db.items[item_id]
    world.db.inventory[item_id] = InventoryUnit(
        id="u-" + item_id,
        item_id=item_id,
        brand_id="kyobo_gift",
        currency="KRW",
        face_value=row["face_value"],
        cost=row["payout"],
        expires_at=None,
        status="stocked",
        created_at=world.clock.now(),
    )


def test_stocked_and_redeemed_items_of_a_customer_go_out_in_one_payout(world: FakeWorld) -> None:
    world.item("i-1", "redeemed", payout=9_000)
    stocked(world, "i-2", payout=27_000)
    assert create_payouts(world.deps) == 1
    assert payouts(world) == [("c-1", "a-1", 36_000, "pending")]
    assert {world.db.items[i]["status"] for i in ("i-1", "i-2")} == {"paying"}
    assert world.db.inventory["i-2"].status == "stocked"  # the unit is not paid out


def test_a_stocked_item_waits_for_its_hold(world: FakeWorld) -> None:
    stocked(world, "i-1", hold_until=world.clock.now() + timedelta(days=3))
    assert create_payouts(world.deps) == 0
    assert world.db.items["i-1"]["status"] == "stocked"


def test_a_payout_given_back_returns_each_item_to_where_it_came_from(world: FakeWorld) -> None:
    from giftcash.domain.states import ItemStatus as IS
    from giftcash.payouts.sending import back_from_paying

    world.item("i-1", "redeemed")
    stocked(world, "i-2")
    create_payouts(world.deps)
    with world.deps.uow() as uow:
        back = back_from_paying(uow, ["i-1", "i-2"])
    assert [(e.id, e.source, e.target) for e in back] == [
        ("i-1", IS.PAYING, IS.REDEEMED),
        ("i-2", IS.PAYING, IS.STOCKED),
    ]


def _owes(world: FakeWorld, won: int) -> None:
    """c-1 is owed their items' payouts and owes us ``won`` (a refunded resale claim)."""
    book = [
        ledger.redemption(
            f"r-{i}", issuer="cultureland", customer_id="c-1", face=10_000, payout=9_000,
            currency="KRW", ref=i,
        )
        for i in ("i-1", "i-2")
    ]  # fmt: skip
    book.append(
        ledger.resale_clawback("claw", customer_id="c-1", cost=won, currency="KRW", ref="cl-1")
    )
    for t in book:
        world.db.transfers[t.id] = t


def test_a_debt_is_netted_first_and_the_payout_is_the_rest(world: FakeWorld) -> None:
    world.item("i-1", "redeemed", payout=9_000)
    world.item("i-2", "redeemed", payout=9_000)
    _owes(world, 5_000)
    assert create_payouts(world.deps) == 1
    assert payouts(world) == [("c-1", "a-1", 13_000, "pending")]
    (net,) = [t for t in world.db.transfers.values() if t.kind == "receivable_netted"]
    assert net.ref == next(iter(world.db.payouts))
    owed = ledger.balances_from(world.db.transfers.values())
    assert owed[(ledger.receivable_account("c-1"), "KRW")] == 0
    assert owed[(ledger.customer_account("c-1"), "KRW")] == -13_000  # what the payout sends


def test_a_debt_over_what_is_due_takes_it_all_and_the_rest_carries(world: FakeWorld) -> None:
    world.item("i-1", "redeemed", payout=9_000)
    world.item("i-2", "redeemed", payout=9_000)
    _owes(world, 20_000)
    assert create_payouts(world.deps) == 0 and not world.db.payouts
    assert {world.db.items[i]["status"] for i in ("i-1", "i-2")} == {"paid"}
    owed = ledger.balances_from(world.db.transfers.values())
    assert owed[(ledger.receivable_account("c-1"), "KRW")] == 2_000
    assert owed[(ledger.customer_account("c-1"), "KRW")] == 0
    assert create_payouts(world.deps) == 0  # nothing due: the 2,000 waits for the next sale


def test_a_debt_netted_by_another_worker_meanwhile_rolls_the_pass_back(
    world: FakeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.item("i-1", "redeemed", payout=9_000)
    world.item("i-2", "redeemed", payout=9_000)
    _owes(world, 5_000)
    real = FakeLedger.balance
    reads: list[int] = []
    other = ledger.receivable_netted("other", customer_id="c-1", amount=5_000, currency="KRW",
                                     ref="p-0")  # fmt: skip

    def netted_meanwhile(self: FakeLedger, account: str, currency: str) -> int:
        if not reads:  # our read: the debt still whole
            reads.append(1)
            return real(self, account, currency)
        self.db.transfers.setdefault(other.id, other)  # the other worker's, committed
        return real(self, account, currency)

    monkeypatch.setattr(FakeLedger, "balance", netted_meanwhile)
    with pytest.raises(NettingRaced):
        create_payouts(world.deps)
    assert not world.db.payouts and world.db.commits == 0
    assert {world.db.items[i]["status"] for i in ("i-1", "i-2")} == {"redeemed"}
