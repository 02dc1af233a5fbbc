"""service.idempotency with in-memory keys: a database-only command commits its work and
its answer together; a command that calls out stores its key before the work; a replay
gets the first answer, a changed request is refused, a refusal is kept or frees the key."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from giftcash.domain.errors import DomainError
from giftcash.service import idempotency
from giftcash.service.deps import Deps
from giftcash.service.errors import IdempotencyKeyReused, InvalidInput

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@dataclass
class Record:
    request_hash: str
    status_code: int | None = None
    response_body: str | None = None
    locked_until: datetime | None = None


@dataclass
class State:
    keys: dict[tuple[str, str], Record] = field(default_factory=dict)
    effects: list[str] = field(default_factory=list)


class Keys:
    def __init__(self, state: State) -> None:
        self.s = state

    def get(self, scope, key):
        return self.s.keys.get((scope, key))

    def lock(self, scope, key, request_hash, until, now):
        if (scope, key) in self.s.keys:
            return False
        self.s.keys[(scope, key)] = Record(request_hash, locked_until=until)
        return True

    def relock(self, scope, key, until):
        self.s.keys[(scope, key)].locked_until = until

    def complete(self, scope, key, status_code, body):
        rec = self.s.keys[(scope, key)]
        rec.status_code, rec.response_body, rec.locked_until = status_code, body, None

    def forget(self, scope, key):
        self.s.keys.pop((scope, key), None)


class Db:
    """Committed state; a unit of work edits a copy and commits it whole (or not at all)."""

    def __init__(self) -> None:
        self.committed = State()

    def uow(self) -> Uow:
        return Uow(self)


class Uow:
    def __init__(self, db: Db) -> None:
        self.db = db

    def __enter__(self) -> Uow:
        self.state = copy.deepcopy(self.db.committed)
        self.idempotency = Keys(self.state)
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def commit(self) -> None:
        self.db.committed = copy.deepcopy(self.state)

    def joined(self) -> Joined:
        return Joined(self)


class Joined:
    """A savepoint: its writes are the outer's, undone if it is left without commit."""

    def __init__(self, outer: Uow) -> None:
        self.outer = outer

    def __enter__(self) -> Joined:
        self.saved = copy.deepcopy(self.outer.state)
        self.state = self.outer.state
        return self

    def commit(self) -> None:
        self.saved = copy.deepcopy(self.outer.state)

    def __exit__(self, *exc: object) -> None:
        self.outer.state.keys, self.outer.state.effects = self.saved.keys, self.saved.effects


class Clock:
    def now(self) -> datetime:
        return NOW


def deps_of(db: Db) -> Deps:
    return Deps(uow=db.uow, vault=None, passwords=None, issuer=None, bank=None, sms=None,
                clock=Clock())  # type: ignore[arg-type]  # fmt: skip


class Refused(DomainError):
    code = "refused_for_the_test"


def refused(e: DomainError) -> tuple[int, dict]:
    return 422, {"code": e.code}


def sell(deps: Deps) -> tuple[int, dict]:
    with deps.uow() as uow:
        uow.state.effects.append("sale")
        uow.commit()
    return 201, {"sale": len(uow.state.effects)}


def test_a_database_only_command_runs_once_and_replays_its_answer():
    db = Db()
    cmd = idempotency.Command("customer-1", "k", "hash-a")
    first = idempotency.run_once(deps_of(db), cmd, sell, refused)
    again = idempotency.run_once(deps_of(db), cmd, sell, refused)
    assert (first.status, first.body, first.replayed) == (201, {"sale": 1}, False)
    assert (again.status, again.body, again.replayed) == (201, {"sale": 1}, True)
    assert db.committed.effects == ["sale"]
    other_scope = idempotency.Command("customer-2", "k", "hash-a")
    assert idempotency.run_once(deps_of(db), other_scope, sell, refused).replayed is False
    assert db.committed.effects == ["sale", "sale"]  # keys are per principal


def test_a_database_only_command_and_its_answer_commit_together():
    db = Db()

    def dies_after_its_work(deps: Deps) -> tuple[int, dict]:
        sell(deps)
        raise RuntimeError("the process dies before the answer is stored")

    cmd = idempotency.Command("customer-1", "k", "hash-a")
    with pytest.raises(RuntimeError):
        idempotency.run_once(deps_of(db), cmd, dies_after_its_work, refused)
    assert db.committed.effects == [] and db.committed.keys == {}  # neither work nor key
    assert idempotency.run_once(deps_of(db), cmd, sell, refused).body == {"sale": 1}


def test_a_command_that_calls_out_stores_its_key_before_the_call():
    db = Db()
    seen: list[Record] = []

    def calls_the_bank(deps: Deps) -> tuple[int, dict]:
        seen.append(copy.deepcopy(db.committed.keys[("customer-1", "k")]))  # the recovery point
        return sell(deps)

    cmd = idempotency.Command("customer-1", "k", "hash-a", calls_out=True)
    first = idempotency.run_once(deps_of(db), cmd, calls_the_bank, refused)
    again = idempotency.run_once(deps_of(db), cmd, calls_the_bank, refused)
    assert len(seen) == 1 and seen[0].status_code is None
    assert seen[0].locked_until == NOW + timedelta(seconds=idempotency.LOCK_S)
    assert again.replayed and again.body == first.body == {"sale": 1}
    assert db.committed.effects == ["sale"]


def test_a_phased_command_that_dies_frees_its_key_and_one_left_locked_is_taken_over():
    db = Db()

    def dies(deps: Deps) -> tuple[int, dict]:
        raise RuntimeError("the bank call never came back")

    cmd = idempotency.Command("customer-1", "k", "hash-a", calls_out=True)
    with pytest.raises(RuntimeError):
        idempotency.run_once(deps_of(db), cmd, dies, refused)
    assert db.committed.keys == {}
    # a first attempt whose process died holds its key until the lock runs out
    db.committed.keys[("customer-1", "k")] = Record("hash-a", locked_until=NOW)
    assert idempotency.run_once(deps_of(db), cmd, sell, refused).body == {"sale": 1}


@pytest.mark.parametrize("calls_out", [False, True])
def test_the_same_key_with_another_request_is_refused_and_does_nothing(calls_out):
    db = Db()
    idempotency.run_once(deps_of(db), idempotency.Command("c", "k", "a", calls_out), sell)
    with pytest.raises(IdempotencyKeyReused) as e:
        idempotency.run_once(deps_of(db), idempotency.Command("c", "k", "b", calls_out), sell)
    assert e.value.code == "idempotency_key_reused"
    assert db.committed.effects == ["sale"]


@pytest.mark.parametrize("calls_out", [False, True])
def test_a_refusal_is_kept_as_an_answer_or_raised_and_the_key_freed(calls_out):
    def refuses(deps: Deps) -> tuple[int, dict]:
        with deps.uow() as uow:
            uow.state.effects.append("attempt counted")  # a refused command's own commit
            uow.commit()
        raise Refused("no")

    db = Db()
    kept = idempotency.Command("c", "api", "a", calls_out)
    first = idempotency.run_once(deps_of(db), kept, refuses, refused)
    again = idempotency.run_once(deps_of(db), kept, refuses, refused)
    assert (first.status, again.status, again.replayed) == (422, 422, True)
    assert db.committed.effects == ["attempt counted"]

    db = Db()
    form = idempotency.Command("c", "form", "a", calls_out)
    with pytest.raises(Refused):
        idempotency.run_once(deps_of(db), form, refuses)
    assert db.committed.keys == {} and db.committed.effects == ["attempt counted"]
    assert idempotency.run_once(deps_of(db), form, sell).body == {"sale": 2}  # sent again


def test_keys_are_checked_and_no_key_runs_unkeyed():
    db = Db()
    with pytest.raises(InvalidInput):
        idempotency.run_once(deps_of(db), idempotency.Command("c", "", "a"), sell)
    with pytest.raises(InvalidInput):
        idempotency.run_once(deps_of(db), idempotency.Command("c", "x" * 256, "a"), sell)
    idempotency.run_once(deps_of(db), None, sell)
    idempotency.run_once(deps_of(db), None, sell)
    assert db.committed.effects == ["sale", "sale"] and db.committed.keys == {}
