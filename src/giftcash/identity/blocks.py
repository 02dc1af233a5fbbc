"""Blocks and notes: an operator blocks a customer (the person) or a device (the device key
the customer site records with each sign-in and sale), with a reason; a blocked customer
or device cannot sign in or sell (``refuse_if_blocked``, called by the sign-in and the
submission use cases), and a customer block ends the customer's sessions at once. Notes
are append-only. Every change is audited with its reason, refusals too."""

from __future__ import annotations

from typing import Any

from giftcash.audit.changes import audited as _audited
from giftcash.domain.errors import DomainError
from giftcash.identity.operators import Operator
from giftcash.service import errors
from giftcash.service.deps import Deps
from giftcash.service.ports.records import Block as Block  # the console's pages name these
from giftcash.service.ports.records import Note as Note
from giftcash.service.ports.uow import UnitOfWork

KINDS = ("customer", "device")
MAX_REASON = 500
MAX_NOTE = 2000
MAX_DEVICE_KEY = 200


class CustomerNotFound(errors.NotFound):
    code = "customer_not_found"


class AlreadyBlocked(DomainError):
    code = "already_blocked"
    kind = "conflict"


class NotBlocked(DomainError):
    code = "not_blocked"
    kind = "conflict"


def refuse_if_blocked(uow: UnitOfWork, customer_id: str | None, device_key: str | None) -> None:
    """Raise ``CustomerBlocked`` when the customer or the device is blocked."""
    pairs: list[tuple[str, str]] = []
    if customer_id:
        pairs.append(("customer", customer_id))
    if device_key:
        pairs.append(("device", device_key[:MAX_DEVICE_KEY]))
    if pairs and uow.blocks.any_of(pairs) is not None:
        raise errors.CustomerBlocked("this account is blocked; call customer service")


def _text(text: str, limit: int, field: str) -> str:
    text = " ".join(text.split())
    if not (1 <= len(text) <= limit):
        raise errors.InvalidInput(f"write 1 to {limit} characters", field=field)
    return text


def _subject(uow: UnitOfWork, kind: str, subject: str) -> str:
    if kind not in KINDS:
        raise errors.InvalidInput("kind is customer or device", field="kind")
    subject = subject.strip()
    if kind == "customer" and uow.customers.get(subject) is None:
        raise CustomerNotFound("no such customer")
    if not (1 <= len(subject) <= MAX_DEVICE_KEY):
        raise errors.InvalidInput("name the device", field="subject")
    return subject


def block(deps: Deps, op: Operator, kind: str, subject: str, reason: str) -> Block:
    def change(uow: UnitOfWork) -> tuple[Block, dict[str, Any]]:
        text = _text(reason, MAX_REASON, "reason")
        key = _subject(uow, kind, subject)
        if uow.blocks.get(kind, key) is not None:
            raise AlreadyBlocked("already blocked")
        now = deps.clock.now()
        uow.blocks.add(kind, key, text, op.actor, now)
        ended = uow.blocks.revoke_customer_tokens(key) if kind == "customer" else 0
        return Block(kind, key, text, op.actor, now), {"sessions_ended": ended}

    detail = {"reason": reason[:MAX_REASON]}
    return _audited(deps, op, f"{kind[:16]}.block", f"{kind[:16]}:{subject[:200]}", detail, change)


def unblock(deps: Deps, op: Operator, kind: str, subject: str, reason: str) -> None:
    def change(uow: UnitOfWork) -> tuple[None, dict[str, Any]]:
        _text(reason, MAX_REASON, "reason")
        key = _subject(uow, kind, subject)
        if not uow.blocks.remove(kind, key):
            raise NotBlocked("not blocked")
        return None, {}

    detail = {"reason": reason[:MAX_REASON]}
    _audited(deps, op, f"{kind[:16]}.unblock", f"{kind[:16]}:{subject[:200]}", detail, change)


def add_note(deps: Deps, op: Operator, customer_id: str, body: str) -> Note:
    def change(uow: UnitOfWork) -> tuple[Note, dict[str, Any]]:
        text = _text(body, MAX_NOTE, "note")
        if uow.customers.get(customer_id) is None:
            raise CustomerNotFound("no such customer")
        now = deps.clock.now()
        note = Note(deps.new_id(), op.actor, text, now)
        uow.customer_notes.add(note.id, customer_id, op.actor, text, now)
        return note, {"note_id": note.id, "chars": len(text)}

    # the note itself stays in its table; the log says who wrote one and when
    return _audited(deps, op, "customer.note", f"customer:{customer_id[:64]}", {}, change)


def blocks_of(uow: UnitOfWork, kind: str, subjects: list[str]) -> dict[str, Block]:
    return uow.blocks.for_subjects(kind, subjects)


def notes_of(uow: UnitOfWork, customer_id: str, limit: int = 50) -> list[Note]:
    return uow.customer_notes.for_customer(customer_id, limit)
