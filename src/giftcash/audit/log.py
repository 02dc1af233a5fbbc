"""The audit log: append-only, every record hash-chained to the one before it.

``record`` appends inside the caller's unit of work, so an audit row commits with the
change it describes, or, for a refused action, on its own after the change was rolled
back. Each record stores ``hash = sha256(prev_hash + canonical(record))``, the canonical
form being sorted JSON of its position, id, time, actor, action, subject and detail; the
chain head (``audit_head``) is locked by every writer, so the chain has one order.

``verify`` walks the chain and reports every record that was edited (its hash no longer
matches its content), deleted (a gap in ``seq``, or a head that points past the last
record) or inserted (a record that does not link to the one before it). A chain kept in
the same database as its writer cannot stop someone who rewrites it all from the edited
record onwards; publishing the head hash now and then (``head()``) is what pins it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import uuid4

from giftcash.service.ports.records import AuditRecord
from giftcash.service.ports.uow import UnitOfWork

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditProblem:
    seq: int
    rule: str  # edited | deleted | inserted | head
    message: str


class AuditStore(Protocol):
    """What ``uow.audit`` offers (adapters/db/repositories_audit.py)."""

    def append(
        self,
        *,
        id: str,
        at: datetime,
        actor: str,
        action: str,
        subject: str | None,
        detail: dict[str, Any] | None,
    ) -> AuditRecord: ...

    def head(self) -> tuple[int, str]: ...

    def all_in_order(self) -> Iterable[AuditRecord]: ...


def normalise_detail(detail: dict[str, Any] | None) -> dict[str, Any] | None:
    """The detail as it reads back from the database (JSON types only), so the hash of
    what was written equals the hash of what is read."""
    if detail is None:
        return None
    back: dict[str, Any] = json.loads(json.dumps(detail, default=str, ensure_ascii=False))
    return back


def canonical(
    *,
    seq: int,
    id: str,
    at: datetime,
    actor: str,
    action: str,
    subject: str | None,
    detail: dict[str, Any] | None,
) -> str:
    body = {
        "seq": seq,
        "id": id,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "subject": subject,
        "detail": detail,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, canonical_form: str) -> str:
    return hashlib.sha256((prev_hash + canonical_form).encode()).hexdigest()


def hash_of(r: AuditRecord) -> str:
    return chain_hash(
        r.prev_hash,
        canonical(
            seq=r.seq,
            id=r.id,
            at=r.at,
            actor=r.actor,
            action=r.action,
            subject=r.subject,
            detail=r.detail,
        ),
    )


def check_chain(records: Iterable[AuditRecord], head: tuple[int, str]) -> list[AuditProblem]:
    """Every break in a chain read in ``seq`` order, given the stored head. Pure."""
    problems: list[AuditProblem] = []
    expected_seq, prev_hash = 1, GENESIS_HASH
    for r in records:
        if r.seq != expected_seq:
            gap = f"{expected_seq}" if r.seq == expected_seq + 1 else f"{expected_seq}–{r.seq - 1}"
            problems.append(AuditProblem(r.seq, "deleted", f"record(s) {gap} are missing"))
        elif r.prev_hash != prev_hash:
            problems.append(
                AuditProblem(
                    r.seq,
                    "inserted",
                    "does not link to the record before it (inserted, or the one before "
                    "was removed or rewritten)",
                )
            )
        if hash_of(r) != r.hash:
            problems.append(AuditProblem(r.seq, "edited", "its content no longer matches its hash"))
        expected_seq, prev_hash = r.seq + 1, r.hash
    head_seq, head_hash = head
    if (head_seq, head_hash) != (expected_seq - 1, prev_hash):
        problems.append(
            AuditProblem(
                head_seq,
                "head",
                f"the chain head says record {head_seq} is last; the log ends at "
                f"{expected_seq - 1} (records at the end were removed or added)",
            )
        )
    return problems


def record(
    uow: UnitOfWork,
    actor: str,
    action: str,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
    *,
    at: datetime | None = None,
    id: str | None = None,
) -> AuditRecord:
    """Append one record in ``uow``'s transaction (the caller commits).

    Take it last in a transaction: it locks the chain head until the commit."""
    return uow.audit.append(
        id=id or str(uuid4()),
        at=at or datetime.now(UTC),
        actor=actor,
        action=action,
        subject=subject,
        detail=normalise_detail(detail),
    )


def verify(uow: UnitOfWork) -> list[AuditProblem]:
    """Check the whole chain as ``uow`` sees it. Open ``uow`` read-only, or call
    ``uow.audit.snapshot()`` first in it, so the walk sees one moment."""
    store: AuditStore = uow.audit
    return check_chain(store.all_in_order(), store.head())
