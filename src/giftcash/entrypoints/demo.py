"""``giftcash demo``: everything on loopback in one process — the API and web UI, a
worker, and the issuer, bank, SMS and identity simulators — on the embedded SQLite default, with a
demo operator and a demo customer whose bank account is verified through the real flow.
Resale works end to end: the bank simulator issues virtual accounts and sends its signed
deposit notifications to the API (``/v1/bank/notifications``); the worker returns the
deposits not kept and expires unpaid orders.

State lives in ``--data-dir`` (the database, the key file, the simulators' stores,
``demo.json``), so a demo killed at any moment starts again where it stopped.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pyotp

from giftcash.adapters.db.migrate import upgrade
from giftcash.adapters.files import write_durably
from giftcash.adapters.webhooks.signing import new_secret
from giftcash.bootstrap import build_deps
from giftcash.catalogue import overrides as admin
from giftcash.config import Settings
from giftcash.entrypoints.api.app import create_app
from giftcash.entrypoints.servers import ServerThread, port_is_free
from giftcash.entrypoints.worker import Worker
from giftcash.identity import bank_accounts, consents, customers, operators
from giftcash.service.deps import Deps
from giftcash.simulators.bank import create_bank_app
from giftcash.simulators.identity import add_person, confirm_on_phone, create_identity_app
from giftcash.simulators.issuer import create_issuer_app
from giftcash.simulators.sms import create_sms_app
from giftcash.simulators.virtual_accounts import Sender, http_sender

DEMO_PHONE = "010-1234-5678"
DEMO_NAME = "김지원"
DEMO_BIRTH = date(1990, 5, 17)
DEMO_BANK = ("004", "12345678901234")
OPERATOR = "operator"
# The issuer exposure caps the demo starts with: how much captured value (won) may wait at
# one issuer for its settlement before the exchange stops buying that issuer's vouchers.
# A small exchange's few days of volume: more for the culture-voucher issuers that carry
# most sales and settle daily, less for the rest. A cap an operator has set is kept.
DEMO_EXPOSURE_CAPS_WON = {
    "cultureland": 30_000_000,
    "munhwa": 20_000_000,
    "booknlife": 20_000_000,
    "happymoney": 20_000_000,
}
DEMO_OTHER_ISSUER_CAP_WON = 10_000_000
# Where the bank sends its virtual-account deposit notifications (resale: a buyer paid).
BANK_NOTIFICATIONS_PATH = "/v1/bank/notifications"


class DemoError(RuntimeError):
    pass


@dataclass
class Demo:
    settings: Settings
    deps: Deps
    servers: list[ServerThread]
    worker: Worker
    worker_thread: threading.Thread
    stop_event: threading.Event
    info: dict[str, Any]

    def stop(self) -> None:
        self.stop_event.set()
        self.worker_thread.join(timeout=30)
        self.worker.close()
        for s in reversed(self.servers):
            s.stop()


def _credentials(data_dir: Path) -> dict[str, Any]:
    """Reuse the credentials of an earlier run in this folder, or make new ones."""
    path = data_dir / "demo.json"
    if path.exists():
        old = json.loads(path.read_text())
        return {"operator": old["operator"], "customer": old["customer"]}
    return {
        "operator": {
            "username": OPERATOR,
            "password": secrets.token_urlsafe(12),
            "totp_secret": pyotp.random_base32(),
        },
        "customer": {"phone": DEMO_PHONE, "password": secrets.token_urlsafe(12)},
    }


class ApiNotifications:
    """The bank simulator's notification sender: a POST to the API's
    ``/v1/bank/notifications``. The bank starts before the API (whose deps need the
    bank's URL), and the API's port may be the kernel's pick, so the URL is set once the
    API is up; until then nothing is sent (answer 0) and the bank's outbox retries."""

    def __init__(self) -> None:
        self._send: Sender | None = None
        self.url: str | None = None

    def point_at(self, api_url: str) -> None:
        self.url = api_url + BANK_NOTIFICATIONS_PATH
        self._send = http_sender(self.url)

    def __call__(self, body: bytes, headers: dict[str, str]) -> int:
        send = self._send
        return 0 if send is None else send(body, headers)


@dataclass(frozen=True)
class SimPorts:
    """The simulators' ports; 0: one the kernel picks (demo.json says which)."""

    issuer: int = 0
    bank: int = 0
    sms: int = 0
    identity: int = 0


def start(
    data_dir: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    sim_ports: SimPorts = SimPorts(),
) -> Demo:
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    wanted = {"--port": port, "--issuer-port": sim_ports.issuer, "--bank-port": sim_ports.bank}
    wanted["--sms-port"] = sim_ports.sms
    wanted["--identity-port"] = sim_ports.identity
    pinned = [p for p in wanted.values() if p]
    if len(pinned) != len(set(pinned)):
        raise DemoError("two of the demo's servers are given one port; give each its own")
    for option, p in wanted.items():
        if p and not port_is_free(host, p):
            raise DemoError(f"port {p} on {host} is in use; choose another with {option}")
    creds = _credentials(data_dir)
    # The URLs of an earlier run are stale: scripts wait for the new file.
    (data_dir / "demo.json").unlink(missing_ok=True)
    # Resale: buyers pay by transfer to virtual accounts, and the bank tells the API of
    # each deposit in a notification signed with this secret (new each run: the bank
    # signs every attempt afresh, so the ones waiting in its outbox are signed with it)
    notification_secret = new_secret()
    notifications = ApiNotifications()
    bank_app = create_bank_app(
        data_dir / "sim-bank",
        notification_sender=notifications,
        notification_secret=notification_secret,
    )
    sims = {
        "issuer": ServerThread(
            create_issuer_app(data_dir / "sim-issuer"), host, sim_ports.issuer, "issuer-sim"
        ),
        # its lifespan runs the loop that sends the deposit notifications
        "bank": ServerThread(bank_app, host, sim_ports.bank, "bank-sim", lifespan=True),
        "sms": ServerThread(create_sms_app(data_dir / "sim-sms"), host, sim_ports.sms, "sms-sim"),
        "identity": ServerThread(
            create_identity_app(data_dir / "sim-identity"),
            host,
            sim_ports.identity,
            "identity-sim",
        ),
    }
    servers = [s.start() for s in sims.values()]
    settings = Settings(
        data_dir=data_dir,
        issuer_url=sims["issuer"].url,
        bank_url=sims["bank"].url,
        sms_url=sims["sms"].url,
        identity_url=sims["identity"].url,
        bank_notification_secret=notification_secret,
    )
    upgrade(settings.resolved_database_url)
    deps = build_deps(settings)
    _seed(deps, creds, sims)
    api = ServerThread(create_app(deps), host, port, "api").start()
    servers.append(api)
    notifications.point_at(api.url)
    stop_event = threading.Event()
    worker = Worker(deps)
    worker_thread = threading.Thread(
        target=worker.run, args=(stop_event,), name="worker", daemon=True
    )
    worker_thread.start()
    info = {
        "api_url": api.url,
        "web_url": api.url + "/",
        "openapi_url": api.url + "/v1/openapi.json",
        "issuer_url": sims["issuer"].url,
        "bank_url": sims["bank"].url,
        "bank_notification_url": notifications.url,
        "sms_url": sims["sms"].url,
        "identity_url": sims["identity"].url,
        "database_url": settings.resolved_database_url,
        "data_dir": str(data_dir),
        **creds,
    }
    # Written whole or not at all (scripts wait for it), and durably: it holds the demo's
    # credentials and the URLs a restarted demo must find again.
    write_durably(data_dir / "demo.json", json.dumps(info, indent=2, ensure_ascii=False) + "\n")
    return Demo(settings, deps, servers, worker, worker_thread, stop_event, info)


def seed_exposure_caps(deps: Deps, op: operators.Operator) -> None:
    """Give every issuer no one has set yet its demo cap (audited, as an operator would)."""
    for setting in admin.list_issuers(deps):
        if setting.updated_at is None and setting.exposure_cap is None:
            cap = DEMO_EXPOSURE_CAPS_WON.get(setting.issuer, DEMO_OTHER_ISSUER_CAP_WON)
            admin.patch_issuer(deps, op, setting.issuer, {"exposure_cap": cap})


def _seed(deps: Deps, creds: dict[str, Any], sims: dict[str, ServerThread]) -> None:
    op = creds["operator"]
    if not operators.operator_exists(deps, op["username"]):
        operators.create_operator(
            deps,
            username=op["username"],
            password=op["password"],
            role="admin",
            totp_secret=op["totp_secret"],
        )
    with deps.reader() as uow:
        account = uow.operators.by_username(op["username"])
    assert account is not None
    seed_exposure_caps(deps, operators.Operator(account.id, account.username, account.role))
    phone = customers.normalise_phone(creds["customer"]["phone"])
    with deps.uow() as uow:
        existing = uow.customers.by_phone(phone)
        accounts = uow.bank_accounts.for_customer(existing.id) if existing else []
    if existing is None or not existing.verified:
        # the demo customer is a person the identity simulator knows (본인인증)
        identity_url = sims["identity"].url
        if not add_person(identity_url, phone, DEMO_NAME, DEMO_BIRTH, sex="F"):
            raise DemoError("the identity simulator refused the demo customer")
        customers.signup(
            deps,
            phone=phone,
            name=DEMO_NAME,
            birth_date=DEMO_BIRTH,
            password=creds["customer"]["password"],
            # the demo customer has agreed to what the sign-up form requires, not more
            consent_answers={d.id: d.required for d in consents.DOCUMENTS},
        )
        confirm_on_phone(identity_url, phone)
        customers.verify_phone(deps, phone=phone, code="")
        with deps.uow() as uow:
            existing = uow.customers.by_phone(phone)
    assert existing is not None
    if any(a.status == "verified" for a in accounts):
        return
    bank_code, number = DEMO_BANK
    httpx.post(
        sims["bank"].url + "/sim/accounts",
        json={
            "bank_code": bank_code,
            "account_number": number,
            "holder_name": DEMO_NAME,
            "birth_date": DEMO_BIRTH.isoformat(),
        },
    ).raise_for_status()
    acct = bank_accounts.add_bank_account(
        deps, existing.id, bank_code=bank_code, account_number=number, holder_name=DEMO_NAME
    )
    memo = _last_memo(sims["bank"].url, bank_code, number)
    bank_accounts.verify_bank_account(deps, existing.id, acct.id, memo)


def _last_memo(bank_url: str, bank_code: str, number: str) -> str:
    body = httpx.get(f"{bank_url}/sim/accounts/{bank_code}/{number}/transactions").json()
    deposits = [t for t in body["transactions"] if t.get("memo", "").startswith("GC")]
    if not deposits:
        raise DemoError("the 1-won deposit did not reach the demo account")
    return deposits[-1]["memo"]
