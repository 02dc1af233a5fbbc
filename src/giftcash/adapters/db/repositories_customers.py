"""Repositories for customers, SMS challenges, tokens, bank accounts, idempotency keys and
operators with the one-use TOTP step of their login (SQLAlchemy Core over the unit of
work's connection)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from giftcash.adapters.db import tables as t
from giftcash.domain.records import BankAccount, Customer
from giftcash.domain.states import BankAccountStatus, Moved, allows
from giftcash.service.ports.records import (
    Challenge,
    IdempotencyRecord,
    OperatorAccount,
    PendingVerification,
    Token,
)


def _customer(r: Any) -> Customer:
    return Customer(
        id=r.id,
        phone=r.phone,
        name=r.name,
        birth_date=r.birth_date,
        password_hash=r.password_hash,
        status=r.status,
        phone_verified_at=r.phone_verified_at,
        created_at=r.created_at,
    )


class Customers:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, customer_id: str) -> Customer | None:
        r = self.conn.execute(select(t.customers).where(t.customers.c.id == customer_id)).first()
        return _customer(r) if r else None

    def by_phone(self, phone: str) -> Customer | None:
        r = self.conn.execute(select(t.customers).where(t.customers.c.phone == phone)).first()
        return _customer(r) if r else None

    def add(
        self, id: str, phone: str, name: str, birth_date: date, password_hash: str, now: datetime
    ) -> None:
        self.conn.execute(
            insert(t.customers).values(
                id=id,
                phone=phone,
                name=name,
                birth_date=birth_date,
                password_hash=password_hash,
                status="active",
                created_at=now,
            )
        )

    def renew_unverified(
        self,
        customer_id: str,
        new_id: str,
        name: str,
        birth_date: date,
        password_hash: str,
        now: datetime,
    ) -> None:
        """A sign-up again for a phone never verified: the customer is made anew (a new
        id, as a first sign-up gets). Nothing but failed attempts can name an unverified
        customer; they follow it, so a new sign-up does not lift a lock."""
        c = t.customers.c
        # the discarded attempt's consents go with it (the new one records its own); they
        # would also hold the old id against the foreign key
        k = t.customer_consents.c
        self.conn.execute(delete(t.customer_consents).where(k.customer_id == customer_id))
        self.conn.execute(
            update(t.customers)
            .where(c.id == customer_id, c.phone_verified_at.is_(None))
            .values(
                id=new_id,
                name=name,
                birth_date=birth_date,
                password_hash=password_hash,
                created_at=now,
            )
        )
        f = t.failed_attempts.c
        self.conn.execute(
            update(t.failed_attempts).where(f.customer_id == customer_id).values(customer_id=new_id)
        )

    def mark_verified(self, customer_id: str, now: datetime) -> None:
        self.conn.execute(
            update(t.customers).where(t.customers.c.id == customer_id).values(phone_verified_at=now)
        )

    def set_verified_name(self, customer_id: str, name: str, birth_date: date) -> None:
        self.conn.execute(
            update(t.customers)
            .where(t.customers.c.id == customer_id)
            .values(name=name, birth_date=birth_date)
        )


class Challenges:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self,
        id: str,
        phone: str,
        purpose: str,
        code_hash: str,
        expires_at: datetime,
        now: datetime,
    ) -> None:
        self.conn.execute(
            insert(t.sms_challenges).values(
                id=id,
                phone=phone,
                purpose=purpose,
                code_hash=code_hash,
                attempts=0,
                expires_at=expires_at,
                created_at=now,
            )
        )

    def latest(self, phone: str, purpose: str) -> Challenge | None:
        c = t.sms_challenges.c
        r = self.conn.execute(
            select(c.id, c.code_hash, c.attempts, c.expires_at, c.used_at)
            .where(c.phone == phone, c.purpose == purpose)
            .order_by(c.created_at.desc(), c.id.desc())
            .limit(1)
        ).first()
        return Challenge(*r) if r else None

    def count_attempt(self, challenge_id: str) -> None:
        c = t.sms_challenges.c
        self.conn.execute(
            update(t.sms_challenges).where(c.id == challenge_id).values(attempts=c.attempts + 1)
        )

    def use(self, challenge_id: str, now: datetime) -> None:
        c = t.sms_challenges.c
        self.conn.execute(update(t.sms_challenges).where(c.id == challenge_id).values(used_at=now))


class Tokens:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self,
        token_hash: str,
        subject_type: str,
        subject_id: str,
        expires_at: datetime,
        now: datetime,
    ) -> None:
        self.conn.execute(
            insert(t.access_tokens).values(
                token_hash=token_hash,
                subject_type=subject_type,
                subject_id=subject_id,
                expires_at=expires_at,
                created_at=now,
            )
        )

    def get(self, token_hash: str) -> Token | None:
        c = t.access_tokens.c
        r = self.conn.execute(
            select(c.subject_type, c.subject_id, c.expires_at).where(c.token_hash == token_hash)
        ).first()
        return Token(*r) if r else None

    def delete(self, token_hash: str) -> bool:
        c = t.access_tokens.c
        return (
            self.conn.execute(delete(t.access_tokens).where(c.token_hash == token_hash)).rowcount
            == 1
        )


def _bank_account(r: Any) -> BankAccount:
    return BankAccount(
        id=r.id,
        customer_id=r.customer_id,
        bank_code=r.bank_code,
        account_number_masked=r.account_number_masked,
        holder_name=r.holder_name,
        status=r.status,
        verify_attempts=r.verify_attempts,
        verify_bank_tran_id=r.verify_bank_tran_id,
        created_at=r.created_at,
        verified_at=r.verified_at,
    )


class BankAccounts:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self,
        *,
        id: str,
        customer_id: str,
        bank_code: str,
        account_number_enc: bytes,
        account_key_id: str,
        account_number_hmac: str,
        account_number_masked: str,
        holder_name: str,
        verify_code_hash: str,
        verify_bank_tran_id: str,
        now: datetime,
    ) -> None:
        self.conn.execute(
            insert(t.bank_accounts).values(
                id=id,
                customer_id=customer_id,
                bank_code=bank_code,
                account_number_enc=account_number_enc,
                account_key_id=account_key_id,
                account_number_hmac=account_number_hmac,
                account_number_masked=account_number_masked,
                holder_name=holder_name,
                status="verifying",
                verify_code_hash=verify_code_hash,
                verify_attempts=0,
                verify_bank_tran_id=verify_bank_tran_id,
                created_at=now,
            )
        )

    def get(self, account_id: str) -> BankAccount | None:
        r = self.conn.execute(
            select(t.bank_accounts).where(t.bank_accounts.c.id == account_id)
        ).first()
        return _bank_account(r) if r else None

    def for_customer(self, customer_id: str) -> list[BankAccount]:
        c = t.bank_accounts.c
        rows = self.conn.execute(
            select(t.bank_accounts).where(c.customer_id == customer_id).order_by(c.created_at)
        )
        return [_bank_account(r) for r in rows]

    def number_hmac(self, account_id: str) -> str:
        c = t.bank_accounts.c
        q = select(c.account_number_hmac).where(c.id == account_id)
        return str(self.conn.execute(q).scalar_one())

    def verify_code_hash(self, account_id: str) -> str:
        c = t.bank_accounts.c
        return self.conn.execute(select(c.verify_code_hash).where(c.id == account_id)).scalar_one()

    def count_attempt(self, account_id: str) -> None:
        c = t.bank_accounts.c
        self.conn.execute(
            update(t.bank_accounts)
            .where(c.id == account_id)
            .values(verify_attempts=c.verify_attempts + 1)
        )

    def transition(self, event: Moved[BankAccountStatus], now: datetime) -> bool:
        """Apply the event while the account is still in its source; False if it is not.
        A verified account forgets its memo code's hash."""
        assert allows(event.source, event.target), event
        c = t.bank_accounts.c
        values: dict[str, Any] = {"status": event.target.value}
        if event.target is BankAccountStatus.VERIFIED:
            values.update(verified_at=now, verify_code_hash=None)
        n = self.conn.execute(
            update(t.bank_accounts)
            .where(c.id == event.id, c.status == event.source.value)
            .values(**values)
        ).rowcount
        return n == 1

    def unsettled_verifications(
        self, older_than: datetime, limit: int
    ) -> list[PendingVerification]:
        """Accounts whose 1-won deposit has no recorded outcome yet (a crash or an
        ambiguous answer): the worker settles them by inquiry. Verified accounts too: the
        customer may have read the code in their bank app before the outcome was booked."""
        a = t.bank_accounts.c
        done = select(t.ledger_transfers.c.id).where(t.ledger_transfers.c.id == ("verify:" + a.id))
        rows = self.conn.execute(
            select(a.id, a.status, a.verify_bank_tran_id, a.created_at)
            .where(
                a.status.in_(("verifying", "verified")),
                a.created_at < older_than,
                ~done.exists(),
            )
            .order_by(a.created_at)
            .limit(limit)
        )
        return [PendingVerification(**r._mapping) for r in rows]


class IdempotencyKeys:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _where(self, scope: str, key: str) -> Any:
        c = t.idempotency_keys.c
        return and_(c.scope == scope, c.key == key)

    def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        c = t.idempotency_keys.c
        r = self.conn.execute(
            select(c.request_hash, c.status_code, c.response_body, c.locked_until).where(
                self._where(scope, key)
            )
        ).first()
        return IdempotencyRecord(*r) if r else None

    def lock(self, scope: str, key: str, request_hash: str, until: datetime, now: datetime) -> bool:
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    insert(t.idempotency_keys).values(
                        scope=scope,
                        key=key,
                        request_hash=request_hash,
                        locked_until=until,
                        created_at=now,
                    )
                )
        except IntegrityError:
            return False
        return True

    def relock(self, scope: str, key: str, until: datetime) -> None:
        self.conn.execute(
            update(t.idempotency_keys).where(self._where(scope, key)).values(locked_until=until)
        )

    def complete(self, scope: str, key: str, status_code: int, body: str) -> None:
        self.conn.execute(
            update(t.idempotency_keys)
            .where(self._where(scope, key))
            .values(status_code=status_code, response_body=body, locked_until=None)
        )

    def forget(self, scope: str, key: str) -> None:
        from sqlalchemy import delete

        self.conn.execute(delete(t.idempotency_keys).where(self._where(scope, key)))


class Operators:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self,
        *,
        id: str,
        username: str,
        password_hash: str,
        totp_secret_enc: bytes,
        totp_key_id: str,
        role: str,
        now: datetime,
    ) -> None:
        self.conn.execute(
            insert(t.operators).values(
                id=id,
                username=username,
                password_hash=password_hash,
                totp_secret_enc=totp_secret_enc,
                totp_key_id=totp_key_id,
                role=role,
                created_at=now,
            )
        )

    def by_username(self, username: str) -> OperatorAccount | None:
        r = self.conn.execute(select(t.operators).where(t.operators.c.username == username)).first()
        return OperatorAccount(**r._mapping) if r else None

    def get(self, operator_id: str) -> OperatorAccount | None:
        r = self.conn.execute(select(t.operators).where(t.operators.c.id == operator_id)).first()
        return OperatorAccount(**r._mapping) if r else None


class OperatorAuth:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def accept_totp_step(self, operator_id: str, step: int) -> bool:
        """Record ``step`` as used; False if it (or a later one) was used before. One
        conditional UPDATE, so two logins racing with one code cannot both win."""
        c = t.operators.c
        n = self.conn.execute(
            update(t.operators)
            .where(
                c.id == operator_id,
                or_(c.last_totp_step.is_(None), c.last_totp_step < step),
            )
            .values(last_totp_step=step)
        ).rowcount
        return n == 1

    def all(self) -> list[dict[str, Any]]:
        c = t.operators.c
        rows = self.conn.execute(
            select(c.id, c.username, c.role, c.created_at).order_by(c.username)
        )
        return [dict(r._mapping) for r in rows]
