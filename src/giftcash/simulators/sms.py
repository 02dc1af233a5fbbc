"""SMS gateway simulator.

- ``POST /v1/messages {to, text, idempotency_key?}`` → 201 ``{id}`` (fault injection
  applies). The same ``idempotency_key`` again answers the first id and sends nothing;
  with another ``to`` or ``text`` it is 422 ``idempotency_key_reused``.
- ``GET /sim/outbox[?to=]`` → ``{messages: [{id, to, text, idempotency_key, at}], count}``,
  oldest first (newest last).
- ``POST /v1/alimtalk {to, template_code, variables, text, idempotency_key?}`` → 201
  ``{id}``: a KakaoTalk 알림톡 (an approved template, its variables filled in, ``text``
  as the customer sees it, which must be the template filled in). 404
  ``template_not_found`` for a template that is not registered, 422
  ``template_mismatch`` when ``text`` is not the template filled in, 409
  ``not_a_kakao_user`` for a number marked by ``POST /sim/alimtalk/unreachable {to}``.
- ``POST /sim/alimtalk/templates {code, body}`` registers an approved template (its
  variables written ``#{name}``); ``GET /sim/alimtalk/outbox[?to=]`` as the SMS outbox.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from giftcash.simulators.common import Clock, answer, base_app, iso, serve, utc_now
from giftcash.simulators.store import META_SCHEMA, Store

SCHEMA = (
    META_SCHEMA
    + """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    to_number TEXT NOT NULL,
    text TEXT NOT NULL,
    idempotency_key TEXT UNIQUE,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_to ON messages (to_number);
CREATE TABLE IF NOT EXISTS alimtalk (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    to_number TEXT NOT NULL,
    template_code TEXT NOT NULL,
    text TEXT NOT NULL,
    idempotency_key TEXT UNIQUE,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alimtalk_templates (code TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alimtalk_unreachable (to_number TEXT PRIMARY KEY);
"""
)


class MessageIn(BaseModel):
    to: str = Field(min_length=1, max_length=32)
    text: str = Field(min_length=1, max_length=2000)
    idempotency_key: str | None = Field(default=None, max_length=255)


class AlimtalkIn(BaseModel):
    to: str = Field(min_length=1, max_length=32)
    template_code: str = Field(min_length=1, max_length=64)
    variables: dict[str, str] = Field(default_factory=dict, max_length=20)
    text: str = Field(min_length=1, max_length=1000)
    idempotency_key: str | None = Field(default=None, max_length=255)


class TemplateIn(BaseModel):
    code: str = Field(min_length=1, max_length=64)
    body: str = Field(min_length=1, max_length=1000)


class SmsSim:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def send(self, body: MessageIn) -> tuple[int, dict[str, Any]]:
        with self.store.tx() as db:
            if body.idempotency_key is not None:
                prior = db.execute(
                    "SELECT id, to_number, text FROM messages WHERE idempotency_key = ?",
                    (body.idempotency_key,),
                ).fetchone()
                if prior is not None:
                    if (prior["to_number"], prior["text"]) != (body.to, body.text):
                        return 422, {
                            "error": "idempotency_key_reused",
                            "message": "this idempotency_key was used for another message",
                        }
                    return 201, {"id": prior["id"]}
            message_id = f"sms_{uuid.uuid4().hex}"
            db.execute(
                "INSERT INTO messages (id, to_number, text, idempotency_key, at)"
                " VALUES (?, ?, ?, ?, ?)",
                (message_id, body.to, body.text, body.idempotency_key, iso(self.clock())),
            )
        return 201, {"id": message_id}

    def outbox(self, to: str | None) -> dict[str, Any]:
        with self.store.tx() as db:
            rows = db.execute(
                "SELECT * FROM messages WHERE (? IS NULL OR to_number = ?) ORDER BY seq",
                (to, to),
            ).fetchall()
        messages = [
            {
                "id": r["id"],
                "to": r["to_number"],
                "text": r["text"],
                "idempotency_key": r["idempotency_key"],
                "at": r["at"],
            }
            for r in rows
        ]
        return {"messages": messages, "count": len(messages)}


def fill(body: str, variables: dict[str, str]) -> str:
    for name, value in variables.items():
        body = body.replace("#{" + name + "}", value)
    return body


class AlimtalkSim:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def send(self, body: AlimtalkIn) -> tuple[int, dict[str, Any]]:
        with self.store.tx() as db:
            template = db.execute(
                "SELECT body FROM alimtalk_templates WHERE code = ?", (body.template_code,)
            ).fetchone()
            if template is None:
                return 404, {"error": "template_not_found", "message": "no such template"}
            if fill(template["body"], body.variables) != body.text:
                return 422, {"error": "template_mismatch", "message": "text is not the template"}
            unreachable = db.execute(
                "SELECT 1 FROM alimtalk_unreachable WHERE to_number = ?", (body.to,)
            ).fetchone()
            if unreachable is not None:
                return 409, {"error": "not_a_kakao_user", "message": "no KakaoTalk here"}
            if body.idempotency_key is not None:
                prior = db.execute(
                    "SELECT id FROM alimtalk WHERE idempotency_key = ?", (body.idempotency_key,)
                ).fetchone()
                if prior is not None:
                    return 201, {"id": prior["id"]}
            message_id = f"kakao_{uuid.uuid4().hex}"
            db.execute(
                "INSERT INTO alimtalk (id, to_number, template_code, text, idempotency_key, at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    message_id,
                    body.to,
                    body.template_code,
                    body.text,
                    body.idempotency_key,
                    iso(self.clock()),
                ),
            )
        return 201, {"id": message_id}

    def register(self, body: TemplateIn) -> None:
        with self.store.tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO alimtalk_templates (code, body) VALUES (?, ?)",
                (body.code, body.body),
            )

    def unreachable(self, to: str) -> None:
        with self.store.tx() as db:
            db.execute("INSERT OR IGNORE INTO alimtalk_unreachable (to_number) VALUES (?)", (to,))

    def outbox(self, to: str | None) -> dict[str, Any]:
        with self.store.tx() as db:
            rows = db.execute(
                "SELECT * FROM alimtalk WHERE (? IS NULL OR to_number = ?) ORDER BY seq",
                (to, to),
            ).fetchall()
        messages = [
            {"id": r["id"], "to": r["to_number"], "template_code": r["template_code"]}
            | {"text": r["text"], "idempotency_key": r["idempotency_key"], "at": r["at"]}
            for r in rows
        ]
        return {"messages": messages, "count": len(messages)}


def create_sms_app(data_dir: Path, *, clock: Clock = utc_now) -> FastAPI:
    store = Store(Path(data_dir) / "sms.sqlite3", SCHEMA)
    sim = SmsSim(store, clock)
    app = base_app("giftcash SMS simulator", store, api_prefixes=("/v1/",))
    app.state.sim = sim

    @app.post("/v1/messages", status_code=201)
    def send(body: MessageIn) -> JSONResponse:
        return answer(*sim.send(body))

    @app.get("/sim/outbox")
    def outbox(to: str | None = None) -> dict[str, Any]:
        return sim.outbox(to)

    kakao = AlimtalkSim(store, clock)

    @app.post("/v1/alimtalk", status_code=201)
    def alimtalk(body: AlimtalkIn) -> JSONResponse:
        return answer(*kakao.send(body))

    @app.post("/sim/alimtalk/templates", status_code=204)
    def register(body: TemplateIn) -> None:
        kakao.register(body)

    @app.post("/sim/alimtalk/unreachable", status_code=204)
    def unreachable(body: dict[str, str]) -> None:
        kakao.unreachable(body.get("to", "")[:32])

    @app.get("/sim/alimtalk/outbox")
    def alimtalk_outbox(to: str | None = None) -> dict[str, Any]:
        return kakao.outbox(to)

    return app


def run_sms(host: str, port: int, data_dir: Path) -> None:
    serve(create_sms_app(data_dir), host, port)
