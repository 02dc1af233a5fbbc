"""Imported bank statement lines, keyed by the bank's (bank_tran_id, direction), so that
reconciliation is idempotent.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bank_statement_lines",
        sa.Column("bank_tran_id", sa.String(length=40), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("counterparty", sa.Text(), nullable=True),
        sa.Column("result", sa.String(length=24), nullable=False),
        sa.Column("matched_kind", sa.String(length=16), nullable=True),
        sa.Column("matched_ref", sa.Text(), nullable=True),
        sa.Column("line_hash", sa.String(length=64), nullable=False),
        sa.Column("import_id", sa.Text(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "amount >= 0 AND fee >= 0", name=op.f("ck_bank_statement_lines_amounts")
        ),
        sa.CheckConstraint(
            "direction IN ('out', 'in', 'fee')", name=op.f("ck_bank_statement_lines_direction")
        ),
        sa.PrimaryKeyConstraint("bank_tran_id", "direction", name=op.f("pk_bank_statement_lines")),
    )
    with op.batch_alter_table("bank_statement_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bank_statement_lines_booked_on"), ["booked_on"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("bank_statement_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_statement_lines_booked_on"))
    op.drop_table("bank_statement_lines")
