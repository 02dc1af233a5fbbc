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

**Sealed records and redaction.** Records can carry personal data (an operator's reason
for blocking a customer, a device's address), which the retention schedule must destroy
without breaking the chain. So a record written since migration 0014 is *sealed*: the
chain hashes ``body_digest = sha256(salt + canonical(subject, detail))`` in place of the
subject and detail, with a random 256-bit ``salt`` kept beside them. While the salt is
there, ``verify`` recomputes the digest from the content, so an edited detail is found as
before. Redaction (``privacy/purge.py``) erases the detail and the salt and stamps
``redacted_at``; the digest stays, so the chain still links and every other field is
still checked, and without the salt the digest cannot be reversed by guessing a short
detail (a phone number). A redaction is itself accountable: ``verify`` reports a redacted
record that no ``privacy.purge`` record names (``redacted_seqs``), so erasing a record's
content by hand is found. Records from before sealing hash their content directly and are
never redacted.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import uuid4

from giftcash.service.ports.records import AuditRecord
from giftcash.service.ports.uow import UnitOfWork

GENESIS_HASH = "0" * 64
# The purge's own record, which names the records it redacted (``redacted_seqs``).
PURGE_ACTION = "privacy.purge"
# What a redacted device record's subject becomes (the address was personal data).
REDACTED_DEVICE = "device:redacted"
SALT_BYTES = 32


@dataclass(frozen=True, slots=True)
class AuditProblem:
    seq: int
    rule: str  # edited | deleted | inserted | head | redacted
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

    def redact(self, subject: str, now: datetime, limit: int) -> list[int]: ...

    def redact_items_of(self, customer_id: str, now: datetime, limit: int) -> list[int]: ...

    def redact_old_devices(self, before: datetime, now: datetime, limit: int) -> list[int]: ...


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


def body_digest(salt: str, subject: str | None, detail: dict[str, Any] | None) -> str:
    """The salted digest a sealed record's chain hash covers in place of its content."""
    body = json.dumps(
        {"subject": subject, "detail": detail},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256((salt + body).encode()).hexdigest()


def sealed_canonical(
    *, seq: int, id: str, at: datetime, actor: str, action: str, digest: str
) -> str:
    body = {
        "v": 2,
        "seq": seq,
        "id": id,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "body": digest,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Seal:
    salt: str
    body_digest: str
    hash: str


def seal(
    prev_hash: str,
    *,
    seq: int,
    id: str,
    at: datetime,
    actor: str,
    action: str,
    subject: str | None,
    detail: dict[str, Any] | None,
) -> Seal:
    """A new record's salt, body digest and chain hash."""
    salt = secrets.token_hex(SALT_BYTES)
    digest = body_digest(salt, subject, detail)
    form = sealed_canonical(seq=seq, id=id, at=at, actor=actor, action=action, digest=digest)
    return Seal(salt, digest, chain_hash(prev_hash, form))


def hash_of(r: AuditRecord) -> str:
    if r.body_digest is None and r.salt is None:  # written before sealing
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
    # the content decides while it is there; a redacted record has only its digest
    digest = body_digest(r.salt, r.subject, r.detail) if r.salt is not None else r.body_digest
    assert digest is not None
    form = sealed_canonical(
        seq=r.seq, id=r.id, at=r.at, actor=r.actor, action=r.action, digest=digest
    )
    return chain_hash(r.prev_hash, form)


def _redaction_problem(r: AuditRecord) -> AuditProblem | None:
    if r.salt is None and r.body_digest is not None and r.redacted_at is None:
        return AuditProblem(r.seq, "edited", "its salt was removed but it is not redacted")
    if r.redacted_at is not None and (r.salt is not None or r.detail is not None):
        return AuditProblem(r.seq, "edited", "it is marked redacted but keeps its content")
    return None


def check_chain(records: Iterable[AuditRecord], head: tuple[int, str]) -> list[AuditProblem]:
    """Every break in a chain read in ``seq`` order, given the stored head. Pure."""
    problems: list[AuditProblem] = []
    expected_seq, prev_hash = 1, GENESIS_HASH
    redacted: list[int] = []
    named: set[int] = set()
    for r in records:
        if r.redacted_at is not None:
            redacted.append(r.seq)
        if r.action == PURGE_ACTION and r.detail is not None:
            named.update(int(n) for n in r.detail.get("redacted_seqs", ()))
        broken = _redaction_problem(r)
        if broken is not None:
            problems.append(broken)
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
    for seq in redacted:
        if seq not in named:
            problems.append(AuditProblem(seq, "redacted", "redacted, but no purge record names it"))
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
