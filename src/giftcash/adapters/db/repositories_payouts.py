"""The payouts repository: a payout made with its ``bank_tran_id``, claimed under a lease,
and each status change through ``domain.states`` with its webhook announcement."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, insert, or_, select, update

from giftcash.adapters.db import tables as t
from giftcash.adapters.db.leases import due
from giftcash.adapters.db.stop_filters import payout_stopped
from giftcash.domain.records import Payout
from giftcash.domain.states import Moved, PayoutStatus, allows
from giftcash.service.ports.records import LeasedPayout

_ASK_ONLY = (PayoutStatus.SENT.value, PayoutStatus.SENDING.value, PayoutStatus.UNKNOWN.value)


def _payout(r: Any) -> Payout:
    return Payout(
        id=r.id,
        customer_id=r.customer_id,
        bank_account_id=r.bank_account_id,
        currency=r.currency,
        amount=r.amount,
        status=r.status,
        bank_tran_id=r.bank_tran_id,
        attempts=r.attempts,
        created_at=r.created_at,
        sent_at=r.sent_at,
        confirmed_at=r.confirmed_at,
        failure_code=r.failure_code,
        bank_closed_until=r.bank_closed_until,
    )


class Payouts:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"

    def add(
        self,
        *,
        id: str,
        customer_id: str,
        bank_account_id: str,
        currency: str,
        amount: int,
        bank_tran_id: str,
        now: datetime,
    ) -> None:
        self.conn.execute(
            insert(t.payouts).values(
                id=id,
                customer_id=customer_id,
                bank_account_id=bank_account_id,
                currency=currency,
                amount=amount,
                status=PayoutStatus.PENDING.value,
                bank_tran_id=bank_tran_id,
                attempts=0,
                created_at=now,
                updated_at=now,
            )
        )

    def get(self, payout_id: str) -> Payout | None:
        r = self.conn.execute(select(t.payouts).where(t.payouts.c.id == payout_id)).first()
        return _payout(r) if r else None

    def for_customer(self, customer_id: str, cursor: str | None, limit: int) -> list[Payout]:
        c = t.payouts.c
        q = select(t.payouts).where(c.customer_id == customer_id)
        if cursor:
            q = q.where(c.id < cursor)
        return [_payout(r) for r in self.conn.execute(q.order_by(c.id.desc()).limit(limit))]

    def claim(
        self,
        statuses: tuple[PayoutStatus, ...],
        worker_id: str,
        now: datetime,
        lease_until: datetime,
        limit: int,
        skip_banks: frozenset[str] = frozenset(),
    ) -> list[LeasedPayout]:
        p, a = t.payouts.c, t.bank_accounts.c
        pick = (
            select(p.id)
            .where(p.status.in_([s.value for s in statuses]), due(t.payouts, now))
            # a payment stop holds every payout it covers that the bank has not been asked
            # about; one the bank may have (sending, unknown) is claimed to ask, flagged
            # ``stopped`` so nothing is sent; asking whether a sent one arrived is not
            # paying (stop_filters.py)
            .where(or_(p.status.in_(_ASK_ONLY), ~payout_stopped(t.payouts)))
        )
        if skip_banks:
            closed = select(a.id).where(a.bank_code.in_(sorted(skip_banks)))
            pick = pick.where(p.bank_account_id.not_in(closed))
        pick = pick.order_by(p.id).limit(limit)
        if self.pg:
            pick = pick.with_for_update(skip_locked=True)
        ids = list(self.conn.scalars(pick))
        if not ids:
            return []
        self.conn.execute(
            update(t.payouts)
            .where(p.id.in_(ids))
            .values(
                lease_owner=worker_id,
                lease_expires_at=lease_until,
                attempts=p.attempts + 1,
                # a claim of a sent payout only asks the bank; the others may deposit
                transfer_attempts=p.transfer_attempts
                + case((p.status == PayoutStatus.SENT.value, 0), else_=1),
                updated_at=now,
            )
        )
        rows = self.conn.execute(
            select(
                p.id,
                p.customer_id,
                p.currency,
                p.amount,
                p.status,
                p.bank_tran_id,
                p.attempts,
                p.created_at,
                p.bank_account_id,
                a.bank_code,
                a.account_number_enc,
                a.account_key_id,
                a.holder_name,
                p.bank_closed_from,
                p.bank_closed_until,
                payout_stopped(t.payouts).label("stopped"),
            )
            .join(t.bank_accounts, a.id == p.bank_account_id)
            .where(p.id.in_(ids))
            .order_by(p.id)
        )
        return [LeasedPayout(**{**r._mapping, "stopped": bool(r.stopped)}) for r in rows]

    def transition(self, event: Moved[PayoutStatus], now: datetime) -> bool:
        """Apply the event while the payout is still in its source; False if it is not."""
        assert allows(event.source, event.target), event
        c = t.payouts.c
        n = self.conn.execute(
            update(t.payouts)
            .where(c.id == event.id, c.status == event.source.value)
            .values(status=event.target.value, updated_at=now)
        ).rowcount
        return n == 1

    def transition_leased(
        self,
        event: Moved[PayoutStatus],
        worker_id: str,
        now: datetime,
        *,
        failure_code: str | None = None,
        next_attempt_at: datetime | None = None,
        bank_window_s: int | None = None,
    ) -> bool:
        """Apply the event only while the payout is in its source and leased to
        ``worker_id``; False if not."""
        assert allows(event.source, event.target), event
        target = event.target
        c = t.payouts.c
        values: dict[str, Any] = {
            "status": target.value,
            "updated_at": now,
            "lease_owner": None,
            "lease_expires_at": None,
            "next_attempt_at": next_attempt_at,
        }
        if target == PayoutStatus.SENT:
            values["sent_at"] = now
        if target == PayoutStatus.CONFIRMED:
            values["confirmed_at"] = now
            values["failure_code"] = None  # an 'unconfirmed' flag is settled
        if failure_code is not None:
            values["failure_code"] = failure_code[:64]
        if bank_window_s is not None:
            values["bank_window_s"] = bank_window_s
        n = self.conn.execute(
            update(t.payouts)
            .where(c.id == event.id, c.status == event.source.value, c.lease_owner == worker_id)
            .values(**values)
        ).rowcount
        return n == 1

    def release(
        self,
        payout_id: str,
        worker_id: str,
        next_attempt_at: datetime,
        *,
        failure_code: str | None = None,
    ) -> None:
        c = t.payouts.c
        values: dict[str, Any] = {
            "lease_owner": None,
            "lease_expires_at": None,
            "next_attempt_at": next_attempt_at,
        }
        if failure_code is not None:
            values["failure_code"] = failure_code
        self.conn.execute(
            update(t.payouts).where(c.id == payout_id, c.lease_owner == worker_id).values(**values)
        )

    def release_closed(
        self, payout_id: str, worker_id: str, closed_from: datetime, reopens_at: datetime
    ) -> None:
        c = t.payouts.c
        self.conn.execute(
            update(t.payouts)
            .where(c.id == payout_id, c.lease_owner == worker_id)
            .values(
                lease_owner=None,
                lease_expires_at=None,
                next_attempt_at=reopens_at,
                attempts=c.attempts - 1,  # the claim is given back: the bank did nothing
                bank_closed_from=closed_from,
                bank_closed_until=reopens_at,
            )
        )


class AdminPayouts:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def page(self, status: str | None, before_id: str | None, limit: int) -> list[dict[str, Any]]:
        p = t.payouts.c
        q = select(t.payouts)
        if status is not None:
            q = q.where(p.status == status)
        if before_id is not None:
            q = q.where(p.id < before_id)
        return [dict(r._mapping) for r in self.conn.execute(q.order_by(p.id.desc()).limit(limit))]

    def get(self, payout_id: str) -> dict[str, Any] | None:
        r = self.conn.execute(select(t.payouts).where(t.payouts.c.id == payout_id)).first()
        return dict(r._mapping) if r else None
