"""PostgreSQL: ``ledger_post_one``, one transfer posted in one statement (one round trip).

It does what ``LedgerRepository.post_many`` does for one transfer, in the same order and
under the same locks: the chain head ``FOR UPDATE``; the replay check (in a function each
statement takes a new snapshot under READ COMMITTED, so it sees a transfer committed
while this one waited for the head); the accounts ``FOR UPDATE`` in key order; the floor
of the accounts the caller names as staying in credit (the domain's ``must_stay_credit``,
decided in Python); then the accounts, the transfer with the next hash-chain link, its
postings and the head. The hash is sha256 of ``prev_hash + canonical form``, the
canonical form being the caller's ``canonical_head`` followed by the position and ``}``
(``ledger_repo.canonical_transfer``), so ``giftcash ledger check`` verifies it as before.

It answers one row ``(outcome, accounts, balances)``: ``posted``; ``exists`` (the id is
taken: nothing written, the caller judges the replay); ``refused`` (a floor would break:
nothing written, the balances before are returned so the domain raises its own error).
SQLite has no such function and posts through the driver statement by statement.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 07:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CREATE = r"""
CREATE OR REPLACE FUNCTION ledger_post_one(
    p_id text,
    p_currency text,
    p_kind text,
    p_ref text,
    p_memo text,
    p_created_at timestamptz,
    p_accounts text[],
    p_amounts bigint[],
    p_account_kinds text[],
    p_stay_credit boolean[],
    p_posting_ids text[],
    p_canonical_head bytea
) RETURNS TABLE (outcome text, accounts text[], balances bigint[])
LANGUAGE plpgsql VOLATILE AS $fn$
#variable_conflict use_column
DECLARE
    v_seq bigint;
    v_prev text;
    v_hash text;
    v_found integer;
    v_refused boolean;
BEGIN
    SELECT h.seq, h.hash INTO v_seq, v_prev FROM ledger_head h WHERE h.id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'ledger_head has no row: run the migrations';
    END IF;
    IF EXISTS (SELECT 1 FROM ledger_transfers t WHERE t.id = p_id) THEN
        RETURN QUERY SELECT 'exists'::text, NULL::text[], NULL::bigint[];
        RETURN;
    END IF;
    -- The accounts locked in key order; under the lock, how many exist and whether a
    -- floor would break (a missing account counts as 0).
    SELECT
        count(a.path),
        COALESCE(bool_or(p.stay_credit AND COALESCE(a.balance, 0) + p.amount > 0), false)
        INTO v_found, v_refused
        FROM unnest(p_accounts, p_amounts, p_stay_credit) AS p(path, amount, stay_credit)
        LEFT JOIN (
            SELECT l.path, l.balance FROM ledger_accounts l
            WHERE l.currency = p_currency AND l.path = ANY (p_accounts)
            ORDER BY l.path, l.currency
            FOR UPDATE
        ) a ON a.path = p.path;
    IF v_refused THEN
        RETURN QUERY
            SELECT 'refused'::text, array_agg(p.path), array_agg(COALESCE(a.balance, 0))
            FROM unnest(p_accounts) AS p(path)
            LEFT JOIN ledger_accounts a ON a.path = p.path AND a.currency = p_currency;
        RETURN;
    END IF;
    UPDATE ledger_accounts a SET balance = a.balance + p.amount
        FROM unnest(p_accounts, p_amounts) AS p(path, amount)
        WHERE a.currency = p_currency AND a.path = p.path;
    IF v_found < cardinality(p_accounts) THEN
        -- Not one INSERT ... ON CONFLICT: PostgreSQL checks the proposed row's CHECK (the
        -- liability floor) before it finds the conflict, and a debit alone would fail it.
        INSERT INTO ledger_accounts (path, currency, balance, kind, created_at)
            SELECT p.path, p_currency, p.amount, p.kind, p_created_at
            FROM unnest(p_accounts, p_amounts, p_account_kinds) AS p(path, amount, kind)
            WHERE NOT EXISTS (
                SELECT 1 FROM ledger_accounts a WHERE a.path = p.path AND a.currency = p_currency
            )
            ORDER BY p.path;
    END IF;
    v_seq := v_seq + 1;
    v_hash := encode(
        sha256(
            convert_to(v_prev, 'UTF8') || p_canonical_head || convert_to(v_seq::text || '}', 'UTF8')
        ),
        'hex'
    );
    INSERT INTO ledger_transfers
        (id, seq, currency, kind, ref, reverses, memo, created_at, prev_hash, hash)
        VALUES (p_id, v_seq, p_currency, p_kind, p_ref, NULL, p_memo, p_created_at, v_prev, v_hash);
    INSERT INTO ledger_postings (id, transfer_id, account, currency, amount)
        SELECT p.id, p_id, p.path, p_currency, p.amount
        FROM unnest(p_posting_ids, p_accounts, p_amounts) WITH ORDINALITY AS p(id, path, amount, n)
        ORDER BY p.n;
    UPDATE ledger_head SET seq = v_seq, hash = v_hash WHERE id = 1;
    RETURN QUERY SELECT 'posted'::text, NULL::text[], NULL::bigint[];
END;
$fn$
"""

DROP = (
    "DROP FUNCTION IF EXISTS ledger_post_one("
    "text, text, text, text, text, timestamptz, text[], bigint[], text[], boolean[], text[], bytea)"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CREATE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(DROP)
