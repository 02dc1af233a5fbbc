"""Races of resale (issue 15, "Bad input, races and faults"), on SQLite and PostgreSQL.

- Fifty verified buyers order the last unit at once (threads over the service, as the API
  runs it): one order gets it; the others are refused out of stock with nothing written,
  no virtual account asked for, so nobody can pay for nothing.
- Orders reserve their units when they are placed, so the stock cannot be taken between
  payment and delivery; what is left to race is the paying: fifty buyers order 1 or 2 of
  a few units at once, then every buyer with an order pays it twice at the same moment,
  while the bank's notifications are taken on several threads and two workers run. Never
  more delivered than stocked, each order delivered with one kept deposit, and every other
  deposit returned in full exactly once (the bank simulator's own records)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, insert, select
from test_api_orders import BRAND, FACE, buyers, stock  # noqa: F401 - the fixture
from test_resale_stock import RESOLD
from test_resale_worker_sim import (  # noqa: F401 - the fixtures
    LIMITS,
    PRICING,
    account_at_bank,
    books_hold,
    notify,
    pay,
    returned_at_bank,
    shop,
    units,
)

from giftcash.adapters.db import tables as t
from giftcash.domain.errors import DomainError
from giftcash.entrypoints.worker import Worker
from giftcash.identity import verification
from giftcash.resale import buying
from giftcash.resale.orders import OrderRequest, place_order
from giftcash.service.ports.records import VerifiedPerson

BUYERS = 50
NAMES = ("김민준", "이서연", "박도윤", "최지우", "정하준")


def verified_buyers(deps: Any, engine: Any, n: int) -> list[tuple[str, str]]:
    """``n`` customers with a verified identity (the identity flow's storage step);
    answers (customer id, verified name)."""
    now = datetime.now(UTC)
    out = []
    with engine.begin() as conn:
        for k in range(n):
            conn.execute(
                insert(t.customers).values(
                    id=f"buyer-{k}", phone=f"0108800{k:04d}", name=NAMES[k % len(NAMES)],
                    birth_date=date(1990, 1, 2), password_hash="x", status="active",
                    created_at=now,
                )
            )  # fmt: skip
    for k in range(n):
        name = NAMES[k % len(NAMES)]
        person = VerifiedPerson(name, date(1990, 1, 2), "F", "SKT", f"0108800{k:04d}", "c", "d")
        with deps.uow() as uow:
            assert verification._store(uow, deps, f"buyer-{k}", f"ci-race-{k}", person, now)
            uow.commit()
        out.append((f"buyer-{k}", name))
    return out


def at_once(n: int, fn: Any) -> list[Any]:
    """``fn(k)`` for k < n on n threads released together; answers each result or the
    exception it raised."""
    gate = threading.Barrier(n)

    def run(k: int) -> Any:
        gate.wait()
        try:
            return fn(k)
        except Exception as e:
            return e

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def stock_through_the_pipeline(w: Any, n: int) -> None:
    """``n`` resold vouchers, one per seller (within a first day's limit), verified and
    stocked by the seller's side."""
    for k in range(n):
        auth, account_id = w.customer(f"010-5180-{k:04d}", "이판매", f"51800000000{k:02d}")
        w.sell(auth, account_id, [w.buy(RESOLD, 30_000)], f"stock-{k}")
    w.work()
    assert [u["status"] for u in units(w)] == ["stocked"] * n


def count(engine: Any, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)))


def test_fifty_buyers_ordering_the_last_unit_one_gets_it(buyers):  # noqa: F811
    w = buyers
    stock(w, 1)
    people = verified_buyers(w.deps, w.engine, BUYERS)

    results = at_once(
        BUYERS, lambda k: buying.place(w.deps, people[k][0], f"last-{k}", BRAND, FACE, 1)
    )

    won = [r for r in results if isinstance(r, buying.OrderView)]
    refused = [r for r in results if not isinstance(r, buying.OrderView)]
    assert len(won) == 1, [type(r).__name__ for r in refused][:5]
    assert all(isinstance(r, DomainError) and r.code == "out_of_stock" for r in refused), {
        f"{type(r).__name__}: {r}" for r in refused
    }
    order = won[0].order
    assert order.status == "awaiting_payment" and order.virtual_account_number is not None
    # the others hold nothing and were given nothing to pay into
    assert count(w.engine, t.orders) == 1
    assert len(w.virtual_accounts.accounts) == 1
    with w.engine.connect() as conn:
        held = conn.execute(select(t.inventory_units.c.status, t.inventory_units.c.order_id)).all()
    assert [tuple(r) for r in held] == [("reserved", order.id)]


def test_fifty_buyers_paying_twice_at_once_never_get_more_than_stocked(shop):  # noqa: F811
    w, _clock = shop
    stocked = 4
    stock_through_the_pipeline(w, stocked)
    deps: Any = w.deps
    people = verified_buyers(deps, w.engine, BUYERS)

    def order(k: int) -> Any:
        req = OrderRequest(f"race-{k}", people[k][0], RESOLD, 30_000, 1 + k % 2)
        return place_order(deps.uow, deps.virtual_accounts, req, PRICING, LIMITS, deps.clock.now())

    placed = [r for r in at_once(BUYERS, order) if not isinstance(r, Exception)]
    assert placed and sum(o.quantity for o in placed) <= stocked
    names = dict(people)

    # every buyer with an order pays it twice at the same moment, in their own name;
    # the bank's notifications are taken on several threads while two workers run
    def twice(k: int) -> str:
        o = placed[k // 2]
        assert o.virtual_account_number is not None
        status, deposit_id = pay(w, o.virtual_account_number, o.amount, names[o.customer_id])
        assert status == 201
        return deposit_id

    deposit_ids = at_once(2 * len(placed), twice)
    assert all(isinstance(d, str) for d in deposit_ids), deposit_ids
    workers = [Worker(deps, concurrency=4, per_issuer=4, idle_sleep_s=0.01) for _ in range(2)]
    stop = threading.Event()
    threads = [threading.Thread(target=x.run, args=(stop,)) for x in workers]
    for x in threads:
        x.start()
    try:
        at_once(4, lambda _k: notify(w))
    finally:
        stop.set()
        for x in threads:
            x.join(timeout=60)
    for x in workers:
        x.drain(timeout_s=60)
        x.close()

    delivered = [u for u in units(w) if u["status"] == "delivered"]
    assert len(delivered) <= stocked
    assert len({u["item_id"] for u in delivered}) == len(delivered)
    with w.engine.connect() as conn:
        orders = {r.id: r for r in conn.execute(select(t.orders))}
        deposits = conn.execute(select(t.order_deposits)).all()
    assert {orders[o.id].status for o in placed} == {"delivered"}
    assert len(delivered) == sum(o.quantity for o in placed)
    kept = [d for d in deposits if d.status == "matched"]
    assert sorted(d.order_id for d in kept) == sorted(o.id for o in placed)  # one each
    back = [d for d in deposits if d.status != "matched"]
    assert len(back) == len(placed)
    assert {(d.status, d.return_reason) for d in back} == {("returned", "second_deposit")}
    # the bank's own records: each of the others returned, in full, once
    assert returned_at_bank(w) == {d.bank_deposit_id: 1 for d in back}
    for o in placed:
        assert o.virtual_account_number is not None
        found = account_at_bank(w, o.virtual_account_number)
        assert sorted((int(x["tran_amt"]), x["state"]) for x in found["deposits"]) == [
            (o.amount, "received"),
            (o.amount, "returned"),
        ]
    books_hold(w)
