"""Master key rotation: every stored secret (voucher codes and PINs, account numbers,
TOTP secrets, webhook secrets) re-encrypted under the vault's current key, in batches,
while the service runs.

No downtime: the old keys stay in the ring and keep decrypting until every row has
moved; each row moves in its own compare-and-swap (its blobs and key id change together,
and only if nobody changed them meanwhile), so a worker reading a row sees either the
old or the new pair, both decryptable. Keyed hashes (duplicate-code detection, the
account-number hash) do not change: the vault's HMAC key is pinned to the key they were
made with, and ``check_hashes`` proves it on stored rows before anything is rewritten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from giftcash.domain.errors import DomainError
from giftcash.service.deps import Deps

BATCH = 200
MAX_SWEEPS = 3  # rows written under an old key while a sweep ran are caught by the next

Progress = Callable[[str, int], None]  # (table, rows done in this batch)


class HashKeyMismatch(DomainError):
    code = "hash_key_mismatch"
    kind = "conflict"


@dataclass
class KeyStatus:
    current: str
    hmac_key_id: str
    key_ids: list[str]
    rows: dict[str, dict[str, int]]  # table -> key id -> rows

    @property
    def not_current(self) -> int:
        return sum(
            n for by_key in self.rows.values() for k, n in by_key.items() if k != self.current
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "current": self.current,
            "hmac_key_id": self.hmac_key_id,
            "key_ids": self.key_ids,
            "rows": self.rows,
            "rows_not_under_current": self.not_current,
        }


def status(deps: Deps) -> KeyStatus:
    vault: Any = deps.vault
    with deps.reader() as uow:
        rows = uow.encrypted.counts_by_key()
    return KeyStatus(vault.current, vault.hmac_key_id, sorted(vault.key_ids), rows)


def check_hashes(deps: Deps, sample: int = 20) -> int:
    """Recompute the keyed hashes of a few stored rows from their plaintext; raise
    ``HashKeyMismatch`` if they differ (the ring pins the wrong hash key). Answers the
    number of rows checked."""
    vault: Any = deps.vault
    with deps.reader() as uow:
        rows = uow.encrypted.sample_hmacs(sample)
    checked = 0
    for r in rows["items"]:
        code = vault.decrypt(r["code_enc"], r["key_id"], r["id"])
        if vault.hmac(code) != r["code_hmac"]:
            raise _mismatch(vault)
        checked += 1
    for r in rows["bank_accounts"]:
        number = vault.decrypt(r["account_number_enc"], r["account_key_id"], r["id"])
        if vault.hmac(f"account:{r['bank_code']}:{number}") != r["account_number_hmac"]:
            raise _mismatch(vault)
        checked += 1
    return checked


def _mismatch(vault: Any) -> HashKeyMismatch:
    return HashKeyMismatch(
        f"stored code hashes were not made with key {vault.hmac_key_id}: pin the hash key "
        "the database was built with (GIFTCASH_HMAC_KEY_ID or hmac_key_id= in the key file) "
        "before going on; nothing was rewritten"
    )


@dataclass
class RotationResult:
    current: str
    rewritten: dict[str, int] = field(default_factory=dict)
    skipped: int = 0  # changed by someone else mid-swap; a later sweep took them
    sweeps: int = 0
    remaining: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "current": self.current,
            "rewritten": self.rewritten,
            "skipped": self.skipped,
            "sweeps": self.sweeps,
            "remaining": self.remaining,
        }


def reencrypt(
    deps: Deps, *, batch: int = BATCH, progress: Progress | None = None
) -> RotationResult:
    """Move every row to the current key. Safe to stop and run again at any time."""
    vault: Any = deps.vault
    out = RotationResult(vault.current)
    with deps.reader() as uow:
        specs = uow.encrypted.specs()
    for sweep in range(1, MAX_SWEEPS + 1):
        out.sweeps = sweep
        moved = sum(_sweep_table(deps, spec, batch, out, progress) for spec in specs)
        if moved == 0:
            break
    out.remaining = status(deps).not_current
    return out


def _sweep_table(
    deps: Deps,
    spec: tuple[str, str, str, tuple[tuple[str, str], ...]],
    batch: int,
    out: RotationResult,
    progress: Progress | None,
) -> int:
    """One pass over a table in id order, one transaction per batch."""
    vault: Any = deps.vault
    table, id_col, key_col, blobs = spec
    after: str | None = None
    moved = 0
    while True:
        with deps.uow() as uow:
            rows = uow.encrypted.batch_not_under(table, vault.current, after, batch)
            if not rows:
                return moved
            for row in rows:
                new: dict[str, Any] = {key_col: vault.current}
                for blob, suffix in blobs:
                    if row[blob] is None:
                        continue
                    aad = row[id_col] + suffix
                    plain = vault.decrypt(row[blob], row[key_col], aad)
                    new[blob] = vault.encrypt(plain, aad)[0]
                if uow.encrypted.swap(table, row[id_col], row, new):
                    out.rewritten[table] = out.rewritten.get(table, 0) + 1
                    moved += 1
                else:
                    out.skipped += 1
            uow.commit()
        after = rows[-1][id_col]
        if progress is not None:
            progress(table, len(rows))
