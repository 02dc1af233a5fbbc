"""SMS gateway simulator.

- ``POST /v1/messages {to, text, idempotency_key?}`` → 201 ``{id}`` (fault injection
  applies). The same ``idempotency_key`` again answers the first id and sends nothing;
  with another ``to`` or ``text`` it is 422 ``idempotency_key_reused``.
- ``GET /sim/outbox[?to=]`` → ``{messages: [{id, to, text, idempotency_key, at}], count}``,
  oldest first (newest last).
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
"""
)


class MessageIn(BaseModel):
    to: str = Field(min_length=1, max_length=32)
    text: str = Field(min_length=1, max_length=2000)
    idempotency_key: str | None = Field(default=None, max_length=255)


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

    return app


def run_sms(host: str, port: int, data_dir: Path) -> None:
    serve(create_sms_app(data_dir), host, port)
