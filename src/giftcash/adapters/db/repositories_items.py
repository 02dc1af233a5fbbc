"""The items repository: the code registry's sightings, a customer's day, claims, and
every item's status change (the submissions, payouts and heartbeats are in
``repositories_submissions.py``, ``repositories_payouts.py``, ``repositories_ops.py``).

Every status change goes through ``domain.states`` (``advance_*``) and writes an
``item_events`` row; claims take a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the
``BEGIN IMMEDIATE`` write lock on SQLite) so a dead worker's rows come back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, or_, select, update

from giftcash.adapters.db import items_driver
from giftcash.adapters.db import tables as t
from giftcash.adapters.db.ids import new_ids
from giftcash.adapters.db.leases import due
from giftcash.adapters.db.stop_filters import item_stopped
from giftcash.domain.records import Item
from giftcash.domain.states import ItemStatus, Moved, allows
from giftcash.service.ports.records import LeasedItem, NewItem, PayableGroup

CHUNK = 500
# what a payout carries: a redeemed item, and a resell brand's stocked one
PAYABLE = (ItemStatus.REDEEMED.value, ItemStatus.STOCKED.value)


def _chunks(seq: Sequence[Any], n: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


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
        "redeem_key",  # the issuer call's idempotency key, made by the service
        "attempts",
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
        # At the driver level (items_driver): each row a plain tuple, serialised once, for
        # the DB-API cursor's executemany, one chunk of rows alive at a time.
        for chunk in _chunks(items):
            items_driver.insert_items(self.conn, chunk, now)
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
        q = select(c.id).where(c.status == status.value, due(t.items, now)).order_by(c.id)
        q = q.limit(limit)
        if self.pg:
            q = q.with_for_update(skip_locked=True)
        return list(self.conn.scalars(q))

    # -- transitions ------------------------------------------------------------------
    def transition(
        self,
        events: Sequence[Moved[ItemStatus]],
        now: datetime,
        *,
        payout_id: str | None = None,
        clear_payout: bool = False,
    ) -> set[str]:
        """Apply each event to its item while the item is still in the event's source;
        answers the ids that moved (the others were moved first: a lost race)."""
        c = t.items.c
        by_move: dict[tuple[ItemStatus, ItemStatus], list[str]] = {}
        for e in events:
            assert allows(e.source, e.target), e
            by_move.setdefault((e.source, e.target), []).append(e.id)
        values: dict[str, Any] = {"updated_at": now}
        if payout_id is not None:
            values["payout_id"] = payout_id
        if clear_payout:
            values["payout_id"] = None
        moved: set[str] = set()
        for (source, target), ids in by_move.items():
            for chunk in _chunks(ids):
                moved.update(
                    self.conn.scalars(
                        update(t.items)
                        .where(c.id.in_(chunk), c.status == source.value)
                        .values(status=target.value, **values)
                        .returning(c.id)
                    )
                )
        self._applied([e for e in events if e.id in moved], now)
        return moved

    def transition_leased(
        self,
        event: Moved[ItemStatus],
        worker_id: str,
        now: datetime,
        *,
        decline: tuple[str, str] | None = None,
        redeemed: bool = False,
        purchase_channel: str | None = None,
        redemption_id: str | None = None,
        facts: Mapping[str, object] | None = None,
    ) -> bool:
        """Apply the event only while the item is in its source and leased to
        ``worker_id``; False if not (the lease ran out and another worker took it).
        ``facts``: policy facts (``hold_until``, ``warning``, ``decision``...) and the
        idempotency key of the issuer call (``redeem_key``, with ``attempts``)."""
        assert allows(event.source, event.target), event
        assert decline is None or decline[0] == event.reason, (decline, event)
        c = t.items.c
        fields = dict(facts or {})
        unknown = set(fields) - LEASED_FIELDS
        assert not unknown, unknown
        values: dict[str, Any] = {
            "status": event.target.value,
            "updated_at": now,
            "lease_owner": None,
            "lease_expires_at": None,
            "next_attempt_at": None,
            **fields,
        }
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
            .where(c.id == event.id, c.status == event.source.value, c.lease_owner == worker_id)
            .values(**values)
        ).rowcount
        if n == 1:
            self._applied([event], now)
        return n == 1

    def transition_leased_many(
        self,
        changes: Sequence[tuple[Moved[ItemStatus], Mapping[str, object]]],
        worker_id: str,
        now: datetime,
        *,
        redeemed: bool = False,
    ) -> set[str]:
        """``transition_leased`` for a batch making the same move: ``changes`` holds
        (event, facts) per item. Answers the ids moved, those whose lease is still ours
        (locked first, so the answer holds until commit); the rest are left alone.
        A few statements per batch instead of three per item: the worker's happy path."""
        if not changes:
            return set()
        source, target = changes[0][0].source, changes[0][0].target
        assert allows(source, target), changes[0][0]
        assert all((e.source, e.target) == (source, target) for e, _ in changes), "one move"
        c = t.items.c
        owned: set[str] = set()
        for chunk in _chunks([e.id for e, _ in changes]):
            mine = select(c.id).where(
                c.id.in_(chunk), c.status == source.value, c.lease_owner == worker_id
            )
            if self.pg:
                mine = mine.with_for_update()
            owned.update(self.conn.scalars(mine))
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for event, fields in changes:
            unknown = set(fields) - LEASED_FIELDS
            assert not unknown, unknown
            if event.id in owned:
                params = {"b_id": event.id, **{f"v_{k}": v for k, v in fields.items()}}
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
            if redeemed:
                values["redeemed_at"] = now
            stmt = (
                update(t.items)
                .where(
                    c.id == bindparam("b_id"),
                    c.status == source.value,
                    c.lease_owner == worker_id,
                )
                .values(**values)
            )
            n = self.conn.execute(stmt, params).rowcount
            assert n in (len(params), -1), (n, len(params))  # -1: the driver cannot say
        self._applied([e for e, _ in changes if e.id in owned], now)
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
        """Lease up to ``limit`` due items in ``status``; counts the attempt (the intent).
        An item an active payment stop covers is not taken (stop_filters.py)."""
        c = t.items.c
        allowed = ~item_stopped(t.items)
        if status is ItemStatus.REDEEMING:
            # one whose earlier call may have captured is claimed to ask, flagged
            # ``stopped``: the issuer is asked about that call, never sent a new one
            allowed = or_(allowed, c.attempts > 0)
        pick = (
            select(c.id).where(c.status == status.value, due(t.items, now), allowed).order_by(c.id)
        )
        pick = pick.limit(limit)
        if self.pg:
            pick = pick.with_for_update(skip_locked=True)
        ids = list(self.conn.scalars(pick))
        if not ids:
            return []
        stopped = set(self.conn.scalars(select(c.id).where(c.id.in_(ids), item_stopped(t.items))))
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
        return [LeasedItem(**r._mapping, stopped=r.id in stopped) for r in rows]

    # -- payouts ----------------------------------------------------------------------
    def payable_groups(self, now: datetime, limit: int) -> list[PayableGroup]:
        """Redeemed and stocked items (what their sellers are owed) grouped by customer and
        account (verified accounts only)."""
        i, s, a = t.items.c, t.submissions.c, t.bank_accounts.c
        q = (
            select(i.id, i.customer_id, i.currency, i.payout, s.bank_account_id)
            .join(t.submissions, s.id == i.submission_id)
            .join(t.bank_accounts, a.id == s.bank_account_id)
            .where(i.status.in_(PAYABLE), a.status == "verified")
            .where(or_(i.hold_until.is_(None), i.hold_until <= now))
            .where(~item_stopped(t.items))  # a payment stop holds it (stop_filters.py)
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

    # -- events -----------------------------------------------------------------------
    def _applied(self, moved: Sequence[Moved[ItemStatus]], now: datetime) -> None:
        self._events([(e.id, e.source.value, e.target.value, e.reason) for e in moved], now)

    def _events(
        self, changes: list[tuple[str, str | None, str, str | None]], now: datetime
    ) -> None:
        """The items' history (``item_events``): one row per creation or event applied."""
        for chunk in _chunks(changes):
            items_driver.insert_events(self.conn, new_ids(len(chunk)), chunk, now)

    def owners(self, item_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """Item id -> (customer id, submission id)."""
        c = t.items.c
        out: dict[str, tuple[str, str]] = {}
        for chunk in _chunks(sorted(set(item_ids))):
            for r in self.conn.execute(
                select(c.id, c.customer_id, c.submission_id).where(c.id.in_(chunk))
            ):
                out[r.id] = (r.customer_id, r.submission_id)
        return out

    def counts_by_status(self) -> dict[str, int]:
        from sqlalchemy import func

        c = t.items.c
        return dict(self.conn.execute(select(c.status, func.count()).group_by(c.status)).all())


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)
