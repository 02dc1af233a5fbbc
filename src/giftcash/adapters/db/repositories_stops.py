"""The payment stops repository: stops, what each found (``payment_stop_links``), the
rows a stop covers locked for its transaction, and the tracing chain.

Locks in key order as everywhere here: payouts before items (``record_checks`` and
``_give_back`` in payouts/sending.py take them in that order too), each by primary key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from giftcash.adapters.db import tables as t
from giftcash.adapters.db.ids import new_id
from giftcash.adapters.db.stop_filters import item_stopped, items_of_stop, payout_stopped
from giftcash.service.ports.records import (
    HeldSale,
    PaymentStop,
    StopExposure,
    StopLink,
    TraceRow,
)

_STOP_FIELDS = tuple(f.name for f in fields(PaymentStop))
CHUNK = 500


def _stop(r: Any) -> PaymentStop:
    return PaymentStop(**{k: getattr(r, k) for k in _STOP_FIELDS})


def _live(expires_at: datetime | None, now: datetime) -> bool:
    return expires_at is not None and expires_at > now


class Stops:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"

    def add(self, stop: PaymentStop) -> None:
        self.conn.execute(insert(t.payment_stops).values(**asdict(stop)))

    def get(self, stop_id: str) -> PaymentStop | None:
        s = t.payment_stops.c
        r = self.conn.execute(select(t.payment_stops).where(s.id == stop_id)).first()
        return _stop(r) if r else None

    def page(
        self, state: str | None, cursor: str | None, limit: int, *, requested_by: str | None
    ) -> list[PaymentStop]:
        s = t.payment_stops.c
        q = select(t.payment_stops)
        if state is not None:
            q = q.where(s.state == state)
        if requested_by is not None:
            q = q.where(s.requested_by == requested_by)
        if cursor is not None:
            q = q.where(s.id < cursor)
        return [_stop(r) for r in self.conn.execute(q.order_by(s.id.desc()).limit(limit))]

    def active(self, limit: int) -> list[PaymentStop]:
        s = t.payment_stops.c
        q = select(t.payment_stops).where(s.state == "active").order_by(s.id).limit(limit)
        return [_stop(r) for r in self.conn.execute(q)]

    def close(
        self, stop_id: str, from_state: str, to_state: str, by: str, reason: str, now: datetime
    ) -> bool:
        s = t.payment_stops.c
        n = self.conn.execute(
            update(t.payment_stops)
            .where(s.id == stop_id, s.state == from_state)
            .values(state=to_state, closed_at=now, closed_by=by, close_reason=reason)
        ).rowcount
        return n == 1

    # -- what a stop covers ----------------------------------------------------------------
    def covered(
        self, stop: PaymentStop, now: datetime, *, unlinked_only: bool, limit: int
    ) -> list[StopExposure]:
        i, lk = t.items.c, t.payment_stop_links.c
        which = items_of_stop(stop.scope, stop.customer_id, stop.subject_hmac)
        pick = select(i.id, i.payout_id).where(which)
        if unlinked_only:
            linked = select(lk.item_id).where(lk.stop_id == stop.id)
            pick = pick.where(i.id.not_in(linked))
        found = self.conn.execute(pick.order_by(i.id).limit(limit)).all()
        if not found:
            return []
        item_ids = [r.id for r in found]
        locked: set[str] = set()
        self._lock_payouts({r.payout_id for r in found if r.payout_id}, locked)
        rows = self._items(item_ids, lock=True)
        # a payout made for these items after we first looked (its creation held their
        # locks): locked now, after the items, which no claim waits for in the other order
        late = {r.payout_id for r in rows if r.payout_id and r.payout_id not in locked}
        if late:
            self._lock_payouts(late, locked)
        payouts = self._payouts({r.payout_id for r in rows if r.payout_id})
        out = []
        for r in rows:
            po = payouts.get(r.payout_id) if r.payout_id else None
            out.append(
                StopExposure(
                    item_id=r.id,
                    customer_id=r.customer_id,
                    currency=r.currency,
                    payout_won=r.payout,
                    item_status=r.status,
                    item_leased=_live(r.lease_expires_at, now),
                    payout_id=r.payout_id,
                    payout_status=po.status if po else None,
                    payout_leased=_live(po.lease_expires_at, now) if po else False,
                )
            )
        return out

    def _lock_payouts(self, payout_ids: set[str], locked: set[str]) -> None:
        ids = sorted(payout_ids)
        p = t.payouts.c
        for n in range(0, len(ids), CHUNK):
            q = select(p.id).where(p.id.in_(ids[n : n + CHUNK])).order_by(p.id)
            if self.pg:
                q = q.with_for_update()
            locked.update(self.conn.scalars(q))

    def _items(self, item_ids: list[str], *, lock: bool) -> list[Any]:
        i = t.items.c
        out: list[Any] = []
        for n in range(0, len(item_ids), CHUNK):
            q = (
                select(
                    i.id,
                    i.customer_id,
                    i.currency,
                    i.payout,
                    i.status,
                    i.lease_expires_at,
                    i.payout_id,
                )
                .where(i.id.in_(item_ids[n : n + CHUNK]))
                .order_by(i.id)
            )
            if lock and self.pg:
                q = q.with_for_update()
            out.extend(self.conn.execute(q).all())
        return out

    def _payouts(self, payout_ids: set[str]) -> dict[str, Any]:
        p = t.payouts.c
        ids = sorted(payout_ids)
        out: dict[str, Any] = {}
        for n in range(0, len(ids), CHUNK):
            q = select(p.id, p.status, p.lease_expires_at).where(p.id.in_(ids[n : n + CHUNK]))
            out.update({r.id: r for r in self.conn.execute(q)})
        return out

    def link(self, links: Sequence[StopLink]) -> None:
        rows = [{"id": new_id(), **asdict(x)} for x in links]
        for n in range(0, len(rows), CHUNK):
            self.conn.execute(insert(t.payment_stop_links), rows[n : n + CHUNK])

    def links(self, stop_id: str) -> list[StopLink]:
        lk = t.payment_stop_links.c
        q = (
            select(
                lk.stop_id,
                lk.item_id,
                lk.payout_id,
                lk.finding,
                lk.item_status,
                lk.payout_status,
                lk.at,
            )
            .where(lk.stop_id == stop_id)
            .order_by(lk.item_id)
        )
        return [StopLink(**r._mapping) for r in self.conn.execute(q)]

    def note_outcome(self, item_ids: Sequence[str], code: str, message: str) -> None:
        i = t.items.c
        ids = sorted(item_ids)
        for n in range(0, len(ids), CHUNK):
            self.conn.execute(
                update(t.items)
                .where(i.id.in_(ids[n : n + CHUNK]))
                .values(decline_code=code, decline_message=message)
            )

    def make_due(self, item_ids: Sequence[str]) -> None:
        i = t.items.c
        ids = sorted(item_ids)
        for n in range(0, len(ids), CHUNK):
            self.conn.execute(
                update(t.items)
                .where(i.id.in_(ids[n : n + CHUNK]), i.lease_owner.is_(None))
                .values(next_attempt_at=None)
            )

    def payout_stopped(self, payout_id: str) -> bool:
        p = t.payouts.c
        q = select(p.id).where(p.id == payout_id, payout_stopped(t.payouts))
        return self.conn.execute(q).first() is not None

    # -- reads -----------------------------------------------------------------------------
    def trace(self, stop_id: str, limit: int) -> list[TraceRow]:
        lk, i, s, c = t.payment_stop_links.c, t.items.c, t.submissions.c, t.customers.c
        p, a = t.payouts.c, t.bank_accounts.c
        q = (
            select(
                lk.stop_id,
                lk.finding,
                i.masked_code,
                i.brand_id,
                i.issuer,
                i.currency,
                i.face_value,
                i.payout.label("payout_won"),
                i.id.label("item_id"),
                i.status.label("item_status"),
                i.created_at.label("item_created_at"),
                i.redeemed_at,
                s.id.label("submission_id"),
                s.created_at.label("submission_created_at"),
                c.id.label("customer_id"),
                c.name.label("customer_name"),
                p.id.label("payout_id"),
                p.status.label("payout_status"),
                p.amount.label("payout_amount"),
                p.bank_tran_id,
                p.sent_at.label("payout_sent_at"),
                p.confirmed_at.label("payout_confirmed_at"),
                a.bank_code,
                a.account_number_masked.label("account_masked"),
                a.holder_name.label("account_holder"),
            )
            .select_from(t.payment_stop_links)
            .join(t.items, i.id == lk.item_id)
            .join(t.submissions, s.id == i.submission_id)
            .join(t.customers, c.id == i.customer_id)
            # the payout that carries the item now, or the one the stop found it in
            .outerjoin(t.payouts, p.id == func.coalesce(i.payout_id, lk.payout_id))
            .join(t.bank_accounts, a.id == s.bank_account_id)
            .where(lk.stop_id == stop_id)
            .order_by(i.id)
            .limit(limit)
        )
        return [TraceRow(**r._mapping) for r in self.conn.execute(q)]

    def held_sales(self, customer_id: str) -> list[HeldSale]:
        i, st = t.items.c, t.payment_stops.c
        active = t.payment_stops
        open_items = select(i.id, i.code_hmac, i.submission_id).where(
            i.customer_id == customer_id,
            i.status.not_in(("declined", "invalid", "failed", "paid", "withheld")),
            item_stopped(t.items),
        )
        ids = {r.id: r for r in self.conn.execute(open_items)}
        if not ids:
            return []
        out: list[HeldSale] = []
        for stop in self.conn.execute(
            select(active).where(st.state == "active").order_by(st.created_at)
        ):
            covered = select(i.id).where(
                i.id.in_(list(ids)),
                items_of_stop(stop.scope, stop.customer_id, stop.subject_hmac),
            )
            for item_id in self.conn.scalars(covered):
                out.append(
                    HeldSale(
                        item_id=item_id,
                        submission_id=ids[item_id].submission_id,
                        stop_id=stop.id,
                        requester=stop.requester,
                        requester_name=stop.requester_name,
                        requester_contact=stop.requester_contact,
                        since=stop.created_at,
                    )
                )
        return out
