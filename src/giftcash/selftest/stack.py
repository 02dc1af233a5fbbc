"""What every harness run stands on: the three simulators (uvicorn threads in this
process), a fresh database (an SQLite file, or a PostgreSQL schema made for the run and
dropped after it), the settings and environment the workers get, and a population of
customers with verified accounts and submitted items, made through the service layer."""

from __future__ import annotations

import base64
import os
import random
import re
import secrets
import shutil
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from giftcash.adapters.db import migrate
from giftcash.config import Settings
from giftcash.entrypoints.servers import ServerThread, free_port
from giftcash.identity import bank_accounts, customers
from giftcash.intake import submissions
from giftcash.service import errors
from giftcash.service.deps import Deps
from giftcash.simulators.bank import create_bank_app
from giftcash.simulators.issuer import create_issuer_app
from giftcash.simulators.sms import create_sms_app

PASSWORD = "selftest password 1"  # noqa: S105 - a throwaway customer of one run
BIRTH = date(1988, 4, 12)
BANK_CODE = "088"
NAMES = ("김민준", "이서연", "박도윤", "최지우", "정하준", "강서윤", "조은우", "윤지아")
# Vouchers of four issuers, at face values they sell; Kyobo's is resold (verified by the
# issuer's inquiry and stocked, never redeemed), so the runs cover both dispositions.
CHOICES = (
    ("cultureland", 1_000),
    ("cultureland", 2_000),
    ("cultureland", 3_000),
    ("munhwa", 5_000),
    ("booknlife", 5_000),
    ("kyobo_gift", 10_000),
)
# A customer's items stay within the default policy, so the batch runs through the whole
# pipeline without an operator: at most 30 items a day (velocity), and a first day of at
# most 50,000 won (no first-sale hold, no scam review).
ITEMS_PER_CUSTOMER = 12
FIRST_DAY_WON = 50_000


def giftcash_command() -> str:
    """The ``giftcash`` console script of this interpreter's environment."""
    beside = Path(sys.executable).with_name("giftcash")
    if beside.exists():
        return str(beside)
    found = shutil.which("giftcash")
    assert found, "the giftcash command is not installed"
    return found


def clean_env() -> dict[str, str]:
    """This process's environment without GIFTCASH_* settings (a run sets its own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("GIFTCASH_")}


class Simulators:
    """Issuer, bank and SMS simulators on loopback, each with its own data directory."""

    def __init__(self, root: Path, bank_options: dict[str, Any] | None = None) -> None:
        """``bank_options``: more arguments of ``create_bank_app`` (a resale run's
        notification secret and sender)."""
        self.root = root
        makers = {"issuer": create_issuer_app, "bank": create_bank_app, "sms": create_sms_app}
        self.servers: dict[str, ServerThread] = {}
        try:
            for kind, make in makers.items():
                extra = (bank_options or {}) if kind == "bank" else {}
                app = make(root / f"sim-{kind}", **extra)
                self.servers[kind] = ServerThread(app, "127.0.0.1", free_port(), f"{kind}-sim")
                self.servers[kind].start()
        except BaseException:
            self.stop()
            raise
        self.http = httpx.Client(timeout=30)

    @property
    def issuer_url(self) -> str:
        return self.servers["issuer"].url

    @property
    def bank_url(self) -> str:
        return self.servers["bank"].url

    @property
    def sms_url(self) -> str:
        return self.servers["sms"].url

    @property
    def issuer_store(self) -> Path:
        return self.root / "sim-issuer" / "issuer.sqlite3"

    def faults(self, kind: str, **config: Any) -> dict[str, Any]:
        r = self.http.post(f"{self.servers[kind].url}/sim/faults", json=config)
        r.raise_for_status()
        return r.json()

    def fault_counts(self, kind: str) -> dict[str, int]:
        return self.http.get(f"{self.servers[kind].url}/sim/faults").json()["counts"]

    def bank_hours(self, **calendar: Any) -> dict[str, Any]:
        """The bank simulator's bank-hours fault mode (the shape of our own calendar)."""
        r = self.http.post(f"{self.bank_url}/sim/faults/bank-hours", json=calendar)
        r.raise_for_status()
        return r.json()

    def clear_faults(self) -> None:
        for server in self.servers.values():
            self.http.delete(f"{server.url}/sim/faults").raise_for_status()

    def stop(self) -> None:
        if hasattr(self, "http"):
            self.http.close()
        for server in reversed(list(self.servers.values())):
            server.stop()


@dataclass
class Database:
    """``url`` is what the app, the workers and ``giftcash ledger check`` are given;
    ``where`` says where it is without any password (for notes)."""

    url: str
    where: str
    drop: Callable[[], None] = lambda: None

    def finish(self, keep: bool) -> str | None:
        """Drop a PostgreSQL schema unless ``keep`` (a failed run's evidence); answers a
        note when it is kept. An SQLite file lives in the run's folder either way."""
        if keep:
            return f"database kept: {self.where}"
        self.drop()
        return None


def provision(database_url: str | None, root: Path) -> Database:
    """A fresh, upgraded database: an SQLite file under ``root``, or a new schema in the
    PostgreSQL database ``database_url`` names (selected through ``search_path``)."""
    if database_url is None or make_url(database_url).get_backend_name() == "sqlite":
        url = f"sqlite:///{(root / 'giftcash.db').as_posix()}"
        migrate.upgrade(url)
        return Database(url, url)
    schema = f"selftest_{uuid.uuid4().hex[:12]}"
    admin = create_engine(database_url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        admin.dispose()
    url = make_url(database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    rendered = url.render_as_string(hide_password=False)

    def drop() -> None:
        engine = create_engine(database_url)
        try:
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        finally:
            engine.dispose()

    try:
        migrate.upgrade(rendered)
    except BaseException:
        drop()
        raise
    where = f"schema {schema} in {url.render_as_string(hide_password=True)}"
    return Database(rendered, where, drop)


def settings_for(
    db: Database,
    sims: Simulators,
    data_dir: Path,
    *,
    http_timeout_s: float = 5.0,
    bank_nightly: str = "none",
    bank_notification_secret: str | None = None,
) -> Settings:
    """A run's settings. No nightly bank window by default: a run at 23:30 Korean time
    must not wait an hour (the bank-hours scenario sets its own windows)."""
    secret = base64.b64encode(secrets.token_bytes(32)).decode()
    return Settings(
        bank_nightly=bank_nightly,
        data_dir=data_dir,
        database_url=db.url,
        secret_key=secret,
        issuer_url=sims.issuer_url,
        bank_url=sims.bank_url,
        sms_url=sims.sms_url,
        http_timeout_s=http_timeout_s,
        bank_notification_secret=bank_notification_secret,
    )


def env_for(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a ``giftcash`` subprocess needs to act on the same run."""
    assert settings.secret_key and settings.database_url
    return {
        **clean_env(),
        "GIFTCASH_DATA_DIR": str(settings.data_dir),
        "GIFTCASH_DATABASE_URL": settings.database_url,
        "GIFTCASH_SECRET_KEY": settings.secret_key,
        "GIFTCASH_ISSUER_URL": settings.issuer_url,
        "GIFTCASH_BANK_URL": settings.bank_url,
        "GIFTCASH_SMS_URL": settings.sms_url,
        "GIFTCASH_HTTP_TIMEOUT_S": str(settings.http_timeout_s),
        "GIFTCASH_BANK_NIGHTLY": settings.bank_nightly,
        **(
            {"GIFTCASH_BANK_NOTIFICATION_SECRET": settings.bank_notification_secret}
            if settings.bank_notification_secret
            else {}
        ),
        **extra,
    }


# -- the population --------------------------------------------------------------------


@dataclass
class Customer:
    id: str
    name: str
    account_id: str
    account_number: str


@dataclass
class Batch:
    customers: list[Customer] = field(default_factory=list)
    items: int = 0


def _sms_code(sims: Simulators, phone: str) -> str:
    messages = sims.http.get(f"{sims.sms_url}/sim/outbox", params={"to": phone}).json()
    match = re.search(r"\b(\d{6})\b", messages["messages"][-1]["text"])
    assert match, "the SMS simulator holds no code"
    return match.group(1)


def _memo(sims: Simulators, account_number: str) -> str | None:
    body = sims.http.get(
        f"{sims.bank_url}/sim/accounts/{BANK_CODE}/{account_number}/transactions"
    ).json()
    memos = [t["memo"] for t in body["transactions"] if t.get("memo", "").startswith("GC")]
    return memos[-1] if memos else None


def make_customer(deps: Deps, sims: Simulators, n: int, *, tries: int = 3) -> Customer | None:
    """Sign up, verify the phone, open a bank account at the simulator, add it and verify
    it with the 1-won deposit's memo, all through the service layer as the API would.

    ``tries``: how often the person tries signing up while the SMS cannot be sent, and
    adding the account while the bank cannot be reached (a few by default: a loaded
    machine can make a simulator miss the adapter's timeout while a scenario is still
    setting up, which is not what it tests). None when the 1-won deposit never arrived
    (the account is left waiting, as a person would leave it)."""
    phone = f"0109{n:07d}"
    name = NAMES[n % len(NAMES)]
    for attempt in range(tries):  # a sign-up whose text was not sent is renewed by the next
        try:
            customer_id = customers.signup(
                deps, phone=phone, name=name, birth_date=BIRTH, password=PASSWORD
            )
            break
        except errors.ServiceUnavailable:
            if attempt == tries - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    customers.verify_phone(deps, phone=phone, code=_sms_code(sims, phone))
    number = f"41{n:011d}"
    sims.http.post(
        f"{sims.bank_url}/sim/accounts",
        json={
            "bank_code": BANK_CODE,
            "account_number": number,
            "holder_name": name,
            "birth_date": BIRTH.isoformat(),
        },
    ).raise_for_status()
    for attempt in range(tries):
        try:
            acct = bank_accounts.add_bank_account(
                deps, customer_id, bank_code=BANK_CODE, account_number=number, holder_name=name
            )
            break
        except errors.ServiceUnavailable:
            if attempt == tries - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    memo = _memo(sims, number)
    if memo is None:
        return None
    bank_accounts.verify_bank_account(deps, customer_id, acct.id, memo)
    return Customer(customer_id, name, acct.id, number)


def buy(sims: Simulators, brand_id: str, face_value: int, count: int) -> list[dict[str, Any]]:
    r = sims.http.post(
        f"{sims.issuer_url}/sim/vouchers",
        json={
            "brand_id": brand_id,
            "face_value": face_value,
            "purchase_channel": "cash",
            "count": count,
        },
    )
    r.raise_for_status()
    return list(r.json()["vouchers"])


def customer_vouchers(rng: random.Random, count: int) -> list[tuple[str, int]]:
    """``count`` (brand, face value) picks whose total stays within ``FIRST_DAY_WON``."""
    assert count * CHOICES[0][1] <= FIRST_DAY_WON
    picks: list[tuple[str, int]] = []
    total = 0
    for n in range(count):
        brand, face = rng.choice(CHOICES)
        room = FIRST_DAY_WON - total - (count - n - 1) * CHOICES[0][1]
        if face > room:
            brand, face = CHOICES[0]
        picks.append((brand, face))
        total += face
    return picks


def buy_all(sims: Simulators, picks: list[tuple[str, int]]) -> list[dict[str, Any]]:
    """Vouchers for ``picks``, in the same order (bought in one sale per kind)."""
    wanted: dict[tuple[str, int], int] = {}
    for pick in picks:
        wanted[pick] = wanted.get(pick, 0) + 1
    stock = {pick: buy(sims, *pick, n) for pick, n in sorted(wanted.items())}
    return [stock[pick].pop() for pick in picks]


def populate(
    deps: Deps,
    sims: Simulators,
    rng: random.Random,
    *,
    item_count: int,
    submissions_per_customer: int = 2,
    first_customer: int = 1,
) -> Batch:
    """``item_count`` vouchers bought at the issuer simulator and submitted by as many
    customers as the default policy needs (``ITEMS_PER_CUSTOMER`` each), each customer's
    items spread over a few submissions."""
    sizes = [ITEMS_PER_CUSTOMER] * (item_count // ITEMS_PER_CUSTOMER)
    if item_count % ITEMS_PER_CUSTOMER:
        sizes.append(item_count % ITEMS_PER_CUSTOMER)
    batch = Batch()
    plans = [customer_vouchers(rng, size) for size in sizes]
    vouchers = buy_all(sims, [pick for plan in plans for pick in plan])
    for n, size in enumerate(sizes):
        c = make_customer(deps, sims, first_customer + n)
        assert c is not None, "the 1-won deposit did not arrive"
        batch.customers.append(c)
        mine, vouchers = vouchers[:size], vouchers[size:]
        for part in range(submissions_per_customer):
            chunk = mine[part::submissions_per_customer]
            if chunk:
                batch.items += submit(deps, c, chunk)
    return batch


def submit(deps: Deps, c: Customer, vouchers: list[dict[str, Any]]) -> int:
    view = submissions.submit(
        deps,
        c.id,
        bank_account_id=c.account_id,
        items=[
            submissions.ItemIn(
                brand_id=v["brand_id"],
                code=v["code"],
                pin=v["pin"],
                face_value=v["face_value"],
                funding_source="cash",
            )
            for v in vouchers
        ],
    )
    return len(view.items)
