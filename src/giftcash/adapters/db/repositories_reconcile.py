"""Reconciliation's repository (``reconcile/matching.py``): statement lines stored once under
the bank's key, what our books say about a ``bank_tran_id`` or a redemption key, and the
issuers' balances in the ledger."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, insert, select, tuple_

from giftcash.adapters.db import tables as t
from giftcash.service.ports.records import OrderDeposit, RecordedDeposit

CHUNK = 500
_DEPOSIT = tuple(OrderDeposit.__dataclass_fields__)


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class Reconciliation:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- the bank ------------------------------------------------------------------------
    def payouts_by_tran_id(self, tran_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        p = t.payouts.c
        out: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(sorted(set(tran_ids))):
            rows = self.conn.execute(
                select(p.id, p.bank_tran_id, p.amount, p.currency, p.status, p.sent_at).where(
                    p.bank_tran_id.in_(chunk)
                )
            )
            out.update({r.bank_tran_id: dict(r._mapping) for r in rows})
        return out

    def verifications_by_tran_id(self, tran_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """1-won deposits by their ``bank_tran_id``; ``booked`` when the ledger has them."""
        a, lt = t.bank_accounts.c, t.ledger_transfers.c
        out: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(sorted(set(tran_ids))):
            rows = self.conn.execute(
                select(a.id, a.verify_bank_tran_id, a.status, lt.id.label("transfer_id"))
                .outerjoin(
                    t.ledger_transfers,
                    and_(lt.kind == "account_verification", lt.ref == a.id),
                )
                .where(a.verify_bank_tran_id.in_(chunk))
            )
            for r in rows:
                out[r.verify_bank_tran_id] = {
                    "id": r.id,
                    "status": r.status,
                    "booked": r.transfer_id is not None,
                }
        return out

    def stored_lines(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """(bank_tran_id, direction) -> line_hash of lines imported before."""
        c = t.bank_statement_lines.c
        out: dict[tuple[str, str], str] = {}
        for chunk in _chunks(sorted(set(keys))):
            rows = self.conn.execute(
                select(c.bank_tran_id, c.direction, c.line_hash).where(
                    tuple_(c.bank_tran_id, c.direction).in_(list(chunk))
                )
            )
            out.update({(r.bank_tran_id, r.direction): r.line_hash for r in rows})
        return out

    def add_lines(self, rows: Sequence[dict[str, Any]]) -> None:
        for chunk in _chunks(list(rows)):
            self.conn.execute(insert(t.bank_statement_lines), list(chunk))

    def imported_out_days(self, tran_ids: Sequence[str]) -> dict[str, date]:
        """bank_tran_id -> the day an earlier statement booked it (direction out)."""
        c = t.bank_statement_lines.c
        out: dict[str, date] = {}
        for chunk in _chunks(sorted(set(tran_ids))):
            rows = self.conn.execute(
                select(c.bank_tran_id, c.booked_on).where(
                    c.bank_tran_id.in_(chunk), c.direction == "out"
                )
            )
            out.update({r.bank_tran_id: r.booked_on for r in rows})
        return out

    def expected_at_bank(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """What our books say left the operating account in [since, until): payouts the
        bank accepted, and the 1-won deposits booked in the ledger."""
        p, a, lt = t.payouts.c, t.bank_accounts.c, t.ledger_transfers.c
        payouts = self.conn.execute(
            select(p.id, p.bank_tran_id, p.amount, p.currency, p.status, p.sent_at).where(
                p.status.in_(("sent", "confirmed", "returned")),
                p.sent_at >= since,
                p.sent_at < until,
            )
        )
        out = [
            {
                "kind": "payout",
                "ref": r.id,
                "bank_tran_id": r.bank_tran_id,
                "amount": r.amount,
                "currency": r.currency,
                "books_status": r.status,
                "at": r.sent_at,
            }
            for r in payouts
        ]
        verifications = self.conn.execute(
            select(a.id, a.verify_bank_tran_id, a.status, lt.currency, lt.created_at)
            .join(t.ledger_transfers, and_(lt.kind == "account_verification", lt.ref == a.id))
            .where(lt.created_at >= since, lt.created_at < until)
        )
        out += [
            {
                "kind": "verification",
                "ref": r.id,
                "bank_tran_id": r.verify_bank_tran_id,
                "amount": None,  # the service knows the amount of a verification
                "currency": r.currency,
                "books_status": r.status,
                "at": r.created_at,
            }
            for r in verifications
        ]
        return out

    # -- the virtual accounts' deposits --------------------------------------------------
    def _deposits(self, *where: Any) -> list[RecordedDeposit]:
        d, o = t.order_deposits.c, t.orders.c
        rows = self.conn.execute(
            select(
                *(getattr(d, f) for f in _DEPOSIT),
                o.status.label("order_status"),
                o.currency.label("order_currency"),
            )
            .join(t.orders, o.id == d.order_id)
            .where(*where)
            .order_by(d.received_at, d.id)
        )
        return [
            RecordedDeposit(
                OrderDeposit(**{f: r._mapping[f] for f in _DEPOSIT}),
                r.order_status,
                r.order_currency,
            )
            for r in rows
        ]

    def deposits_by_bank_id(self, deposit_ids: Sequence[str]) -> dict[str, RecordedDeposit]:
        c = t.order_deposits.c
        out: dict[str, RecordedDeposit] = {}
        for chunk in _chunks(sorted(set(deposit_ids))):
            out.update(
                {r.deposit.bank_deposit_id: r for r in self._deposits(c.bank_deposit_id.in_(chunk))}
            )
        return out

    def deposits_by_return_key(self, keys: Sequence[str]) -> dict[str, RecordedDeposit]:
        c = t.order_deposits.c
        out: dict[str, RecordedDeposit] = {}
        for chunk in _chunks(sorted(set(keys))):
            for r in self._deposits(c.return_key.in_(chunk)):
                assert r.deposit.return_key is not None
                out[r.deposit.return_key] = r
        return out

    def deposits_received(self, since: datetime, until: datetime) -> list[RecordedDeposit]:
        """Deposits the bank received in [since, until) (by the bank's time of receipt)."""
        c = t.order_deposits.c
        return self._deposits(c.received_at >= since, c.received_at < until)

    # -- the issuers ---------------------------------------------------------------------
    def redemptions_by_key(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Items by ``redeem_key`` with what the ledger booked at the issuer for them."""
        i = t.items.c
        out: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(sorted(set(keys))):
            rows = self.conn.execute(
                select(i.id, i.redeem_key, i.issuer, i.status, i.face_value, i.currency).where(
                    i.redeem_key.in_(chunk)
                )
            )
            for r in rows:
                out[r.redeem_key] = {**dict(r._mapping), "booked": None, "booked_at": None}
        booked = self._issuer_postings([v["id"] for v in out.values()])
        for v in out.values():
            if v["id"] in booked:
                v["booked"], v["booked_at"] = booked[v["id"]]
        return out

    def _issuer_postings(self, item_ids: Sequence[str]) -> dict[str, tuple[int, datetime]]:
        lt, lp = t.ledger_transfers.c, t.ledger_postings.c
        out: dict[str, tuple[int, datetime]] = {}
        for chunk in _chunks(list(item_ids)):
            rows = self.conn.execute(
                select(lt.ref, lp.amount, lt.created_at)
                .join(t.ledger_postings, lp.transfer_id == lt.id)
                .where(
                    lt.ref.in_(chunk),
                    lt.kind.in_(("redemption", "unmatched_capture")),
                    lp.account.like("assets:issuer:%"),
                )
            )
            out.update({r.ref: (r.amount, r.created_at) for r in rows})
        return out

    def booked_redemptions(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """Value our ledger captured at issuers in [since, until), per item."""
        lt, lp, i = t.ledger_transfers.c, t.ledger_postings.c, t.items.c
        rows = self.conn.execute(
            select(
                i.id,
                i.redeem_key,
                i.status,
                lp.account,
                lp.amount,
                lt.currency,
                lt.created_at,
            )
            .join(t.ledger_postings, lp.transfer_id == lt.id)
            .join(t.items, i.id == lt.ref)
            .where(
                lt.kind.in_(("redemption", "unmatched_capture")),
                lp.account.like("assets:issuer:%"),
                lt.created_at >= since,
                lt.created_at < until,
            )
        )
        return [
            {
                "item_id": r.id,
                "key": r.redeem_key,
                "issuer": r.account.removeprefix("assets:issuer:"),
                "amount": r.amount,
                "currency": r.currency,
                "books_status": r.status,
                "at": r.created_at,
            }
            for r in rows
        ]

    def issuer_balances(self) -> dict[str, int]:
        ac = t.ledger_accounts.c
        rows = self.conn.execute(select(ac.path, ac.balance).where(ac.path.like("assets:issuer:%")))
        return {r.path.removeprefix("assets:issuer:"): r.balance for r in rows}
