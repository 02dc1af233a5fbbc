"""Identity-verification simulator (본인인증, PASS-style).

A person is created with their name, birth date, sex, carrier, one or more phones and
optionally an ID document; they get a stable connecting identifier (CI, the same at every
service) and, per service code, a DI. The service asks the person to confirm on their
phone; the phone shows the challenge; once confirmed the service reads who it was.

The API (fault injection applies to ``/v1/``):

- ``POST /v1/verifications {phone, service_code, idempotency_key}`` → 201
  ``{transaction_id, expires_at}``. Any phone gets an answer (a number no person holds
  gets a transaction nobody can confirm: the provider does not tell who is registered).
  The same ``idempotency_key`` again answers the same transaction, unless the simulator
  is set to answer twice (below).
- ``GET /v1/verifications/{transaction_id}`` → ``{transaction_id, status}`` with status
  ``pending``, ``verified`` (then ``person: {name, birth_date, sex, carrier, phone, ci,
  di}``) or ``failed`` (denied on the phone, or expired after ``ttl_s``).
- ``POST /v1/id-documents/verify {name, id_number, issue_date, idempotency_key?}`` →
  ``{result: genuine | mismatch}`` (신분증 진위확인 against the people's documents).

Test data and inspection (``/sim/``, never faulted):

- ``POST /sim/people {name, birth_date, sex, carrier, phone, id_document?: {number,
  issue_date}}`` → 201 ``{person_id, ci, di, phone}`` (``di`` for ``service_code``,
  default ``giftcash``); ``POST /sim/people/{person_id}/phones {phone, carrier}`` adds a
  phone; ``GET /sim/people``.
- ``GET /sim/challenges[?phone=]``: what the phones show (pending transactions);
  ``GET /sim/challenges/{transaction_id}``; ``POST /sim/challenges/{id}/confirm`` and
  ``/deny`` as the person's tap.
- ``GET /sim/verifications``: every transaction with its status, person and how many
  times its verified result was answered; ``GET /sim/id-checks``.
- ``POST /sim/settings {answer_twice, ttl_s}``: ``answer_twice`` makes a start repeated
  with its key open a second transaction (a provider that answers one request twice: the
  phone shows two challenges).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from giftcash.simulators.common import Clock, answer, base_app, iso, serve, utc_now
from giftcash.simulators.store import META_SCHEMA, Store, meta_get, meta_set

SCHEMA = (
    META_SCHEMA
    + """
CREATE TABLE IF NOT EXISTS people (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    sex TEXT NOT NULL,
    ci TEXT NOT NULL UNIQUE,
    id_number TEXT,
    id_issue_date TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS phones (
    phone TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people (id),
    carrier TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS transactions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    idempotency_key TEXT NOT NULL,
    service_code TEXT NOT NULL,
    phone TEXT NOT NULL,
    status TEXT NOT NULL,
    code TEXT NOT NULL,
    answers INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    decided_at TEXT
);
CREATE INDEX IF NOT EXISTS transactions_key ON transactions (idempotency_key);
CREATE INDEX IF NOT EXISTS transactions_phone ON transactions (phone);
CREATE TABLE IF NOT EXISTS id_checks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT,
    result TEXT NOT NULL,
    at TEXT NOT NULL
);
"""
)

CARRIERS = ("SKT", "KT", "LGU", "MVNO")
DEFAULT_SERVICE = "giftcash"
DEFAULT_TTL_S = 180


class StartIn(BaseModel):
    phone: str = Field(min_length=9, max_length=20, pattern=r"^[0-9]+$")
    service_code: str = Field(default=DEFAULT_SERVICE, min_length=1, max_length=32)
    idempotency_key: str = Field(min_length=1, max_length=128)


class DocumentIn(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    id_number: str = Field(min_length=6, max_length=20)
    issue_date: date
    idempotency_key: str | None = Field(default=None, max_length=128)


class IdDocument(BaseModel):
    number: str = Field(min_length=6, max_length=20)
    issue_date: date


class PersonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=50)
    birth_date: date
    sex: str = Field(pattern=r"^[MF]$")
    carrier: str = Field(default="SKT", pattern=r"^(SKT|KT|LGU|MVNO)$")
    phone: str = Field(min_length=9, max_length=20, pattern=r"^[0-9]+$")
    id_document: IdDocument | None = None
    service_code: str = Field(default=DEFAULT_SERVICE, min_length=1, max_length=32)


class PhoneIn(BaseModel):
    phone: str = Field(min_length=9, max_length=20, pattern=r"^[0-9]+$")
    carrier: str = Field(default="SKT", pattern=r"^(SKT|KT|LGU|MVNO)$")


class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer_twice: bool = False
    ttl_s: int = Field(default=DEFAULT_TTL_S, ge=1, le=86_400)


def di_for(ci: str, service_code: str) -> str:
    """The person's identifier at one service: the same person, another service, another
    DI (what 중복가입확인정보 is)."""
    return hmac.new(ci.encode(), service_code.encode(), hashlib.sha256).hexdigest()


class IdentitySim:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    # -- settings -------------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        with self.store.tx() as db:
            twice = meta_get(db, "answer_twice") == "1"
            ttl = int(meta_get(db, "ttl_s") or DEFAULT_TTL_S)
        return {"answer_twice": twice, "ttl_s": ttl}

    def configure(self, body: SettingsIn) -> dict[str, Any]:
        with self.store.tx() as db:
            meta_set(db, "answer_twice", "1" if body.answer_twice else "0")
            meta_set(db, "ttl_s", str(body.ttl_s))
        return self.settings()

    # -- people ---------------------------------------------------------------------------

    def add_person(self, body: PersonIn) -> tuple[int, dict[str, Any]]:
        person_id = f"person_{uuid.uuid4().hex[:16]}"
        # A CI is 88 characters of base64 in the field; the simulator's is as opaque.
        ci = secrets.token_urlsafe(66)
        with self.store.tx() as db:
            if db.execute("SELECT 1 FROM phones WHERE phone = ?", (body.phone,)).fetchone():
                return 409, {"error": "phone_taken", "message": "another person has this phone"}
            doc = body.id_document
            db.execute(
                "INSERT INTO people (id, name, birth_date, sex, ci, id_number, id_issue_date,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    person_id,
                    body.name,
                    body.birth_date.isoformat(),
                    body.sex,
                    ci,
                    doc.number if doc else None,
                    doc.issue_date.isoformat() if doc else None,
                    iso(self.clock()),
                ),
            )
            db.execute(
                "INSERT INTO phones (phone, person_id, carrier) VALUES (?, ?, ?)",
                (body.phone, person_id, body.carrier),
            )
        di = di_for(ci, body.service_code)
        return 201, {"person_id": person_id, "ci": ci, "di": di, "phone": body.phone}

    def add_phone(self, person_id: str, body: PhoneIn) -> tuple[int, dict[str, Any]]:
        with self.store.tx() as db:
            if db.execute("SELECT 1 FROM people WHERE id = ?", (person_id,)).fetchone() is None:
                return 404, {"error": "person_not_found", "message": "no such person"}
            if db.execute("SELECT 1 FROM phones WHERE phone = ?", (body.phone,)).fetchone():
                return 409, {"error": "phone_taken", "message": "another person has this phone"}
            db.execute(
                "INSERT INTO phones (phone, person_id, carrier) VALUES (?, ?, ?)",
                (body.phone, person_id, body.carrier),
            )
        return 201, {"person_id": person_id, "phone": body.phone}

    def people(self) -> dict[str, Any]:
        with self.store.tx() as db:
            rows = db.execute("SELECT * FROM people ORDER BY created_at, id").fetchall()
            phones = db.execute("SELECT phone, person_id FROM phones ORDER BY phone").fetchall()
        out = [
            {
                "person_id": r["id"],
                "name": r["name"],
                "birth_date": r["birth_date"],
                "sex": r["sex"],
                "ci": r["ci"],
                "phones": [p["phone"] for p in phones if p["person_id"] == r["id"]],
                "id_document": r["id_number"] is not None,
            }
            for r in rows
        ]
        return {"people": out, "count": len(out)}

    # -- verifications ----------------------------------------------------------------------

    def start(self, body: StartIn) -> tuple[int, dict[str, Any]]:
        now = self.clock()
        with self.store.tx() as db:
            twice = meta_get(db, "answer_twice") == "1"
            ttl_s = int(meta_get(db, "ttl_s") or DEFAULT_TTL_S)
            prior = db.execute(
                "SELECT id, phone, expires_at FROM transactions WHERE idempotency_key = ?"
                " AND service_code = ? ORDER BY seq LIMIT 1",
                (body.idempotency_key, body.service_code),
            ).fetchone()
            if prior is not None and prior["phone"] != body.phone:
                return 422, {
                    "error": "idempotency_key_reused",
                    "message": "this idempotency_key was used for another phone",
                }
            if prior is not None and not twice:
                return 201, {"transaction_id": prior["id"], "expires_at": prior["expires_at"]}
            tx_id = f"tx_{uuid.uuid4().hex}"
            expires_at = iso(now + timedelta(seconds=ttl_s))
            db.execute(
                "INSERT INTO transactions (id, idempotency_key, service_code, phone, status,"
                " code, created_at, expires_at) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)",
                (
                    tx_id,
                    body.idempotency_key,
                    body.service_code,
                    body.phone,
                    f"{secrets.randbelow(1_000_000):06d}",
                    iso(now),
                    expires_at,
                ),
            )
        return 201, {"transaction_id": tx_id, "expires_at": expires_at}

    def _expire(self, db: Any) -> None:
        db.execute(
            "UPDATE transactions SET status = 'expired', decided_at = ?"
            " WHERE status = 'pending' AND expires_at <= ?",
            (iso(self.clock()), iso(self.clock())),
        )

    def result(self, tx_id: str) -> tuple[int, dict[str, Any]]:
        with self.store.tx() as db:
            self._expire(db)
            tx = db.execute("SELECT * FROM transactions WHERE id = ?", (tx_id,)).fetchone()
            if tx is None:
                return 404, {"error": "transaction_not_found", "message": "no such transaction"}
            if tx["status"] == "pending":
                return 200, {"transaction_id": tx_id, "status": "pending"}
            if tx["status"] != "confirmed":
                return 200, {"transaction_id": tx_id, "status": "failed", "reason": tx["status"]}
            row = db.execute(
                "SELECT p.*, ph.carrier FROM phones ph JOIN people p ON p.id = ph.person_id"
                " WHERE ph.phone = ?",
                (tx["phone"],),
            ).fetchone()
            db.execute("UPDATE transactions SET answers = answers + 1 WHERE id = ?", (tx_id,))
        person = {
            "name": row["name"],
            "birth_date": row["birth_date"],
            "sex": row["sex"],
            "carrier": row["carrier"],
            "phone": tx["phone"],
            "ci": row["ci"],
            "di": di_for(row["ci"], tx["service_code"]),
        }
        return 200, {"transaction_id": tx_id, "status": "verified", "person": person}

    def check_document(self, body: DocumentIn) -> dict[str, Any]:
        number = "".join(ch for ch in body.id_number if ch.isdigit())
        with self.store.tx() as db:
            hit = db.execute(
                "SELECT 1 FROM people WHERE name = ? AND id_number = ? AND id_issue_date = ?",
                (body.name, number, body.issue_date.isoformat()),
            ).fetchone()
            result = "genuine" if hit is not None else "mismatch"
            db.execute(
                "INSERT INTO id_checks (idempotency_key, result, at) VALUES (?, ?, ?)",
                (body.idempotency_key, result, iso(self.clock())),
            )
        return {"result": result}

    # -- the phone's side -------------------------------------------------------------------

    def challenges(self, phone: str | None) -> dict[str, Any]:
        with self.store.tx() as db:
            self._expire(db)
            rows = db.execute(
                "SELECT * FROM transactions WHERE status = 'pending'"
                " AND (? IS NULL OR phone = ?) ORDER BY seq",
                (phone, phone),
            ).fetchall()
        out = [_challenge(r) for r in rows]
        return {"challenges": out, "count": len(out)}

    def challenge(self, tx_id: str) -> tuple[int, dict[str, Any]]:
        with self.store.tx() as db:
            self._expire(db)
            row = db.execute("SELECT * FROM transactions WHERE id = ?", (tx_id,)).fetchone()
        if row is None:
            return 404, {"error": "transaction_not_found", "message": "no such transaction"}
        return 200, _challenge(row)

    def decide(self, tx_id: str, confirm: bool) -> tuple[int, dict[str, Any]]:
        with self.store.tx() as db:
            self._expire(db)
            row = db.execute("SELECT * FROM transactions WHERE id = ?", (tx_id,)).fetchone()
            if row is None:
                return 404, {"error": "transaction_not_found", "message": "no such transaction"}
            if row["status"] != "pending":
                return 409, {"error": "not_pending", "message": f"the challenge is {row['status']}"}
            holder = db.execute(
                "SELECT person_id FROM phones WHERE phone = ?", (row["phone"],)
            ).fetchone()
            if holder is None:
                return 409, {"error": "no_person", "message": "no person holds this phone"}
            status = "confirmed" if confirm else "denied"
            db.execute(
                "UPDATE transactions SET status = ?, decided_at = ? WHERE id = ?",
                (status, iso(self.clock()), tx_id),
            )
        return 200, {"transaction_id": tx_id, "status": status}

    # -- inspection -------------------------------------------------------------------------

    def verifications(self) -> dict[str, Any]:
        with self.store.tx() as db:
            self._expire(db)
            rows = db.execute(
                "SELECT t.*, ph.person_id, p.ci FROM transactions t"
                " LEFT JOIN phones ph ON ph.phone = t.phone"
                " LEFT JOIN people p ON p.id = ph.person_id ORDER BY t.seq"
            ).fetchall()
        out = [
            {
                "transaction_id": r["id"],
                "idempotency_key": r["idempotency_key"],
                "phone": r["phone"],
                "status": r["status"],
                "person_id": r["person_id"],
                "ci": r["ci"],
                "answers": r["answers"],
                "created_at": r["created_at"],
                "decided_at": r["decided_at"],
            }
            for r in rows
        ]
        return {"verifications": out, "count": len(out)}

    def id_checks(self) -> dict[str, Any]:
        with self.store.tx() as db:
            rows = db.execute("SELECT * FROM id_checks ORDER BY seq").fetchall()
        out = [{"idempotency_key": r["idempotency_key"], "result": r["result"]} for r in rows]
        return {"id_checks": out, "count": len(out)}


def _challenge(row: Any) -> dict[str, Any]:
    """What the phone shows: who asks, and the code it shows beside the request."""
    return {
        "transaction_id": row["id"],
        "phone": row["phone"],
        "status": row["status"],
        "service_code": row["service_code"],
        "message": f"[PASS] {row['service_code']} 본인확인 요청 ({row['code']})",
        "expires_at": row["expires_at"],
    }


def create_identity_app(data_dir: Path, *, clock: Clock = utc_now) -> FastAPI:
    store = Store(Path(data_dir) / "identity.sqlite3", SCHEMA)
    sim = IdentitySim(store, clock)
    app = base_app("giftcash identity simulator", store, api_prefixes=("/v1/",))
    app.state.sim = sim

    @app.post("/v1/verifications", status_code=201)
    def start(body: StartIn) -> JSONResponse:
        return answer(*sim.start(body))

    @app.get("/v1/verifications/{transaction_id}")
    def result(transaction_id: str) -> JSONResponse:
        return answer(*sim.result(transaction_id[:64]))

    @app.post("/v1/id-documents/verify")
    def id_document(body: DocumentIn) -> dict[str, Any]:
        return sim.check_document(body)

    @app.post("/sim/people", status_code=201)
    def add_person(body: PersonIn) -> JSONResponse:
        return answer(*sim.add_person(body))

    @app.post("/sim/people/{person_id}/phones", status_code=201)
    def add_phone(person_id: str, body: PhoneIn) -> JSONResponse:
        return answer(*sim.add_phone(person_id[:64], body))

    @app.get("/sim/people")
    def people() -> dict[str, Any]:
        return sim.people()

    @app.get("/sim/challenges")
    def challenges(phone: str | None = None) -> dict[str, Any]:
        return sim.challenges(phone)

    @app.get("/sim/challenges/{transaction_id}")
    def challenge(transaction_id: str) -> JSONResponse:
        return answer(*sim.challenge(transaction_id[:64]))

    @app.post("/sim/challenges/{transaction_id}/confirm")
    def confirm(transaction_id: str) -> JSONResponse:
        return answer(*sim.decide(transaction_id[:64], True))

    @app.post("/sim/challenges/{transaction_id}/deny")
    def deny(transaction_id: str) -> JSONResponse:
        return answer(*sim.decide(transaction_id[:64], False))

    @app.get("/sim/verifications")
    def verifications() -> dict[str, Any]:
        return sim.verifications()

    @app.get("/sim/id-checks")
    def id_checks() -> dict[str, Any]:
        return sim.id_checks()

    @app.get("/sim/settings")
    def get_settings() -> dict[str, Any]:
        return sim.settings()

    @app.post("/sim/settings")
    def set_settings(body: SettingsIn) -> dict[str, Any]:
        return sim.configure(body)

    return app


def run_identity(host: str, port: int, data_dir: Path) -> None:
    serve(create_identity_app(data_dir), host, port)


# -- driving the simulator as a person would (the demo, the harness, tests) -----------------


def add_person(
    identity_url: str, phone: str, name: str, birth_date: date, *, sex: str = "F"
) -> bool:
    """A person at the identity simulator with this phone; True also when one is there
    already (a restarted demo)."""
    import httpx

    r = httpx.post(
        identity_url + "/sim/people",
        json={
            "name": name,
            "birth_date": birth_date.isoformat(),
            "sex": sex,
            "phone": "".join(ch for ch in phone if ch.isdigit()),
        },
    )
    return r.status_code in (201, 409)


def confirm_on_phone(identity_url: str, phone: str) -> int:
    """The person taps every request their phone shows; how many there were."""
    import httpx

    digits = "".join(ch for ch in phone if ch.isdigit())
    shown = httpx.get(identity_url + "/sim/challenges", params={"phone": digits}).json()
    for challenge in shown["challenges"]:
        httpx.post(f"{identity_url}/sim/challenges/{challenge['transaction_id']}/confirm")
    return len(shown["challenges"])
