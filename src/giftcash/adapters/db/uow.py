"""Unit of work: one command = one connection in one transaction.

    with SqlUnitOfWork(engine) as uow:
        uow.ledger.post(transfer)
        uow.conn.execute(...)       # the command's own rows, same transaction
        uow.commit()

Nothing commits by itself: leaving the block without ``commit()`` (normally or by an
exception) rolls back. Explicit, so an early ``return`` cannot half-commit a command.
After ``commit()`` the same block may go on; its next statement starts a new transaction.

``read_only=True`` is for reports and checks: on PostgreSQL a REPEATABLE READ, READ ONLY
transaction (one snapshot for every query); on SQLite a deferred transaction, which in WAL
mode is a snapshot that never waits for writers. Writers get ``BEGIN IMMEDIATE`` on SQLite
(see ``engine.py``) and READ COMMITTED plus explicit row locks on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Protocol

from sqlalchemy import Connection, Engine

from giftcash.adapters.db.codes_repo import CodeRegistry
from giftcash.adapters.db.engine import SQLITE_BEGIN_OPTION, is_sqlite
from giftcash.adapters.db.ids import new_id as uuid7_text
from giftcash.adapters.db.ledger_repo import LedgerRepository


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SqlUnitOfWork:
    conn: Connection
    ledger: LedgerRepository
    codes: CodeRegistry

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock | None = None,
        new_id: Callable[[], str] | None = None,
        read_only: bool = False,
    ) -> None:
        # The service's clock and id source (``Deps``), so that the ledger's and the code
        # registry's timestamps and ids follow the same clock as the items they belong to.
        self.engine = engine
        self.clock = clock or SystemClock()
        self.new_id = new_id or uuid7_text
        self.read_only = read_only

    def __enter__(self) -> SqlUnitOfWork:
        conn = self.engine.connect()
        try:
            if self.read_only:
                if is_sqlite(conn):
                    conn.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
                else:
                    conn.execution_options(
                        isolation_level="REPEATABLE READ", postgresql_readonly=True
                    )
            conn.begin()
        except BaseException:
            conn.close()
            raise
        self.conn = conn
        self.ledger = LedgerRepository(conn, now=self.clock.now, new_id=self.new_id)
        self.codes = CodeRegistry(conn, now=self.clock.now)
        return self

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        self.conn.rollback()

    def joined(self) -> JoinedUnitOfWork:
        """A unit of work inside this one's transaction (see ``JoinedUnitOfWork``): what
        ``service.idempotency`` hands a command so its work commits with its answer."""
        return JoinedUnitOfWork(self)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self.conn.in_transaction():
                self.conn.rollback()
        finally:
            self.conn.close()


class JoinedUnitOfWork:
    """A unit of work inside another one's transaction, so that several commands' writes
    (a service's, and the ``Idempotency-Key`` answer stored beside them) commit together.

    Used like any unit of work: its ``commit()`` releases a savepoint and its block left
    without a commit rolls back to it, so a command that fails undoes only its own
    writes; nothing is durable until the outer unit of work commits. Reads and
    repositories are the outer one's (same connection: it sees its own uncommitted rows).
    """

    def __init__(self, outer: SqlUnitOfWork) -> None:
        self._outer = outer
        self._savepoint = None

    def __getattr__(self, name: str):  # the outer one's repositories and connection
        return getattr(self._outer, name)

    def __enter__(self) -> JoinedUnitOfWork:
        self._savepoint = self._outer.conn.begin_nested()
        return self

    def commit(self) -> None:
        assert self._savepoint is not None
        self._savepoint.commit()
        # as after SqlUnitOfWork.commit: what the block does next is a new unit
        self._savepoint = self._outer.conn.begin_nested()

    def rollback(self) -> None:
        assert self._savepoint is not None
        self._savepoint.rollback()
        self._savepoint = self._outer.conn.begin_nested()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        sp, self._savepoint = self._savepoint, None
        if sp is not None and sp.is_active:
            sp.rollback()
