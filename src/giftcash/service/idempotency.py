"""Run a command once per idempotency key (Stripe's rules, Brandur Leach's recovery points).

Every entry point keys its commands here: the API with the client's ``Idempotency-Key``,
the web pages with the one-use token each form carries. The key is scoped to its
principal (a customer, ``operator:<id>``, or ``public`` before sign-up) and stored with a
hash of the request: a replay returns the stored answer, the same key with another
request is ``idempotency_key_reused``, and a replay that arrives while the first run is
still going waits for its answer, so concurrent replays get one answer and one effect.

A command declares what it touches (``calls_out``):

- only our database (a submission, a review decision, a case's status): the key is
  taken, the work done (its units of work join the key's transaction as savepoints) and
  the answer stored, then everything commits at once. A crash at any moment leaves
  either nothing (the replay does the work) or the work with its answer (the replay gets
  the answer): never the work without the answer, which a replay would do again.
- another party between its own transactions (signing up sends an SMS; adding a bank
  account asks the bank and sends 1 won): no transaction can be held across those calls,
  so the key is stored first (a recovery point locked for ``LOCK_S``) and the answer
  after. Such services are safe to run again (the deposit is recorded before it is
  sent), so a replay after a crash in between repeats the work, not its money.

An answer is a status and a JSON body, both the entry point's (an HTTP status for the API
and the pages). A status of 500 or more means the command did nothing: it is not kept,
so the client may try again. A refusal (a ``DomainError``) is kept as an answer when the
entry point says how to write it (``refused``; the API's rule: a problem document); with
no ``refused`` (the web forms) the key is freed and the error raised, so the customer can
correct the form and send it again, while what the refused command itself committed (a
failed attempt counted) stays.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from giftcash.domain.errors import DomainError
from giftcash.service.deps import Deps
from giftcash.service.errors import IdempotencyKeyInUse, IdempotencyKeyReused, InvalidInput
from giftcash.service.ports.records import IdempotencyRecord
from giftcash.service.ports.uow import UnitOfWork

LOCK_S = 60
WAIT_S = 15.0
POLL_S = 0.02
MAX_KEY_CHARS = 255


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any  # JSON: dicts, lists, strings, numbers
    replayed: bool = False


Work = Callable[[Deps], tuple[int, Any]]
Refusal = Callable[[DomainError], tuple[int, Any]]


@dataclass(frozen=True, slots=True)
class Command:
    """One keyed run: who (``scope``), which key, what was asked (``request_hash``)."""

    scope: str
    key: str
    request_hash: str
    calls_out: bool = False


def check_key(key: str) -> str:
    if not (1 <= len(key) <= MAX_KEY_CHARS) or not key.isprintable():
        raise InvalidInput("an idempotency key must be 1 to 255 printable characters")
    return key


def run_once(
    deps: Deps, command: Command | None, work: Work, refused: Refusal | None = None
) -> Answer:
    """Run ``work`` at most once per ``command``'s key and return its answer, the stored
    one on a replay. ``refused`` turns a ``DomainError`` into the entry point's answer,
    kept like any other; without it a refusal frees the key and is raised. No command (no
    key given): the work runs as it is, unkeyed."""
    if command is None:
        status, body, _ = _attempt(work, deps, refused)
        return Answer(status, body)
    check_key(command.key)
    if command.calls_out:
        return _run_phased(deps, command, work, refused)
    return _run_joined(deps, command, work, refused)


def _run_joined(deps: Deps, cmd: Command, work: Work, refused: Refusal | None) -> Answer:
    deadline = time.monotonic() + WAIT_S
    for _ in range(_max_polls()):
        now = deps.clock.now()
        with deps.uow() as uow:
            rec = uow.idempotency.get(cmd.scope, cmd.key)
            if rec is not None:
                if (answered := _stored_answer(rec, cmd.request_hash)) is not None:
                    return answered
                taken = rec.locked_until <= now  # a phased attempt died: take it over
                if taken:
                    uow.idempotency.relock(cmd.scope, cmd.key, now + timedelta(seconds=LOCK_S))
            else:
                # on PostgreSQL this waits for a concurrent first request to finish, then
                # fails (its key is there): look again
                until = now + timedelta(seconds=LOCK_S)
                taken = uow.idempotency.lock(cmd.scope, cmd.key, cmd.request_hash, until, now)
            if taken:
                try:
                    status, body, _ = _attempt(work, _joined_deps(deps, uow), refused)
                except DomainError:
                    uow.idempotency.forget(cmd.scope, cmd.key)
                    uow.commit()  # what the refused command committed (an attempt) stays
                    raise
                if status >= 500:
                    return Answer(status, body)  # rolled back: the client may retry
                uow.idempotency.complete(cmd.scope, cmd.key, status, _dump(body))
                uow.commit()
                return Answer(status, body)
        if rec is None:
            continue
        if time.monotonic() > deadline:
            break
        time.sleep(POLL_S)
    raise IdempotencyKeyInUse("a request with this idempotency key is still running")


def _run_phased(deps: Deps, cmd: Command, work: Work, refused: Refusal | None) -> Answer:
    answered = _take_for_phased(deps, cmd)
    if answered is not None:
        return answered
    try:
        status, body, _ = _attempt(work, deps, refused)
    except BaseException:  # a refusal not kept, or a crash: the key is free again
        with deps.uow() as uow:
            uow.idempotency.forget(cmd.scope, cmd.key)
            uow.commit()
        raise
    with deps.uow() as uow:
        if status >= 500:
            uow.idempotency.forget(cmd.scope, cmd.key)  # nothing happened: let it retry
        else:
            uow.idempotency.complete(cmd.scope, cmd.key, status, _dump(body))
        uow.commit()
    return Answer(status, body)


def _take_for_phased(deps: Deps, cmd: Command) -> Answer | None:
    """Store the key (the recovery point) and return None, or the stored answer."""
    deadline = time.monotonic() + WAIT_S
    for _ in range(_max_polls()):
        now = deps.clock.now()
        until = now + timedelta(seconds=LOCK_S)
        with deps.uow() as uow:
            rec = uow.idempotency.get(cmd.scope, cmd.key)
            if rec is None:
                if uow.idempotency.lock(cmd.scope, cmd.key, cmd.request_hash, until, now):
                    uow.commit()
                    return None
                continue  # someone else inserted it between our read and insert: look again
            if (answered := _stored_answer(rec, cmd.request_hash)) is not None:
                return answered
            if rec.locked_until <= now:  # the first attempt died: take it over
                uow.idempotency.relock(cmd.scope, cmd.key, until)
                uow.commit()
                return None
        if time.monotonic() > deadline:
            break
        time.sleep(POLL_S)
    raise IdempotencyKeyInUse("a request with this idempotency key is still running")


def _max_polls() -> int:
    """A bound on the waiting loops (the deadline ends them first; this is the backstop)."""
    return int(WAIT_S / POLL_S) * 4 + 100


def _stored_answer(rec: IdempotencyRecord, request_hash: str) -> Answer | None:
    """The stored answer for a replay; None while the first run is still going."""
    if rec.request_hash != request_hash:
        raise IdempotencyKeyReused("this idempotency key was used with a different request")
    if rec.status_code is None:
        return None
    assert rec.response_body is not None  # stored with its status code
    return Answer(int(rec.status_code), json.loads(rec.response_body), replayed=True)


def _joined_deps(deps: Deps, outer: UnitOfWork) -> Deps:
    """The dependencies whose units of work join ``outer``'s transaction (savepoints)."""
    return dataclasses.replace(deps, uow=outer.joined, read_uow=outer.joined)


def _attempt(work: Work, deps: Deps, refused: Refusal | None) -> tuple[int, Any, bool]:
    """The work's answer, and whether it is a refusal (raised when ``refused`` is None)."""
    try:
        status, body = work(deps)
    except DomainError as e:
        if refused is None:
            raise
        status, body = refused(e)
        return status, body, True
    return status, body, False


def _dump(body: Any) -> str:
    return json.dumps(body, default=str)
