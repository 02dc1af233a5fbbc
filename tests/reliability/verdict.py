"""The seed of the reliability runs (``GIFTCASH_SELFTEST_SEED`` replays a failure) and how
a failing run explains itself."""

from __future__ import annotations

import os

from giftcash.selftest.registry import BAD_COLUMNS, Row

SEED = int(os.environ.get("GIFTCASH_SELFTEST_SEED", "20260517"))


def bad_columns(row: Row) -> dict[str, int]:
    return {name: getattr(row, name) for name in BAD_COLUMNS if getattr(row, name)}


def explain(row: Row) -> str:
    return f"seed {SEED}; bad: {bad_columns(row)}; notes: {row.notes}"
