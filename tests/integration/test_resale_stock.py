"""Resale, the seller's side (issue 15, items 1 and 6), over the real issuer and bank
simulators on SQLite and PostgreSQL: a voucher of a ``resell`` brand is verified by the
issuer's balance inquiry and stocked, not redeemed (the issuer still shows it unspent);
it becomes a unit of inventory at cost; its seller is paid once by the ordinary payout,
after the brand's hold when it has one; the books hold inventory by brand, pass
``ledger check`` and beancount's own ``bean-check``."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from test_reconcile_world import OpsWorld

from apiworld import World, add_account, signup, world  # noqa: F401  (the fixture)
from appcache import app_for
from fakes import FakeSms
from giftcash.adapters.banks.openbanking import OpenBankingBank
from giftcash.adapters.db import ledger_check
from giftcash.adapters.db import tables as t
from giftcash.adapters.db.ledger_export import export_beancount
from giftcash.adapters.db.uow import SqlUnitOfWork
from giftcash.adapters.issuers.http_issuer import HttpIssuer
from giftcash.bootstrap import build_deps
from giftcash.catalogue import overrides
from giftcash.config import Settings
from giftcash.domain import ledger
from giftcash.domain.bank_hours import KST
from giftcash.entrypoints.worker import Worker
from giftcash.identity.operators import Operator
from giftcash.simulators import create_bank_app, create_issuer_app

RESOLD = "kyobo_gift"  # resold in the catalogue (market.toml); 90% of face value
ADMIN = Operator("op-admin", "admin1", "admin")
BEAN_CHECK = Path(sys.executable).parent / "bean-check"


class SetClock:
    """The one clock of the exchange and both simulators; a test moves it."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def resale(engine, tmp_path):
    clock = SetClock(datetime(2026, 12, 4, 11, 0, tzinfo=KST))  # the banks are open
    bank_client = TestClient(create_bank_app(tmp_path / "bank", clock=clock))
    issuer_client = TestClient(create_issuer_app(tmp_path / "issuer", clock=clock))
    settings = Settings(
        data_dir=tmp_path / "var", database_url=str(engine.url), token_ttl_s=10 * 86400
    )
    deps = build_deps(
        settings,
        engine=engine,
        issuer=HttpIssuer("http://sim", client=issuer_client),
        bank=OpenBankingBank("http://sim", client=bank_client, now=clock.now),
        sms=FakeSms(),
        fast_passwords=True,
    )
    deps.clock = clock
    url = engine.url.render_as_string(hide_password=False)
    with TestClient(app_for(deps)) as api:
        world = OpsWorld(
            api, bank_client, issuer_client, deps.sms, deps, engine, url, tmp_path / "var", settings
        )
        yield world, clock


def _deposits(w: OpsWorld, account: str) -> list[int]:
    """What the bank simulator paid into the account, the 1-won verification left out."""
    txs = w.bank.get(f"/sim/accounts/088/{account}/transactions").json()["transactions"]
    return [int(x["amount"]) for x in txs if int(x["amount"]) > 1]


def _items(w: OpsWorld, auth: dict, submission: dict) -> list[dict]:
    r = w.api.get(f"/v1/submissions/{submission['id']}", headers=auth)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def _units(w: OpsWorld) -> list[dict]:
    with w.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(t.inventory_units))]


def _balance(w: OpsWorld, account: str) -> int:
    with w.engine.connect() as conn:
        value = conn.scalar(
            select(t.ledger_accounts.c.balance).where(t.ledger_accounts.c.path == account)
        )
    return int(value or 0)


def _books_pass(w: OpsWorld, tmp_path: Path) -> str:
    with w.engine.connect() as conn:
        assert ledger_check.check(conn) == []
    path = tmp_path / "books.beancount"
    with SqlUnitOfWork(w.engine, read_only=True) as uow, open(path, "w", encoding="utf-8") as f:
        export_beancount(uow.conn, f)
    checked = subprocess.run(
        [str(BEAN_CHECK), str(path)], capture_output=True, text=True, timeout=120
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    return path.read_text(encoding="utf-8")


def test_a_resold_voucher_is_stocked_unspent_and_its_seller_paid_once(resale, tmp_path):
    w, _ = resale
    auth, account_id = w.customer("010-5150-0001", "이서연", "5150000000001")
    voucher = w.buy(RESOLD, 30_000)
    sub = w.sell(auth, account_id, [voucher], "resale-1")

    w.work()

    (item,) = _items(w, auth, sub)
    assert item["status"] == "paid", item
    # the issuer was asked, never told to redeem: the voucher is unspent, for its buyer
    shown = w.issuer.get(f"/sim/vouchers/{voucher['voucher_id']}").json()
    assert shown["status"] == "active" and shown["balance"] == 30_000, shown
    assert w.issuer.get("/sim/redemptions").json()["count"] == 0
    # one unit of inventory, at what its seller was paid, still stocked
    (unit,) = _units(w)
    assert (unit["brand_id"], unit["face_value"], unit["cost"], unit["status"]) == (
        RESOLD,
        30_000,
        27_000,
        "stocked",
    )
    assert unit["item_id"] == item["id"]
    assert unit["expires_at"] is not None  # as the issuer reported it
    # paid once, by the ordinary payout
    assert _deposits(w, "5150000000001") == [27_000]
    w.work()  # nothing more to do: never paid twice
    assert _deposits(w, "5150000000001") == [27_000]
    # the books: inventory at cost, the seller owed nothing now, no issuer asset
    with w.engine.connect() as conn:
        customer_id = conn.scalar(select(t.items.c.customer_id).where(t.items.c.id == item["id"]))
    assert _balance(w, ledger.inventory_account(RESOLD)) == 27_000
    assert _balance(w, ledger.customer_account(customer_id)) == 0
    assert _balance(w, ledger.issuer_account("kyobo")) == 0
    books = _books_pass(w, tmp_path)
    assert "open Assets:Inventory:KyoboGift KRW" in books  # the new account, opened


def test_the_brand_s_hold_delays_the_seller_s_payout(resale, tmp_path):
    w, clock = resale
    changed = overrides.patch_brand(w.deps, ADMIN, RESOLD, {"resell_hold_s": 3 * 86_400})
    assert changed.brand.resell_hold_s == 3 * 86_400
    auth, account_id = w.customer("010-5150-0002", "최민호", "5150000000002")
    voucher = w.buy(RESOLD, 50_000)
    sub = w.sell(auth, account_id, [voucher], "resale-2")

    w.work()
    (item,) = _items(w, auth, sub)
    assert item["status"] == "stocked", item
    assert _deposits(w, "5150000000002") == []  # held: nothing paid yet
    assert len(_units(w)) == 1

    clock.at += timedelta(days=3, seconds=1)
    w.work()
    (item,) = _items(w, auth, sub)
    assert item["status"] == "paid", item
    assert _deposits(w, "5150000000002") == [45_000]
    assert _units(w)[0]["status"] == "stocked"  # the unit is sold later, not paid out
    assert w.issuer.get(f"/sim/vouchers/{voucher['voucher_id']}").json()["status"] == "active"
    _books_pass(w, tmp_path)


def test_the_hold_is_an_audited_operator_setting_with_bounds(resale):
    w, _ = resale
    from giftcash.service import errors

    with pytest.raises(errors.InvalidInput):
        overrides.patch_brand(w.deps, ADMIN, RESOLD, {"resell_hold_s": -1})
    with pytest.raises(errors.InvalidInput):
        overrides.patch_brand(w.deps, ADMIN, RESOLD, {"resell_hold_s": "3600"})
    overrides.patch_brand(w.deps, ADMIN, RESOLD, {"resell_hold_s": 3600})
    overrides.patch_brand(w.deps, ADMIN, RESOLD, {"resell_hold_s": None})  # the default
    (s,) = [x for x in overrides.list_brands(w.deps) if x.brand.id == RESOLD]
    assert s.brand.resell_hold_s == s.default.resell_hold_s == 0
    with w.engine.connect() as conn:
        rows = conn.execute(
            select(t.audit_log.c.action).where(t.audit_log.c.subject == f"brand:{RESOLD}")
        ).all()
    assert [r.action for r in rows].count("brand.update") >= 2


def test_a_spent_resell_voucher_is_not_stocked(resale):
    w, _ = resale
    auth, account_id = w.customer("010-5150-0003", "박지훈", "5150000000003")
    voucher = w.buy(RESOLD, 10_000)
    w.issuer.post(f"/sim/vouchers/{voucher['voucher_id']}/use").raise_for_status()
    sub = w.sell(auth, account_id, [voucher], "resale-3")

    w.work()

    (item,) = _items(w, auth, sub)
    assert item["status"] == "declined" and item["decline"]["code"] == "voucher_used", item
    assert _units(w) == [] and _deposits(w, "5150000000003") == []


def test_a_resell_voucher_its_issuer_cannot_verify_is_declined_not_stocked(
    world: World,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
):
    """An issuer without a balance inquiry could verify a voucher only by redeeming it:
    a resold brand's voucher there is declined (the issuer's routes), never stocked blind
    and never redeemed."""
    w = world
    auth = signup(w, "010-5150-0004")
    account = add_account(w, auth, "51500000000004")
    code = "6107000000000004"
    w.issuer.sell("kyobo", code, 10_000)
    monkeypatch.setattr(w.issuer, "inquire_balance", lambda issuer, code, pin: None)
    items = [{"brand_id": RESOLD, "code": code, "face_value": 10_000, "funding_source": "cash"}]
    r = w.client.post(
        "/v1/submissions", headers=auth, json={"bank_account_id": account, "items": items}
    )
    assert r.status_code == 201, r.text

    Worker(w.deps, batch=64).drain(20)

    (got,) = w.client.get(f"/v1/submissions/{r.json()['id']}", headers=auth).json()["items"]
    assert got["status"] == "declined", got
    assert got["decline"]["code"] == "coupon_resale_unavailable"
    assert w.issuer.vouchers[code].spent_by is None  # not redeemed
    with w.engine.connect() as conn:
        assert conn.execute(select(t.inventory_units)).all() == []
