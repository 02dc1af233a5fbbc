"""The stored ledger: immutable transfers, their postings, account balances, a hash chain.

``post``/``post_many`` run inside the caller's transaction (the unit of work) and follow
the in-memory ``domain.ledger.Ledger`` exactly: a replay of the same transfer answers
``False``; the same id with other content, or a second reversal of one transfer, raises
``TransferExists``; a customer liability that would go below zero raises
``LiabilityBelowZero`` before anything is written.

Concurrency: writers first lock the one-row ``ledger_head`` (``FOR UPDATE`` on
PostgreSQL; on SQLite the ``BEGIN IMMEDIATE`` write lock already serialises writers), so
the chain has one order and duplicate checks see every committed transfer; then they lock
the account rows they touch in primary-key order. Each transfer stores
``hash = sha256(prev_hash + canonical(transfer))``, the canonical form being sorted JSON of
its fields, its position and its postings.

``post`` of one new transfer takes the driver-level path of ``ledger_driver`` (the same
locks, checks and rows, without building statements; on PostgreSQL one call of the
``ledger_post_one`` function); everything else goes through ``post_many``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, tuple_, update

from giftcash.adapters.db.engine import is_sqlite
from giftcash.adapters.db.ids import new_id
from giftcash.adapters.db.ledger_driver import Outcome, post_one_postgres, post_one_sqlite
from giftcash.adapters.db.tables import (
    CUSTOMER_LIABILITY,
    ledger_accounts,
    ledger_head,
    ledger_postings,
    ledger_transfers,
)
from giftcash.domain.errors import TransferExists, UnbalancedTransfer
from giftcash.domain.ledger import (
    Posting,
    Transfer,
    account_type,
    apply,
    is_reversal_of,
    must_stay_credit,
)

# Rows per IN (...) list: far below SQLite's and PostgreSQL's bound-parameter limits.
CHUNK = 500
PAGE_SIZE = 500

Now = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def account_kind(path: str) -> str:
    """The ``kind`` stored with an account; the liability floor CHECK keys on it."""
    return CUSTOMER_LIABILITY if must_stay_credit(path) else account_type(path).value


@dataclass(frozen=True, slots=True)
class StoredTransfer:
    transfer: Transfer
    seq: int
    created_at: datetime
    prev_hash: str
    hash: str


def canonical_transfer(
    *,
    seq: int,
    id: str,
    currency: str,
    kind: str,
    ref: str | None,
    reverses: str | None,
    memo: str,
    created_at: datetime,
    postings: Iterable[tuple[str, int]],
) -> str:
    head = canonical_head(
        id=id,
        currency=currency,
        kind=kind,
        ref=ref,
        reverses=reverses,
        memo=memo,
        created_at=created_at,
        postings=postings,
    )
    return f"{head}{seq}}}"


def canonical_head(
    *,
    id: str,
    currency: str,
    kind: str,
    ref: str | None,
    reverses: str | None,
    memo: str,
    created_at: datetime,
    postings: Iterable[tuple[str, int]],
) -> str:
    """The canonical form up to its position: sorted JSON whose last key is ``seq``, so
    the form is this head, the position and ``}``. The position is known only under the
    head lock; PostgreSQL's ``ledger_post_one`` finishes the hash from this head."""
    body = {
        "id": id,
        "currency": currency,
        "kind": kind,
        "ref": ref,
        "reverses": reverses,
        "memo": memo,
        "created_at": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "postings": sorted([account, amount] for account, amount in postings),
    }
    assert max(body) < "seq", "seq must stay the last key of the canonical form"
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text[:-1] + ',"seq":'


def chain_hash(prev_hash: str, canonical: str) -> str:
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class LedgerRepository:
    def __init__(
        self, conn: Connection, now: Now = utc_now, new_id: Callable[[], str] = new_id
    ) -> None:
        self.conn = conn
        self._now = now
        self._new_id = new_id

    # -- writing ---------------------------------------------------------------------------

    def post(self, transfer: Transfer) -> bool:
        """Post one transfer; ``False`` when the same transfer was posted before.

        The driver-level path (``ledger_driver``) posts a new transfer; a reversal, a taken
        id (a replay, or a changed one) and a call outside a transaction take
        ``post_many``'s general path, which judges them as before."""
        if transfer.reverses is None and self.conn.in_transaction():
            if self._post_one(transfer) is Outcome.POSTED:
                return True
        return self.post_many([transfer])[0]

    def _post_one(self, t: Transfer) -> Outcome:
        now = self._now()
        posting_ids = [self._new_id() for _ in t.postings]
        kinds = [account_kind(p.account) for p in t.postings]
        head = canonical_head_of(t, now)
        if is_sqlite(self.conn):
            return post_one_sqlite(
                self.conn,
                t,
                created_at=now,
                hash_of=lambda seq, prev: chain_hash(prev, f"{head}{seq}}}"),
                posting_ids=posting_ids,
                account_kinds=kinds,
            )
        return post_one_postgres(
            self.conn,
            t,
            created_at=now,
            canonical_head=head,
            posting_ids=posting_ids,
            account_kinds=kinds,
        )

    def post_many(self, transfers: Sequence[Transfer]) -> list[bool]:
        """Post a batch in the caller's transaction with a fixed number of round trips.
        All or nothing: if any transfer is refused, nothing of the batch is written.
        Answers, per transfer, ``True`` if posted now, ``False`` if it was a replay."""
        if not transfers:
            return []
        head_seq, head_hash = self._lock_head()
        stored = self._load({t.id for t in transfers})
        fresh: dict[str, Transfer] = {}
        results: list[bool] = []
        for t in transfers:
            prior = stored.get(t.id) or fresh.get(t.id)
            if prior is None:
                fresh[t.id] = t
                results.append(True)
            elif prior.same_content(t):
                results.append(False)
            else:
                raise TransferExists(f"transfer {t.id} exists with other content", transfer_id=t.id)
        new = list(fresh.values())
        if not new:
            return results
        self._check_reversals(new)
        balances, missing = self._lock_accounts(new)
        for t in new:  # the domain's rule, one transfer at a time, before any write
            touched = {(p.account, t.currency) for p in t.postings}
            balances.update(apply({k: balances[k] for k in touched}, t))
        self._write(new, balances, missing, head_seq, head_hash)
        return results

    def _lock_head(self) -> tuple[int, str]:
        query = select(ledger_head.c.seq, ledger_head.c.hash).where(ledger_head.c.id == 1)
        if not is_sqlite(self.conn):
            query = query.with_for_update()
        row = self.conn.execute(query).one_or_none()
        assert row is not None, "ledger_head has no row: run the migrations"
        return row.seq, row.hash

    def _check_reversals(self, new: Sequence[Transfer]) -> None:
        targets = sorted({t.reverses for t in new if t.reverses is not None})
        if not targets:
            return
        originals = self._load(targets)  # stored ones; earlier ones in the batch join below
        reversed_before: set[str] = set()
        tc = ledger_transfers.c
        for chunk in _chunks(targets):
            reversed_before.update(
                self.conn.scalars(select(tc.reverses).where(tc.reverses.in_(chunk)))
            )
        for t in new:
            if t.reverses is not None:
                original = originals.get(t.reverses)
                if original is None:
                    raise UnbalancedTransfer(
                        f"transfer {t.reverses} to reverse does not exist", transfer_id=t.id
                    )
                if t.reverses in reversed_before:
                    raise TransferExists(
                        f"transfer {t.reverses} is already reversed", transfer_id=t.id
                    )
                if not is_reversal_of(t, original):
                    raise UnbalancedTransfer(
                        f"transfer {t.id} does not negate {t.reverses}", transfer_id=t.id
                    )
                reversed_before.add(t.reverses)
            originals.setdefault(t.id, t)  # later transfers in the batch may reverse this one

    def _lock_accounts(
        self, new: Sequence[Transfer]
    ) -> tuple[dict[tuple[str, str], int], set[tuple[str, str]]]:
        keys = sorted({(p.account, t.currency) for t in new for p in t.postings})
        ac = ledger_accounts.c
        balances: dict[tuple[str, str], int] = {}
        for chunk in _chunks(keys):
            query = (
                select(ac.path, ac.currency, ac.balance)
                .where(tuple_(ac.path, ac.currency).in_(chunk))
                .order_by(ac.path, ac.currency)
            )
            if not is_sqlite(self.conn):
                query = query.with_for_update()
            for row in self.conn.execute(query):
                balances[(row.path, row.currency)] = row.balance
        missing = {k for k in keys if k not in balances}
        for k in missing:
            balances[k] = 0
        return balances, missing

    def _write(
        self,
        new: Sequence[Transfer],
        balances: dict[tuple[str, str], int],
        missing: set[tuple[str, str]],
        head_seq: int,
        head_hash: str,
    ) -> None:
        now = self._now()
        if missing:
            self.conn.execute(
                ledger_accounts.insert(),
                [
                    {
                        "path": path,
                        "currency": currency,
                        "balance": balances[(path, currency)],
                        "kind": account_kind(path),
                        "created_at": now,
                    }
                    for path, currency in sorted(missing)
                ],
            )
        existing = sorted(k for k in balances if k not in missing)
        if existing:
            ac = ledger_accounts.c
            self.conn.execute(
                update(ledger_accounts)
                .where(ac.path == bindparam("b_path"), ac.currency == bindparam("b_currency"))
                .values(balance=bindparam("b_balance")),
                [
                    {"b_path": p, "b_currency": c, "b_balance": balances[(p, c)]}
                    for p, c in existing
                ],
            )
        transfer_rows, posting_rows = [], []
        seq, prev = head_seq, head_hash
        for t in new:
            seq += 1
            digest = chain_hash(prev, canonical_of(t, seq, now))
            transfer_rows.append(
                {
                    "id": t.id,
                    "seq": seq,
                    "currency": t.currency,
                    "kind": t.kind,
                    "ref": t.ref,
                    "reverses": t.reverses,
                    "memo": t.memo,
                    "created_at": now,
                    "prev_hash": prev,
                    "hash": digest,
                }
            )
            posting_rows.extend(
                {
                    "id": self._new_id(),
                    "transfer_id": t.id,
                    "account": p.account,
                    "currency": t.currency,
                    "amount": p.amount,
                }
                for p in t.postings
            )
            prev = digest
        self.conn.execute(ledger_transfers.insert(), transfer_rows)
        self.conn.execute(ledger_postings.insert(), posting_rows)
        self.conn.execute(
            update(ledger_head).where(ledger_head.c.id == 1).values(seq=seq, hash=prev)
        )

    # -- reading ---------------------------------------------------------------------------

    def get(self, transfer_id: str) -> StoredTransfer | None:
        tc = ledger_transfers.c
        row = self.conn.execute(select(ledger_transfers).where(tc.id == transfer_id)).one_or_none()
        if row is None:
            return None
        return _stored(row, postings_of(self.conn, [transfer_id])[transfer_id])

    def balance(self, account: str, currency: str) -> int:
        ac = ledger_accounts.c
        value = self.conn.scalar(
            select(ac.balance).where(ac.path == account, ac.currency == currency)
        )
        return int(value or 0)

    def balances(self) -> dict[tuple[str, str], int]:
        ac = ledger_accounts.c
        rows = self.conn.execute(select(ac.path, ac.currency, ac.balance))
        return {(r.path, r.currency): r.balance for r in rows}

    def count(self) -> int:
        return int(self.conn.scalar(select(func.count()).select_from(ledger_transfers)) or 0)

    def transfers(self, page_size: int = PAGE_SIZE) -> Iterator[StoredTransfer]:
        """Every transfer in chain order, read page by page (memory stays bounded)."""
        for row, postings in transfer_pages(self.conn, page_size):
            yield _stored(row, postings)

    def _load(self, ids: Iterable[str]) -> dict[str, Transfer]:
        id_list = sorted(ids)
        out: dict[str, Transfer] = {}
        tc = ledger_transfers.c
        for chunk in _chunks(id_list):
            rows = self.conn.execute(select(ledger_transfers).where(tc.id.in_(chunk))).all()
            if not rows:
                continue
            postings = postings_of(self.conn, [r.id for r in rows])
            for r in rows:
                out[r.id] = _stored(r, postings[r.id]).transfer
        return out


def canonical_of(t: Transfer, seq: int, created_at: datetime) -> str:
    return f"{canonical_head_of(t, created_at)}{seq}}}"


def canonical_head_of(t: Transfer, created_at: datetime) -> str:
    return canonical_head(
        id=t.id,
        currency=t.currency,
        kind=t.kind,
        ref=t.ref,
        reverses=t.reverses,
        memo=t.memo,
        created_at=created_at,
        postings=((p.account, p.amount) for p in t.postings),
    )


def transfer_pages(
    conn: Connection, page_size: int = PAGE_SIZE
) -> Iterator[tuple[Any, list[tuple[str, str, int]]]]:
    """Raw transfer rows in ``seq`` order with their postings ``(account, currency,
    amount)``, keyset-paged. Raw, so ``ledger_check`` can judge rows that no longer make a
    valid ``Transfer``."""
    tc = ledger_transfers.c
    last_seq: int | None = None
    while True:
        query = select(ledger_transfers).order_by(tc.seq).limit(page_size)
        if last_seq is not None:
            query = query.where(tc.seq > last_seq)
        rows = conn.execute(query).all()
        if not rows:
            return
        postings = postings_of(conn, [r.id for r in rows], with_currency=True)
        for r in rows:
            yield r, postings[r.id]
        last_seq = rows[-1].seq


def postings_of(
    conn: Connection, transfer_ids: Sequence[str], *, with_currency: bool = False
) -> dict[str, list[Any]]:
    pc = ledger_postings.c
    out: dict[str, list[Any]] = {tid: [] for tid in transfer_ids}
    rows = conn.execute(
        select(pc.transfer_id, pc.account, pc.currency, pc.amount)
        .where(pc.transfer_id.in_(transfer_ids))
        .order_by(pc.transfer_id, pc.id)
    )
    for r in rows:
        out[r.transfer_id].append(
            (r.account, r.currency, r.amount) if with_currency else (r.account, r.amount)
        )
    return out


def _stored(row: Any, postings: Sequence[tuple[Any, ...]]) -> StoredTransfer:
    transfer = Transfer(
        id=row.id,
        currency=row.currency,
        postings=tuple(Posting(p[0], p[-1]) for p in postings),
        kind=row.kind,
        ref=row.ref,
        reverses=row.reverses,
        memo=row.memo,
    )
    return StoredTransfer(transfer, row.seq, row.created_at, row.prev_hash, row.hash)
