"""Every invariant of the stored books, checked from the rows themselves.

Returns errors as values (``domain.ledger.Violation``); an empty list means the books
hold. Run it on a connection that sees one snapshot (``SqlUnitOfWork(read_only=True)``:
REPEATABLE READ on PostgreSQL, a read transaction on SQLite) or concurrent posts will
show up as false alarms.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from giftcash.adapters.db.ledger_repo import (
    CHUNK,
    account_kind,
    canonical_transfer,
    chain_hash,
    postings_of,
    transfer_pages,
)
from giftcash.adapters.db.tables import (
    GENESIS_HASH,
    ledger_accounts,
    ledger_head,
    ledger_postings,
    ledger_transfers,
)
from giftcash.domain.errors import InvalidAccount
from giftcash.domain.ledger import Violation, balance_violations


def check(conn: Connection) -> list[Violation]:
    out: list[Violation] = []
    out += _transfers_and_chain(conn)
    stored = _stored_balances(conn, out)
    out += _stored_match_postings(conn, stored)
    out += balance_violations(stored)
    out += _reversal_targets(conn)
    out += _reversal_mirrors(conn)
    return out


def _transfers_and_chain(conn: Connection) -> list[Violation]:
    out: list[Violation] = []
    expected_seq, prev = 1, GENESIS_HASH
    for row, postings in transfer_pages(conn):
        tid = row.id
        total = sum(amount for _, _, amount in postings)
        if total != 0:
            out.append(Violation("transfer_balance", f"postings sum to {total}, not 0", tid))
        if len(postings) < 2:
            out.append(Violation("transfer_postings", "fewer than two postings", tid))
        if any(currency != row.currency for _, currency, _ in postings):
            out.append(Violation("transfer_currency", "a posting in another currency", tid))
        if row.seq != expected_seq:
            out.append(
                Violation("hash_chain", f"position {row.seq} where {expected_seq} was due", tid)
            )
        if row.prev_hash != prev:
            out.append(Violation("hash_chain", "prev_hash does not match the transfer before", tid))
        canonical = canonical_transfer(
            seq=row.seq,
            id=tid,
            currency=row.currency,
            kind=row.kind,
            ref=row.ref,
            reverses=row.reverses,
            memo=row.memo,
            created_at=row.created_at,
            postings=((account, amount) for account, _, amount in postings),
        )
        if chain_hash(row.prev_hash, canonical) != row.hash:
            out.append(Violation("hash_chain", "hash does not match the transfer's content", tid))
        expected_seq, prev = row.seq + 1, row.hash
    head = conn.execute(select(ledger_head.c.seq, ledger_head.c.hash)).all()
    if len(head) != 1:
        out.append(Violation("chain_head", f"ledger_head has {len(head)} rows, not 1"))
    elif (head[0].seq, head[0].hash) != (expected_seq - 1, prev):
        out.append(
            Violation("chain_head", "the chain head does not point at the last transfer", "head")
        )
    return out


def _stored_balances(conn: Connection, out: list[Violation]) -> dict[tuple[str, str], int]:
    ac = ledger_accounts.c
    stored: dict[tuple[str, str], int] = {}
    for row in conn.execute(select(ac.path, ac.currency, ac.balance, ac.kind)):
        stored[(row.path, row.currency)] = row.balance
        try:
            expected = account_kind(row.path)
        except InvalidAccount as e:
            out.append(Violation("account", e.message, row.path))
            continue
        if row.kind != expected:
            out.append(
                Violation("account_kind", f"kind {row.kind!r}, expected {expected!r}", row.path)
            )
    return stored


def _stored_match_postings(conn: Connection, stored: dict[tuple[str, str], int]) -> list[Violation]:
    pc = ledger_postings.c
    sums = {
        (r.account, r.currency): int(r.total)
        for r in conn.execute(
            select(pc.account, pc.currency, func.sum(pc.amount).label("total")).group_by(
                pc.account, pc.currency
            )
        )
    }
    out = []
    for key in sorted(stored.keys() | sums.keys()):
        have, due = stored.get(key, 0), sums.get(key, 0)
        if have != due:
            account, currency = key
            out.append(
                Violation(
                    "stored_balance",
                    f"{account} holds {have} {currency}; its postings sum to {due}",
                    account,
                )
            )
    return out


def _reversal_targets(conn: Connection) -> list[Violation]:
    t = ledger_transfers
    original = ledger_transfers.alias("original")
    rows = conn.execute(
        select(t.c.id, t.c.reverses)
        .outerjoin(original, original.c.id == t.c.reverses)
        .where(t.c.reverses.is_not(None), original.c.id.is_(None))
    )
    return [
        Violation("reversal_target", f"reverses {r.reverses}, which does not exist", r.id)
        for r in rows
    ]


def _reversal_mirrors(conn: Connection) -> list[Violation]:
    """A reversal negates every posting of its original, in the same currency."""
    t = ledger_transfers
    original = ledger_transfers.alias("original")
    pairs = conn.execute(
        select(t.c.id, t.c.currency, t.c.reverses, original.c.currency.label("orig_currency"))
        .join(original, original.c.id == t.c.reverses)
        .order_by(t.c.seq)
    ).all()
    out = []
    for start in range(0, len(pairs), CHUNK):
        chunk = pairs[start : start + CHUNK]
        postings = postings_of(conn, [r.id for r in chunk] + [r.reverses for r in chunk])
        for r in chunk:
            mine = sorted((a, n) for a, n in postings[r.id])
            negated = sorted((a, -n) for a, n in postings[r.reverses])
            if r.currency != r.orig_currency or mine != negated:
                out.append(Violation("reversal_mirror", f"does not negate {r.reverses}", r.id))
    return out
