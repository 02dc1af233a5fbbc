"""Repositories of the operations side: reconciliation (statement lines, what our books
say about a ``bank_tran_id`` or a redemption key), the figures behind reports and
metrics, and the encrypted columns that a key rotation re-encrypts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from giftcash.adapters.db import tables as t

CHUNK = 500


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


class Figures:
    """Read-only figures for reports and the metrics endpoint."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def items_between(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """Items received in [since, until) with the first time each was paid."""
        i, e = t.items.c, t.item_events.c
        paid_at = (
            select(e.item_id, func.min(e.at).label("paid_at"))
            .where(e.to_status == "paid")
            .group_by(e.item_id)
            .subquery()
        )
        rows = self.conn.execute(
            select(
                i.id,
                i.brand_id,
                i.issuer,
                i.currency,
                i.face_value,
                i.payout,
                i.status,
                i.decline_code,
                i.created_at,
                paid_at.c.paid_at,
            )
            .outerjoin(paid_at, paid_at.c.item_id == i.id)
            .where(i.created_at >= since, i.created_at < until)
            .order_by(i.created_at, i.id)
        )
        return [dict(r._mapping) for r in rows]

    def items_by_status(self) -> dict[str, int]:
        c = t.items.c
        return {
            s: int(n)
            for s, n in self.conn.execute(select(c.status, func.count()).group_by(c.status))
        }

    def payouts_by_status(self) -> dict[str, int]:
        c = t.payouts.c
        return {
            s: int(n)
            for s, n in self.conn.execute(select(c.status, func.count()).group_by(c.status))
        }

    def payouts_unconfirmed(self) -> int:
        """Sent payouts the bank gave no final answer for after many checks."""
        c = t.payouts.c
        q = select(func.count()).where(c.status == "sent", c.failure_code == "unconfirmed")
        return int(self.conn.execute(q).scalar_one())

    def oldest_waiting(self, statuses: Iterable[str]) -> dict[str, datetime]:
        """Per status, the ``updated_at`` of the item that has waited longest in it."""
        c = t.items.c
        rows = self.conn.execute(
            select(c.status, func.min(c.updated_at))
            .where(c.status.in_(list(statuses)))
            .group_by(c.status)
        )
        return {s: at for s, at in rows if at is not None}

    def oldest_payout_waiting(self, statuses: Iterable[str]) -> dict[str, datetime]:
        c = t.payouts.c
        rows = self.conn.execute(
            select(c.status, func.min(c.created_at))
            .where(c.status.in_(list(statuses)))
            .group_by(c.status)
        )
        return {s: at for s, at in rows if at is not None}

    def latest_heartbeat(self) -> datetime | None:
        return self.conn.execute(select(func.max(t.worker_heartbeats.c.seen_at))).scalar()

    def heartbeats(self) -> list[tuple[str, datetime]]:
        c = t.worker_heartbeats.c
        return [(r.worker_id, r.seen_at) for r in self.conn.execute(select(c.worker_id, c.seen_at))]

    def issuer_balances(self) -> dict[str, int]:
        return Reconciliation(self.conn).issuer_balances()

    def exposure_caps(self) -> dict[str, int | None]:
        c = t.issuer_overrides.c
        return {
            r.issuer: r.exposure_cap for r in self.conn.execute(select(c.issuer, c.exposure_cap))
        }

    def payout_latencies_s(self, since: datetime, until: datetime) -> list[float]:
        """Seconds from creation to the bank's confirmation, for payouts confirmed in
        [since, until)."""
        p = t.payouts.c
        rows = self.conn.execute(
            select(p.created_at, p.confirmed_at).where(
                p.confirmed_at.is_not(None), p.confirmed_at >= since, p.confirmed_at < until
            )
        )
        return [(r.confirmed_at - r.created_at).total_seconds() for r in rows]


# -- key rotation --------------------------------------------------------------------------

# Every encrypted column: (table, id column, key id column, blob column, aad suffix).
# The aad is the row id plus the suffix (``vault.encrypt(plaintext, aad)`` at the writers).
ENCRYPTED_COLUMNS: tuple[tuple[str, str, str, tuple[tuple[str, str], ...]], ...] = (
    ("items", "id", "key_id", (("code_enc", ""), ("pin_enc", ":pin"))),
    ("bank_accounts", "id", "account_key_id", (("account_number_enc", ""),)),
    ("operators", "id", "totp_key_id", (("totp_secret_enc", ""),)),
    ("webhook_endpoints", "id", "key_id", (("secret_enc", ""),)),
)


class EncryptedColumns:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def specs(self) -> tuple[tuple[str, str, str, tuple[tuple[str, str], ...]], ...]:
        """(table, id column, key id column, ((blob column, aad suffix), ...))."""
        return ENCRYPTED_COLUMNS

    def counts_by_key(self) -> dict[str, dict[str, int]]:
        """table -> key id -> rows."""
        out: dict[str, dict[str, int]] = {}
        for table_name, _id, key_col, _blobs in ENCRYPTED_COLUMNS:
            table = t.metadata.tables[table_name]
            k = table.c[key_col]
            out[table_name] = {
                key_id: int(n)
                for key_id, n in self.conn.execute(select(k, func.count()).group_by(k))
            }
        return out

    def batch_not_under(
        self, table_name: str, current: str, after_id: str | None, limit: int
    ) -> list[dict[str, Any]]:
        """Rows not yet under ``current``, in id order after ``after_id``."""
        spec = _spec(table_name)
        table = t.metadata.tables[table_name]
        cols = [table.c[spec[0]], table.c[spec[1]], *(table.c[b] for b, _ in spec[2])]
        q = select(*cols).where(table.c[spec[1]] != current)
        if after_id is not None:
            q = q.where(table.c[spec[0]] > after_id)
        rows = self.conn.execute(q.order_by(table.c[spec[0]]).limit(limit))
        return [dict(r._mapping) for r in rows]

    def swap(self, table_name: str, row_id: str, old: dict[str, Any], new: dict[str, Any]) -> bool:
        """Compare-and-swap one row's blobs and key id: ``False`` if someone changed it
        meanwhile (then the next pass sees it again)."""
        spec = _spec(table_name)
        table = t.metadata.tables[table_name]
        conds = [table.c[spec[0]] == row_id, table.c[spec[1]] == old[spec[1]]]
        for blob, _ in spec[2]:
            conds.append(
                table.c[blob].is_(None) if old[blob] is None else table.c[blob] == old[blob]
            )
        n = self.conn.execute(update(table).where(*conds).values(**new)).rowcount
        return n == 1

    def sample_hmacs(self, limit: int) -> dict[str, list[dict[str, Any]]]:
        """A few rows whose keyed hashes can be recomputed from their plaintext."""
        i, a = t.items.c, t.bank_accounts.c
        items = self.conn.execute(
            select(i.id, i.key_id, i.code_enc, i.code_hmac).order_by(i.id.desc()).limit(limit)
        )
        accounts = self.conn.execute(
            select(a.id, a.account_key_id, a.account_number_enc, a.bank_code, a.account_number_hmac)
            .where(a.account_number_hmac.is_not(None))
            .order_by(a.id.desc())
            .limit(limit)
        )
        return {
            "items": [dict(r._mapping) for r in items],
            "bank_accounts": [dict(r._mapping) for r in accounts],
        }


def _spec(table_name: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    for name, id_col, key_col, blobs in ENCRYPTED_COLUMNS:
        if name == table_name:
            return id_col, key_col, blobs
    raise KeyError(table_name)


class Support:
    """What an operator looks at by hand: one item with its history, one payout."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def item(self, item_id: str) -> dict[str, Any] | None:
        i = t.items.c
        hidden = {"code_enc", "pin_enc", "code_hmac", "key_id", "redeem_key"}
        cols = [c for c in t.items.c if c.name not in hidden]
        row = self.conn.execute(select(*cols).where(i.id == item_id)).first()
        return dict(row._mapping) if row else None

    def item_events(self, item_id: str) -> list[dict[str, Any]]:
        e = t.item_events.c
        rows = self.conn.execute(
            select(e.from_status, e.to_status, e.at, e.detail)
            .where(e.item_id == item_id)
            .order_by(e.at, e.id)
        )
        return [dict(r._mapping) for r in rows]

    def transfers_for(self, refs: Sequence[str]) -> list[dict[str, Any]]:
        lt, lp = t.ledger_transfers.c, t.ledger_postings.c
        rows = self.conn.execute(
            select(lt.id, lt.seq, lt.kind, lt.ref, lt.created_at, lp.account, lp.amount)
            .join(t.ledger_postings, lp.transfer_id == lt.id)
            .where(lt.ref.in_(list(refs)))
            .order_by(lt.seq, lp.account)
        )
        return [dict(r._mapping) for r in rows]

    def payout(self, payout_id: str) -> dict[str, Any] | None:
        p = t.payouts.c
        row = self.conn.execute(select(t.payouts).where(p.id == payout_id)).first()
        return dict(row._mapping) if row else None

    def make_payout_due(self, payout_id: str, statuses: Sequence[str], now: datetime) -> bool:
        """Clear a payout's backoff and lease so the next worker pass takes it."""
        p = t.payouts.c
        n = self.conn.execute(
            update(t.payouts)
            .where(p.id == payout_id, p.status.in_(list(statuses)))
            .values(next_attempt_at=None, lease_owner=None, lease_expires_at=None, updated_at=now)
        ).rowcount
        return n == 1


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
