"""Secrets: a run through the API (sign-ups, bank accounts, submissions good and bad, a
worker paying them out, an operator reading the review queue), then a scan for every
voucher code and PIN the run used, every access token it was given and every password it
typed, in:

- the database: the SQLite file and its ``-wal`` byte for byte (while the engine is open
  and again after it closed), and every row of every table as text (the only way on
  PostgreSQL);
- every log line the run produced (all loggers at DEBUG, SQLAlchemy's statement log
  excepted, as in production), with its exception text and extra fields;
- every answer body of the API (errors and successes: a masked code shows only 4
  characters, so a full code in any body is a leak);
- the data directory's files.

Zero hits is the only pass. Also: access tokens are stored as hashes (the tokens table
holds 64 hex digits, never the token), and every customer and operator password hash is
argon2id (``$argon2id$``)."""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url

from giftcash.adapters.db import tables as t
from giftcash.selftest.registry import Context, Row

ARGON2ID = "$argon2id$"
_RECORD_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


@dataclass
class Secrets:
    """What must never be found: ``kind -> values``."""

    values: dict[str, set[str]] = field(default_factory=dict)

    def add(self, kind: str, *values: str | None) -> None:
        for v in values:
            if v:
                self.values.setdefault(kind, set()).add(v)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for kind, values in self.values.items():
            for v in sorted(values):
                yield kind, v

    def __len__(self) -> int:
        return sum(len(v) for v in self.values.values())


@dataclass
class ScanReport:
    secrets: int = 0
    hits: Counter[str] = field(default_factory=Counter)  # "where: kind" -> count
    log_lines: int = 0
    bodies: int = 0
    bytes_scanned: int = 0
    rows_scanned: int = 0
    plain_tokens: int = 0  # token rows that are not a 64-hex-digit hash
    weak_hashes: int = 0  # password hashes that are not argon2id
    password_hashes: int = 0
    server_errors: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def bad(self) -> int:
        return sum(self.hits.values()) + self.plain_tokens + self.weak_hashes


class Capture(logging.Handler):
    """Every record, formatted as a line with its exception text and extra fields."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        self._lock_lines = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # a record that cannot format is still scanned raw
            text = f"{record.msg!r} {record.args!r}"
        extra = " ".join(f"{k}={v!r}" for k, v in vars(record).items() if k not in _RECORD_FIELDS)
        with self._lock_lines:
            self.lines.append(f"{text} {extra}".rstrip())


@contextmanager
def capture_logs() -> Iterator[Capture]:
    root = logging.getLogger()
    handler = Capture()
    quiet = logging.getLogger("sqlalchemy")
    before = root.level, quiet.level
    # the handlers already there (a console's) keep printing only what they printed
    others = {h: h.level for h in root.handlers}
    for h in others:
        h.setLevel(max(h.level, root.getEffectiveLevel()))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    quiet.setLevel(logging.WARNING)  # its statement log is off in production too
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(before[0])
        quiet.setLevel(before[1])
        for h, level in others.items():
            h.setLevel(level)


def find(haystack: bytes | str, secrets: Secrets) -> Counter[str]:
    """Which secrets occur in ``haystack`` (counted by kind)."""
    found: Counter[str] = Counter()
    if isinstance(haystack, bytes):
        for kind, value in secrets:
            if value.encode() in haystack:
                found[kind] += 1
    else:
        for kind, value in secrets:
            if value in haystack:
                found[kind] += 1
    return found


def _rows_as_text(engine: Engine) -> Iterator[tuple[str, str]]:
    with engine.connect() as conn:
        for table in t.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                parts = []
                for value in row:
                    if isinstance(value, bytes | bytearray | memoryview):
                        parts.append(bytes(value).decode("latin-1"))
                    else:
                        parts.append(str(value))
                yield table.name, "\x1f".join(parts)


def scan_database(engine: Engine, database_url: str, secrets: Secrets, out: ScanReport) -> None:
    for table, text in _rows_as_text(engine):
        out.rows_scanned += 1
        for kind, n in find(text, secrets).items():
            out.hits[f"table {table}: {kind}"] += n
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        scan_files([Path(url.database + s) for s in ("", "-wal")], secrets, out, "db file")


def scan_files(paths: list[Path], secrets: Secrets, out: ScanReport, where: str) -> None:
    for path in paths:
        if not path.is_file():
            continue
        data = path.read_bytes()
        out.bytes_scanned += len(data)
        for kind, n in find(data, secrets).items():
            out.hits[f"{where} {path.name}: {kind}"] += n


def check_hashes(engine: Engine, tokens: Secrets, out: ScanReport) -> None:
    hex64 = re.compile(r"^[0-9a-f]{64}$")
    with engine.connect() as conn:
        stored = list(conn.scalars(select(t.access_tokens.c.token_hash)))
        hashes = list(conn.scalars(select(t.customers.c.password_hash)))
        hashes += list(conn.scalars(select(t.operators.c.password_hash)))
    out.plain_tokens = sum(not hex64.match(h or "") for h in stored)
    given = {v for _, v in tokens}
    out.plain_tokens += sum(h in given for h in stored)
    out.password_hashes = len(hashes)
    out.weak_hashes = sum(not (h or "").startswith(ARGON2ID) for h in hashes)
    out.notes.append(
        f"{len(stored)} access tokens stored, {out.plain_tokens} not hashed;"
        f" {len(hashes)} password hashes, {out.weak_hashes} not argon2id"
    )


# -- the run --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SecretsPlan:
    customers: int = 3
    vouchers_per_customer: int = 4


class Recorder:
    """Keeps every answer body of the API and counts its 5xx."""

    def __init__(self) -> None:
        self.bodies: list[tuple[int, str]] = []

    def __call__(self, response: Any) -> None:
        response.read()
        self.bodies.append((response.status_code, response.text))


def _issue_dates(rng: random.Random, n: int) -> list[datetime]:
    """Purchase dates far apart, so the 8-digit issue-date PINs are distinct strings."""
    start = datetime(2019, 1, 1, 10, tzinfo=UTC)
    return [start + timedelta(days=rng.randrange(0, 1500)) for _ in range(n)]


def run_secrets(ctx: Context, plan: SecretsPlan = SecretsPlan()) -> tuple[Row, ScanReport]:
    from fastapi.testclient import TestClient

    from giftcash.bootstrap import build_deps, make_engine_from_settings
    from giftcash.entrypoints.api.app import create_app
    from giftcash.entrypoints.worker import Worker
    from giftcash.identity import operators
    from giftcash.selftest.stack import Simulators, provision, settings_for

    began = time.monotonic()
    rng = random.Random(ctx.seed)
    root = Path(ctx.workdir)
    root.mkdir(parents=True, exist_ok=True)
    secrets, tokens = Secrets(), Secrets()
    out = ScanReport()
    sims = Simulators(root)
    db = None
    try:
        db = provision(ctx.database_url, root)
        settings = settings_for(db, sims, root / "data")
        engine = make_engine_from_settings(settings)
        deps = build_deps(settings, engine=engine, fast_passwords=True)
        recorder = Recorder()
        with capture_logs() as logs:
            with TestClient(create_app(deps), raise_server_exceptions=False) as client:
                client.event_hooks = {"request": [], "response": [recorder]}
                _traffic(client, sims, rng, plan, secrets, tokens)
                worker = Worker(deps, worker_id="secrets-worker", concurrency=4, batch=16)
                try:
                    worker.drain(60)
                finally:
                    worker.close()
                op_secret = pyotp.random_base32()
                op_password = f"operator password {rng.randrange(10**6):06d}"
                secrets.add("password", op_password)
                operators.create_operator(
                    deps,
                    username="secrets-admin",
                    password=op_password,
                    role="admin",
                    totp_secret=op_secret,
                )
                r = client.post(
                    "/v1/admin/tokens",
                    json={
                        "username": "secrets-admin",
                        "password": op_password,
                        "totp": pyotp.TOTP(op_secret).now(),
                    },
                )
                tokens.add("token", r.json().get("access_token"))
                admin = {"Authorization": f"Bearer {r.json().get('access_token')}"}
                for path in ("/v1/admin/review", "/v1/admin/payouts", "/v1/admin/audit"):
                    client.get(path, headers=admin)
            log_lines = list(logs.lines)
        everything = Secrets({**secrets.values, **tokens.values})
        out.secrets = len(everything)
        scan_database(engine, db.url, everything, out)  # the -wal is still there
        check_hashes(engine, tokens, out)
        with engine.connect() as conn:
            i = t.items.c
            q = select(i.status, i.decline_code, func.count()).group_by(i.status, i.decline_code)
            by_status = {f"{s}/{code}" if code else s: n for s, code, n in conn.execute(q)}
        out.notes.append(f"items of the run by status: {by_status}")
        engine.dispose()
        scan_database_files_after_close(db.url, everything, out)
        scan_files(sorted((root / "data").rglob("*")), everything, out, "data dir")
        out.log_lines = len(log_lines)
        for line in log_lines:
            for kind, n in find(line, everything).items():
                out.hits[f"log: {kind}"] += n
        out.bodies = len(recorder.bodies)
        out.server_errors = sum(status >= 500 for status, _ in recorder.bodies)
        for status, body in recorder.bodies:
            where = "error body" if status >= 400 else "body"
            # a body may carry the token it hands out, and nothing else secret
            for kind, n in find(body, secrets).items():
                out.hits[f"{where}: {kind}"] += n
    finally:
        sims.stop()
        if db is not None:
            db.drop()
    statuses = Counter(status for status, _ in recorder.bodies)
    kinds = ", ".join(f"{len(v)} {k}" for k, v in everything.values.items())
    out.notes[:0] = [
        f"seed {ctx.seed}",
        f"{out.secrets} secrets ({kinds})"
        f" looked for in {out.rows_scanned} rows, {out.bytes_scanned:,} bytes of files,"
        f" {out.log_lines} log lines, {out.bodies} answer bodies {dict(statuses)}",
    ]
    if out.hits:
        out.notes.append(f"FOUND: {dict(out.hits)}")
    row = Row(
        f"secrets ({ctx.backend})",
        items=out.secrets,
        invariant_breaks=out.bad,
        server_errors=out.server_errors,
        seconds=time.monotonic() - began,
        notes=out.notes,
    )
    return row, out


def scan_database_files_after_close(database_url: str, secrets: Secrets, out: ScanReport) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        scan_files([Path(url.database)], secrets, out, "db file (closed)")


def _traffic(
    client: Any, sims: Any, rng: random.Random, plan: SecretsPlan, secrets: Secrets, tokens: Secrets
) -> None:
    """Customers through the API, each with good, bad, duplicate and spent vouchers."""
    from giftcash.selftest.stack import BANK_CODE, BIRTH, NAMES

    previous: str | None = None
    for n in range(plan.customers):
        phone = f"0108{rng.randrange(10**7):07d}"
        name = NAMES[n % len(NAMES)]
        password = f"secret pass {rng.randrange(10**9):09d}"
        secrets.add("password", password)
        body = {
            "phone": phone,
            "name": name,
            "birth_date": BIRTH.isoformat(),
            "password": password,
        }
        assert client.post("/v1/signup", json=body).status_code == 201
        texts = sims.http.get(f"{sims.sms_url}/sim/outbox", params={"to": phone}).json()
        code = re.search(r"\b(\d{6})\b", texts["messages"][-1]["text"]).group(1)
        client.post("/v1/signup/verify", json={"phone": phone, "code": "000000"})  # wrong
        client.post("/v1/signup/verify", json={"phone": phone, "code": code})
        client.post("/v1/tokens", json={"phone": phone, "password": "not the password"})
        token = client.post("/v1/tokens", json={"phone": phone, "password": password}).json()
        tokens.add("token", token["access_token"])
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        number = f"55{rng.randrange(10**11):011d}"
        sims.http.post(
            f"{sims.bank_url}/sim/accounts",
            json={
                "bank_code": BANK_CODE,
                "account_number": number,
                "holder_name": name,
                "birth_date": BIRTH.isoformat(),
            },
        ).raise_for_status()
        acct = client.post(
            "/v1/bank-accounts",
            json={"bank_code": BANK_CODE, "account_number": number, "holder_name": name},
            headers=auth,
        ).json()
        moves = sims.http.get(
            f"{sims.bank_url}/sim/accounts/{BANK_CODE}/{number}/transactions"
        ).json()["transactions"]
        memo = [m["memo"] for m in moves if str(m.get("memo", "")).startswith("GC")][-1]
        client.post(f"/v1/bank-accounts/{acct['id']}/verify", json={"code": memo}, headers=auth)
        previous = _sell(client, sims, rng, plan, auth, acct["id"], secrets, previous)


def _buy(sims: Any, brand: str, face: int, purchased_at: datetime | None = None) -> dict:
    body: dict[str, Any] = {
        "brand_id": brand,
        "face_value": face,
        "purchase_channel": "cash",
        "valid_days": 5 * 365 * 2,
    }
    if purchased_at is not None:
        body["purchased_at"] = purchased_at.isoformat()
    r = sims.http.post(f"{sims.issuer_url}/sim/vouchers", json=body)
    r.raise_for_status()
    return dict(r.json())


def _sell(
    client: Any,
    sims: Any,
    rng: random.Random,
    plan: SecretsPlan,
    auth: dict[str, str],
    account_id: str,
    secrets: Secrets,
    previous: str | None,
) -> str:
    """One customer's submissions: good vouchers (with and without PINs, typed with
    dashes), a wrong PIN, a spent voucher, a code of the wrong length, a code sold before
    by someone else, the same code twice in one request, a malformed request."""
    good = [_buy(sims, "cultureland", 1_000 * rng.randint(1, 3)) for _ in range(2)]
    good += [
        _buy(sims, "booknlife", 5_000, at)
        for at in _issue_dates(rng, max(plan.vouchers_per_customer - 2, 1))
    ]
    wrong_pin = _buy(sims, "booknlife", 5_000, _issue_dates(rng, 1)[0])
    spent = _buy(sims, "cultureland", 1_000)
    r = sims.http.post(
        f"{sims.issuer_url}/v1/issuers/cultureland/redemptions",
        json={"code": spent["code"], "pin": spent["pin"]},
        headers={"Idempotency-Key": f"elsewhere-{spent['code'][-6:]}"},
    )
    assert r.status_code < 300, r.text
    for v in [*good, wrong_pin, spent]:
        secrets.add("code", v["code"], _dashed(v["code"]))
        secrets.add("pin", v["pin"])
    bad_pin = f"{(int(wrong_pin['pin']) + 1):08d}"
    secrets.add("pin", bad_pin)
    short = "".join(rng.choice("0123456789") for _ in range(13))
    secrets.add("code", short)

    def line(v: dict, pin: str | None = None, code: str | None = None) -> dict:
        return {
            "brand_id": v["brand_id"],
            "code": code or _dashed(v["code"]),
            "pin": pin or v["pin"],
            "face_value": v["face_value"],
            "funding_source": "cash",
        }

    items = [line(v) for v in good]
    items += [line(wrong_pin, pin=bad_pin), line(spent), line(good[0], code=short)]
    if previous is not None:
        items.append({**line(good[0]), "code": previous})  # sold before by someone else
    post = {"bank_account_id": account_id, "items": items}
    client.post("/v1/submissions", json=post, headers=auth)
    twice = {"bank_account_id": account_id, "items": [line(good[0]), line(good[0])]}
    client.post("/v1/submissions", json=twice, headers=auth)  # duplicate_in_request
    extra = {**post, "items": [{**line(good[1]), "face_value": str(good[1]["face_value"])}]}
    client.post("/v1/submissions", json=extra, headers=auth)  # 422: money as a string
    client.post(
        "/v1/quotes",
        json={"brand_id": "cultureland", "face_value": 1_000, "funding_source": "cash"},
    )
    return str(good[1]["code"])


def _dashed(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
