"""The encrypted columns a master key rotation re-encrypts (``ops/keys.py``), read and
swapped a batch at a time."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, func, select, update

from giftcash.adapters.db import tables as t

CHUNK = 500


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# -- key rotation --------------------------------------------------------------------------

# Every encrypted column: (table, id column, key id column, blob column, aad suffix).
# The aad is the row id plus the suffix (``vault.encrypt(plaintext, aad)`` at the writers).
ENCRYPTED_COLUMNS: tuple[tuple[str, str, str, tuple[tuple[str, str], ...]], ...] = (
    ("items", "id", "key_id", (("code_enc", ""), ("pin_enc", ":pin"))),
    ("bank_accounts", "id", "account_key_id", (("account_number_enc", ""),)),
    ("operators", "id", "totp_key_id", (("totp_secret_enc", ""),)),
    ("webhook_endpoints", "id", "key_id", (("secret_enc", ""),)),
    ("customer_identities", "customer_id", "key_id", (("details_enc", ":identity"),)),
    ("customer_due_diligence", "customer_id", "answers_key_id", (("answers_enc", ":edd"),)),
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
                for key_id, n in self.conn.execute(
                    select(k, func.count()).where(k.is_not(None)).group_by(k)
                )
            }  # (a row with nothing sealed yet has no key)
        return out

    def batch_not_under(
        self, table_name: str, current: str, after_id: str | None, limit: int
    ) -> list[dict[str, Any]]:
        """Rows not yet under ``current``, in id order after ``after_id``."""
        spec = _spec(table_name)
        table = t.metadata.tables[table_name]
        cols = [table.c[spec[0]], table.c[spec[1]], *(table.c[b] for b, _ in spec[2])]
        # a destroyed row (privacy/purge.py) has nothing left to re-encrypt
        q = select(*cols).where(table.c[spec[1]] != current, table.c[spec[1]] != "destroyed")
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
