"""Verified identities (``customer_identities``: the CI only as a keyed hash, unique),
the verifications asked of the identity provider (``identity_checks``) and enhanced due
diligence (``customer_due_diligence``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from giftcash.adapters.db import tables as t
from giftcash.service.ports.records import DueDiligence, IdentityCheck, StoredIdentity


def _check(r: Any) -> IdentityCheck:
    consents = r.consents
    return IdentityCheck(
        id=r.id,
        purpose=r.purpose,
        phone=r.phone,
        customer_id=r.customer_id,
        status=r.status,
        transaction_id=r.transaction_id,
        password_hash=r.password_hash,
        consents={str(k): bool(v) for k, v in consents.items()} if consents else None,
        expires_at=r.expires_at,
        created_at=r.created_at,
    )


def _identity(r: Any) -> StoredIdentity:
    return StoredIdentity(
        customer_id=r.customer_id,
        ci_hmac=r.ci_hmac,
        details_enc=bytes(r.details_enc),
        key_id=r.key_id,
        verified_at=r.verified_at,
        document_checked_at=r.document_checked_at,
    )


class IdentityChecks:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, check: IdentityCheck) -> None:
        self.conn.execute(
            insert(t.identity_checks).values(
                id=check.id,
                purpose=check.purpose,
                phone=check.phone,
                customer_id=check.customer_id,
                status=check.status,
                transaction_id=check.transaction_id,
                password_hash=check.password_hash,
                consents=check.consents,
                expires_at=check.expires_at,
                created_at=check.created_at,
            )
        )

    def get(self, check_id: str) -> IdentityCheck | None:
        c = t.identity_checks.c
        r = self.conn.execute(select(t.identity_checks).where(c.id == check_id)).first()
        return _check(r) if r else None

    def latest(self, phone: str, purpose: str) -> IdentityCheck | None:
        c = t.identity_checks.c
        r = self.conn.execute(
            select(t.identity_checks)
            .where(c.phone == phone, c.purpose == purpose)
            .order_by(c.created_at.desc(), c.id.desc())
            .limit(1)
        ).first()
        return _check(r) if r else None

    def latest_for_customer(self, customer_id: str, purpose: str) -> IdentityCheck | None:
        c = t.identity_checks.c
        r = self.conn.execute(
            select(t.identity_checks)
            .where(c.customer_id == customer_id, c.purpose == purpose)
            .order_by(c.created_at.desc(), c.id.desc())
            .limit(1)
        ).first()
        return _check(r) if r else None

    def set_transaction(self, check_id: str, transaction_id: str) -> None:
        c = t.identity_checks.c
        self.conn.execute(
            update(t.identity_checks)
            .where(c.id == check_id, c.transaction_id.is_(None))
            .values(transaction_id=transaction_id)
        )

    def finish(self, check_id: str, status: str, now: datetime) -> bool:
        """Move a started check to its outcome; False when it was no longer started (a
        second answer, or another request finished it: the row is locked until then)."""
        c = t.identity_checks.c
        moved = self.conn.execute(
            update(t.identity_checks)
            .where(c.id == check_id, c.status == "started")
            .values(status=status, completed_at=now, password_hash=None)
        )
        return moved.rowcount == 1


class Identities:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"

    def add(self, identity: StoredIdentity) -> bool:
        """False when this person (or this customer) has an identity already: the unique
        CI hash decides, whoever commits first (a concurrent one waits for it)."""
        ins = pg_insert if self.pg else sqlite_insert
        done = self.conn.execute(
            ins(t.customer_identities)
            .values(
                customer_id=identity.customer_id,
                ci_hmac=identity.ci_hmac,
                details_enc=identity.details_enc,
                key_id=identity.key_id,
                verified_at=identity.verified_at,
                document_checked_at=identity.document_checked_at,
            )
            .on_conflict_do_nothing()
            .returning(t.customer_identities.c.customer_id)
        )
        return done.first() is not None

    def by_ci(self, ci_hmac: str) -> StoredIdentity | None:
        c = t.customer_identities.c
        r = self.conn.execute(select(t.customer_identities).where(c.ci_hmac == ci_hmac)).first()
        return _identity(r) if r else None

    def for_customer(self, customer_id: str) -> StoredIdentity | None:
        c = t.customer_identities.c
        r = self.conn.execute(
            select(t.customer_identities).where(c.customer_id == customer_id)
        ).first()
        return _identity(r) if r else None

    def mark_document_checked(self, customer_id: str, now: datetime) -> None:
        c = t.customer_identities.c
        self.conn.execute(
            update(t.customer_identities)
            .where(c.customer_id == customer_id)
            .values(document_checked_at=now)
        )


class DueDiligenceRecords:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"

    def get(self, customer_id: str) -> DueDiligence | None:
        c = t.customer_due_diligence.c
        r = self.conn.execute(
            select(t.customer_due_diligence).where(c.customer_id == customer_id)
        ).first()
        if r is None:
            return None
        return DueDiligence(
            customer_id=r.customer_id,
            required_by=r.required_by,
            required_reason=r.required_reason,
            required_at=r.required_at,
            answers_enc=bytes(r.answers_enc) if r.answers_enc is not None else None,
            answers_key_id=r.answers_key_id,
            answered_at=r.answered_at,
        )

    def _upsert(self, customer_id: str, values: dict[str, Any]) -> None:
        ins = pg_insert if self.pg else sqlite_insert
        stmt = ins(t.customer_due_diligence).values(customer_id=customer_id, **values)
        self.conn.execute(stmt.on_conflict_do_update(index_elements=["customer_id"], set_=values))

    def require(self, customer_id: str, by: str, reason: str, now: datetime) -> None:
        values = {"required_by": by, "required_reason": reason, "required_at": now}
        self._upsert(customer_id, values)

    def answer(self, customer_id: str, answers_enc: bytes, key_id: str, now: datetime) -> None:
        self._upsert(
            customer_id, {"answers_enc": answers_enc, "answers_key_id": key_id, "answered_at": now}
        )
