"""Repositories for submissions, items, payouts and the code registry.

Every status change goes through ``domain.states`` (``advance_*``) and writes an
``item_events`` row; claims take a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the
``BEGIN IMMEDIATE`` write lock on SQLite) so a dead worker's rows come back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, case, func, insert, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from giftcash.adapters.db import tables as t
from giftcash.adapters.db.ids import new_id
from giftcash.adapters.db.repositories_notices import NOTICE_OF_ITEM, NOTICE_OF_PAYOUT, Notices
from giftcash.adapters.db.repositories_webhooks import Webhooks
from giftcash.domain.errors import IllegalTransition
from giftcash.domain.records import Item, Payout, Submission
from giftcash.domain.states import ItemStatus, PayoutStatus, advance_item, advance_payout
from giftcash.service.ports.records import LeasedItem, LeasedPayout, NewItem, PayableGroup

CHUNK = 500


def _chunks(seq: Sequence[Any], n: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def _due(table: Any, now: datetime) -> Any:
    c = table.c
    return and_(
        or_(c.lease_expires_at.is_(None), c.lease_expires_at < now),
        or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now),
    )


class Submissions:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self, id: str, customer_id: str, bank_account_id: str, item_count: int, now: datetime
    ) -> None:
        self.conn.execute(
            insert(t.submissions).values(
                id=id,
                customer_id=customer_id,
                bank_account_id=bank_account_id,
                status="received",
                item_count=item_count,
                created_at=now,
            )
        )

    def get(self, submission_id: str) -> Submission | None:
        r = self.conn.execute(
            select(t.submissions).where(t.submissions.c.id == submission_id)
        ).first()
        return _submission(r) if r else None

    def move_to_account(self, submission_id: str, current: str, target: str) -> bool:
        """Point the submission at ``target`` if it still names ``current``."""
        c = t.submissions.c
        moved = self.conn.execute(
            update(t.submissions)
            .where(c.id == submission_id, c.bank_account_id == current)
            .values(bank_account_id=target)
        )
        return moved.rowcount == 1

    def for_customer(self, customer_id: str, cursor: str | None, limit: int) -> list[Submission]:
        c = t.submissions.c
        q = select(t.submissions).where(c.customer_id == customer_id)
        if cursor:
            q = q.where(c.id < cursor)
        rows = self.conn.execute(q.order_by(c.id.desc()).limit(limit))
        return [_submission(r) for r in rows]


def _submission(r: Any) -> Submission:
    return Submission(
        id=r.id,
        customer_id=r.customer_id,
        bank_account_id=r.bank_account_id,
        status=r.status,
        item_count=r.item_count,
        created_at=r.created_at,
    )


# What an outcome may set besides the status (see ``Items.transition_leased``).
LEASED_FIELDS = frozenset(
    {
        "hold_until",
        "warning",
        "decision",
        "review_reason",
        "flags",
        "purchase_channel",
        "issuer_purchased_at",
        "issuer_expires_at",
    }
)

ITEM_COLUMNS = (
    "id",
    "submission_id",
    "customer_id",
    "brand_id",
    "issuer",
    "currency",
    "face_value",
    "fee",
    "payout",
    "funding_source",
    "status",
    "masked_code",
    "decline_code",
    "decline_message",
    "payout_id",
    "attempts",
    "created_at",
    "updated_at",
    "warning",
    "hold_until",
    "decision",
    "review_reason",
)


def _item(r: Any) -> Item:
    return Item(**{k: getattr(r, k) for k in ITEM_COLUMNS})


class Items:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"

    # -- intake and reads -------------------------------------------------------------
    def add_many(self, items: Sequence[NewItem], now: datetime) -> None:
        for chunk in _chunks(list(items)):  # one chunk of parameter dicts alive at a time
            values = [asdict(it) | {"created_at": now, "updated_at": now} for it in chunk]
            self.conn.execute(insert(t.items), values)
        self._events([(it.id, None, it.status, it.decline_code) for it in items], now)

    def get(self, item_id: str) -> Item | None:
        r = self.conn.execute(select(t.items).where(t.items.c.id == item_id)).first()
        return _item(r) if r else None

    def for_submission(self, submission_id: str) -> list[Item]:
        c = t.items.c
        rows = self.conn.execute(
            select(*(getattr(c, k) for k in ITEM_COLUMNS))
            .where(c.submission_id == submission_id)
            .order_by(c.id)
        )
        return [_item(r) for r in rows]

    def statuses_by_submission(self, submission_ids: list[str]) -> dict[str, set[str]]:
        c = t.items.c
        out: dict[str, set[str]] = {}
        for chunk in _chunks(submission_ids):
            for sid, status in self.conn.execute(
                select(c.submission_id, c.status).where(c.submission_id.in_(chunk)).distinct()
            ):
                out.setdefault(sid, set()).add(status)
        return out

    # -- facts for the policy engine -----------------------------------------------------
    def count_paid(self, customer_id: str) -> int:
        c = t.items.c
        q = select(func.count()).where(c.customer_id == customer_id, c.status == "paid")
        return int(self.conn.execute(q).scalar_one())

    def day_totals(
        self,
        *,
        since: datetime,
        customer_id: str | None = None,
        account_id: str | None = None,
        exclude_submission: str | None = None,
    ) -> tuple[int, int]:
        """Items (and their face value) sold since ``since`` and not declined."""
        c, s = t.items.c, t.submissions.c
        q = select(func.count(), func.coalesce(func.sum(c.face_value), 0)).where(
            c.created_at >= since, c.status.not_in(("declined",))
        )
        if customer_id is not None:
            q = q.where(c.customer_id == customer_id)
        if account_id is not None:
            q = q.join(t.submissions, s.id == c.submission_id).where(
                s.bank_account_id == account_id
            )
        if exclude_submission is not None:
            q = q.where(c.submission_id != exclude_submission)
        n, value = self.conn.execute(q).one()
        return int(n), int(value)

    def sightings(self, hmacs: list[str]) -> dict[str, list[tuple[str, str | None]]]:
        c = t.items.c
        out: dict[str, list[tuple[str, str | None]]] = {}
        for chunk in _chunks(hmacs):
            for h, cid, code in self.conn.execute(
                select(c.code_hmac, c.customer_id, c.decline_code).where(c.code_hmac.in_(chunk))
            ):
                out.setdefault(h, []).append((cid, code))
        return out

    def release_code(self, item_id: str) -> None:
        """Forget the registry entry of an item declined for a 'not now' reason, so the
        code can be offered again later."""
        self.conn.execute(t.code_registry.delete().where(t.code_registry.c.item_id == item_id))

    def submission_value(self, submission_id: str) -> int:
        c = t.items.c
        q = select(func.coalesce(func.sum(c.face_value), 0)).where(
            c.submission_id == submission_id, c.status != "declined"
        )
        return int(self.conn.execute(q).scalar_one())

    def ids_for_payout(self, payout_id: str) -> list[str]:
        c = t.items.c
        return list(self.conn.scalars(select(c.id).where(c.payout_id == payout_id).order_by(c.id)))

    def ids_in_status(self, status: ItemStatus, limit: int, now: datetime) -> list[str]:
        c = t.items.c
        q = select(c.id).where(c.status == status.value, _due(t.items, now)).order_by(c.id)
        q = q.limit(limit)
        if self.pg:
            q = q.with_for_update(skip_locked=True)
        return list(self.conn.scalars(q))

    # -- transitions ------------------------------------------------------------------
    def transition(
        self,
        ids: Sequence[str],
        current: ItemStatus,
        target: ItemStatus,
        now: datetime,
        *,
        set_redeem_key: bool = False,
        payout_id: str | None = None,
        clear_payout: bool = False,
    ) -> None:
        advance_item(current, target)
        c = t.items.c
        values: dict[str, Any] = {"status": target.value, "updated_at": now}
        if set_redeem_key:
            values["redeem_key"] = literal("rdm_") + c.id
            values["attempts"] = 0
        if payout_id is not None:
            values["payout_id"] = payout_id
        if clear_payout:
            values["payout_id"] = None
        for chunk in _chunks(list(ids)):
            n = self.conn.execute(
                update(t.items).where(c.id.in_(chunk), c.status == current.value).values(**values)
            ).rowcount
            if n != len(chunk):
                raise IllegalTransition(
                    f"{len(chunk) - n} of {len(chunk)} items were no longer {current.value}",
                    current=current.value,
                    target=target.value,
                )
        self._events([(i, current.value, target.value, None) for i in ids], now)

    def transition_leased(
        self,
        item_id: str,
        worker_id: str,
        current: ItemStatus,
        target: ItemStatus,
        now: datetime,
        *,
        decline: tuple[str, str] | None = None,
        redeemed: bool = False,
        purchase_channel: str | None = None,
        redemption_id: str | None = None,
        set_redeem_key: bool = False,
        facts: Mapping[str, object] | None = None,
    ) -> bool:
        """Record an outcome only while the lease is still ours; False if it is not.
        ``facts``: policy facts (``hold_until``, ``warning``, ``decision``...)."""
        advance_item(current, target)
        c = t.items.c
        fields = dict(facts or {})
        unknown = set(fields) - LEASED_FIELDS
        assert not unknown, unknown
        values: dict[str, Any] = {
            "status": target.value,
            "updated_at": now,
            "lease_owner": None,
            "lease_expires_at": None,
            "next_attempt_at": None,
            **fields,
        }
        if set_redeem_key:
            values["redeem_key"] = literal("rdm_") + c.id
            values["attempts"] = 0
        if decline is not None:
            values["decline_code"], values["decline_message"] = decline
        if redeemed:
            values["redeemed_at"] = now
        if purchase_channel is not None:
            values["purchase_channel"] = purchase_channel
        if redemption_id is not None:
            values["issuer_redemption_id"] = redemption_id
        n = self.conn.execute(
            update(t.items)
            .where(c.id == item_id, c.status == current.value, c.lease_owner == worker_id)
            .values(**values)
        ).rowcount
        if n == 1:
            self._events(
                [(item_id, current.value, target.value, decline[0] if decline else None)], now
            )
        return n == 1

    def transition_leased_many(
        self,
        changes: Sequence[tuple[str, Mapping[str, object]]],
        worker_id: str,
        current: ItemStatus,
        target: ItemStatus,
        now: datetime,
        *,
        redeemed: bool = False,
        set_redeem_key: bool = False,
    ) -> set[str]:
        """``transition_leased`` for a batch making the same move: ``changes`` holds
        (item id, policy facts) per item. Answers the ids moved, those whose lease is still
        ours (locked first, so the answer holds until commit); the rest are left alone.
        A few statements per batch instead of three per item: the worker's happy path."""
        advance_item(current, target)
        if not changes:
            return set()
        c = t.items.c
        owned: set[str] = set()
        for chunk in _chunks([item_id for item_id, _ in changes]):
            mine = select(c.id).where(
                c.id.in_(chunk), c.status == current.value, c.lease_owner == worker_id
            )
            if self.pg:
                mine = mine.with_for_update()
            owned.update(self.conn.scalars(mine))
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for item_id, fields in changes:
            unknown = set(fields) - LEASED_FIELDS
            assert not unknown, unknown
            if item_id in owned:
                params = {"b_id": item_id, **{f"v_{k}": v for k, v in fields.items()}}
                groups.setdefault(tuple(sorted(fields)), []).append(params)
        for names, params in groups.items():  # one executemany per set of fact names
            values: dict[str, Any] = {
                "status": target.value,
                "updated_at": now,
                "lease_owner": None,
                "lease_expires_at": None,
                "next_attempt_at": None,
                **{name: bindparam(f"v_{name}") for name in names},
            }
            if set_redeem_key:
                values["redeem_key"] = literal("rdm_") + c.id
                values["attempts"] = 0
            if redeemed:
                values["redeemed_at"] = now
            stmt = (
                update(t.items)
                .where(
                    c.id == bindparam("b_id"),
                    c.status == current.value,
                    c.lease_owner == worker_id,
                )
                .values(**values)
            )
            n = self.conn.execute(stmt, params).rowcount
            assert n in (len(params), -1), (n, len(params))  # -1: the driver cannot say
        moved = [item_id for item_id, _ in changes if item_id in owned]
        self._events([(item_id, current.value, target.value, None) for item_id in moved], now)
        return owned

    def release(self, item_id: str, worker_id: str, next_attempt_at: datetime) -> None:
        c = t.items.c
        self.conn.execute(
            update(t.items)
            .where(c.id == item_id, c.lease_owner == worker_id)
            .values(lease_owner=None, lease_expires_at=None, next_attempt_at=next_attempt_at)
        )

    def claim(
        self, status: ItemStatus, worker_id: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[dict[str, Any]]:
        """Lease up to ``limit`` due items in ``status``; counts the attempt (the intent)."""
        c = t.items.c
        pick = select(c.id).where(c.status == status.value, _due(t.items, now)).order_by(c.id)
        pick = pick.limit(limit)
        if self.pg:
            pick = pick.with_for_update(skip_locked=True)
        ids = list(self.conn.scalars(pick))
        if not ids:
            return []
        rows = self.conn.execute(
            update(t.items)
            .where(c.id.in_(ids), c.status == status.value)
            .values(
                lease_owner=worker_id,
                lease_expires_at=lease_until,
                attempts=c.attempts + 1,
                updated_at=now,
            )
            .returning(
                c.id,
                c.customer_id,
                c.issuer,
                c.brand_id,
                c.currency,
                c.face_value,
                c.payout,
                c.funding_source,
                c.redeem_key,
                c.code_enc,
                c.pin_enc,
                c.key_id,
                c.attempts,
                c.submission_id,
                c.reviewed_at,
                c.decision,
                c.hold_until,
            )
        )
        return [LeasedItem(**r._mapping) for r in rows]

    # -- payouts ----------------------------------------------------------------------
    def payable_groups(self, now: datetime, limit: int) -> list[PayableGroup]:
        """Redeemed items grouped by customer and account (verified accounts only)."""
        i, s, a = t.items.c, t.submissions.c, t.bank_accounts.c
        q = (
            select(i.id, i.customer_id, i.currency, i.payout, s.bank_account_id)
            .join(t.submissions, s.id == i.submission_id)
            .join(t.bank_accounts, a.id == s.bank_account_id)
            .where(i.status == ItemStatus.REDEEMED.value, a.status == "verified")
            .where(or_(i.hold_until.is_(None), i.hold_until <= now))
            .order_by(i.id)
            .limit(limit * 50)
        )
        if self.pg:
            q = q.with_for_update(of=t.items, skip_locked=True)
        groups: dict[tuple[str, str, str], PayableGroup] = {}
        for r in self.conn.execute(q):
            key = (r.customer_id, r.bank_account_id, r.currency)
            g = groups.get(key)
            if g is None:
                if len(groups) >= limit:
                    continue
                g = groups[key] = PayableGroup(r.customer_id, r.bank_account_id, r.currency, [], 0)
            g.item_ids.append(r.id)
            groups[key] = PayableGroup(
                g.customer_id, g.bank_account_id, g.currency, g.item_ids, g.amount + r.payout
            )
        return list(groups.values())

    def transition_payout(
        self, payout_id: str, current: ItemStatus, target: ItemStatus, now: datetime
    ) -> None:
        ids = self.ids_for_payout(payout_id)
        self.transition(ids, current, target, now)

    def return_from_payout(self, payout_id: str, now: datetime) -> None:
        ids = self.ids_for_payout(payout_id)
        self.transition(ids, ItemStatus.PAYING, ItemStatus.REDEEMED, now, clear_payout=True)

    # -- events -----------------------------------------------------------------------
    def _events(
        self, changes: list[tuple[str, str | None, str, str | None]], now: datetime
    ) -> None:
        rows = [
            {
                "id": new_id(),
                "item_id": item_id,
                "from_status": old,
                "to_status": new,
                "at": now,
                "detail": {"code": note} if note else None,
            }
            for item_id, old, new, note in changes
        ]
        for chunk in _chunks(rows):
            self.conn.execute(insert(t.item_events), list(chunk))
        self._announce(changes, now)

    def _announce(
        self, changes: list[tuple[str, str | None, str, str | None]], now: datetime
    ) -> None:
        """Queue ``item.updated`` webhooks and the customer's notices (declined; held for
        review) in the same transaction as the change."""
        self._queue_notices(changes, now)
        hooks = Webhooks(self.conn)
        if not changes or not hooks.any_endpoint():
            return
        c = t.items.c
        owners: dict[str, tuple[str, str]] = {}
        for chunk in _chunks([ch[0] for ch in changes]):
            for r in self.conn.execute(
                select(c.id, c.customer_id, c.submission_id).where(c.id.in_(chunk))
            ):
                owners[r.id] = (r.customer_id, r.submission_id)
        events = [
            (
                owners[item_id][0],
                "item.updated",
                {
                    "id": item_id,
                    "submission_id": owners[item_id][1],
                    "status": new,
                    "previous_status": old,
                    "reason": note,
                },
            )
            for item_id, old, new, note in changes
            if item_id in owners
        ]
        hooks.enqueue(events, now)

    def _queue_notices(
        self, changes: list[tuple[str, str | None, str, str | None]], now: datetime
    ) -> None:
        told = {i: new for i, _old, new, _note in changes if new in NOTICE_OF_ITEM}
        if not told:
            return
        c = t.items.c
        events = []
        for chunk in _chunks(sorted(told)):
            for r in self.conn.execute(
                select(c.id, c.customer_id, c.submission_id).where(c.id.in_(chunk))
            ):
                event = NOTICE_OF_ITEM[told[r.id]]
                # held: one notice per sale, however many of its items wait
                subject = r.submission_id if event == "held" else r.id
                events.append((r.customer_id, event, subject))
        Notices(self.conn).queue(events, now)

    def counts_by_status(self) -> dict[str, int]:
        from sqlalchemy import func

        c = t.items.c
        return dict(self.conn.execute(select(c.status, func.count()).group_by(c.status)).all())


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
    ) -> list[dict[str, Any]]:
        p, a = t.payouts.c, t.bank_accounts.c
        pick = (
            select(p.id)
            .where(p.status.in_([s.value for s in statuses]), _due(t.payouts, now))
            .order_by(p.id)
            .limit(limit)
        )
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
            )
            .join(t.bank_accounts, a.id == p.bank_account_id)
            .where(p.id.in_(ids))
            .order_by(p.id)
        )
        return [LeasedPayout(**r._mapping) for r in rows]

    def transition(
        self, payout_id: str, current: PayoutStatus, target: PayoutStatus, now: datetime
    ) -> None:
        advance_payout(current, target)
        c = t.payouts.c
        n = self.conn.execute(
            update(t.payouts)
            .where(c.id == payout_id, c.status == current.value)
            .values(status=target.value, updated_at=now)
        ).rowcount
        if n != 1:
            raise IllegalTransition(f"payout is no longer {current.value}")
        self._queue_notice(payout_id, target, now)

    def transition_leased(
        self,
        payout_id: str,
        worker_id: str,
        current: PayoutStatus | str,
        target: PayoutStatus,
        now: datetime,
        *,
        failure_code: str | None = None,
        next_attempt_at: datetime | None = None,
    ) -> bool:
        current = PayoutStatus(current)
        advance_payout(current, target)
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
        n = self.conn.execute(
            update(t.payouts)
            .where(c.id == payout_id, c.status == current.value, c.lease_owner == worker_id)
            .values(**values)
        ).rowcount
        if n == 1:
            self._announce(payout_id, current, target, now)
        return n == 1

    def _queue_notice(self, payout_id: str, target: PayoutStatus, now: datetime) -> None:
        """The customer's notice of a paid or returned payout, in the change's transaction."""
        event = NOTICE_OF_PAYOUT.get(target)
        if event is not None:
            owner = self.conn.execute(
                select(t.payouts.c.customer_id).where(t.payouts.c.id == payout_id)
            ).scalar_one()
            Notices(self.conn).queue([(owner, event, payout_id)], now)

    def _announce(
        self, payout_id: str, current: PayoutStatus, target: PayoutStatus, now: datetime
    ) -> None:
        self._queue_notice(payout_id, target, now)
        hooks = Webhooks(self.conn)
        if not hooks.any_endpoint():
            return
        p = self.get(payout_id)
        assert p is not None
        data = {
            "id": p.id,
            "status": target.value,
            "previous_status": current.value,
            "amount": p.amount,
            "currency": p.currency,
            "bank_account_id": p.bank_account_id,
        }
        hooks.enqueue([(p.customer_id, "payout.updated", data)], now)

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


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


class Workers:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"

    def beat(self, worker_id: str, now: datetime) -> None:
        ins = (pg_insert if self.pg else sqlite_insert)(t.worker_heartbeats).values(
            worker_id=worker_id, seen_at=now
        )
        self.conn.execute(
            ins.on_conflict_do_update(index_elements=["worker_id"], set_={"seen_at": now})
        )

    def latest(self) -> datetime | None:
        from sqlalchemy import func

        return self.conn.execute(select(func.max(t.worker_heartbeats.c.seen_at))).scalar()


class Failures:
    """Failed attempts (invalid codes, bad logins, bad SMS codes) for the brute-force guard."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self,
        kind: str,
        now: datetime,
        *,
        customer_id: str | None = None,
        device_key: str | None = None,
    ) -> None:
        self.conn.execute(
            insert(t.failed_attempts).values(
                id=new_id(), kind=kind, customer_id=customer_id, device_key=device_key, at=now
            )
        )

    def count(
        self,
        *,
        since: datetime,
        customer_id: str | None = None,
        device_key: str | None = None,
        kinds: Sequence[str] | None = None,
    ) -> int:
        c = t.failed_attempts.c
        q = select(func.count()).where(c.at >= since)
        if kinds is not None:
            q = q.where(c.kind.in_(list(kinds)))
        if customer_id is not None:
            q = q.where(c.customer_id == customer_id)
        if device_key is not None:
            q = q.where(c.device_key == device_key)
        return int(self.conn.execute(q).scalar_one())
