"""The console's actions: blocks on customers and devices, notes on customers, and the
payouts' transfer attempts counted apart from the worker's claims.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "transfer_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False
            )
        )
    # a payout sent before this revision was sent once unless it was ever unknown
    op.execute(
        "UPDATE payouts SET transfer_attempts = 1 "
        "WHERE status IN ('sent', 'confirmed', 'returned', 'rejected', 'unknown')"
    )
    op.create_table(
        "blocks",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("blocked_by", sa.Text(), nullable=False),
        sa.Column("blocked_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('customer', 'device')", name=op.f("ck_blocks_kind")),
        sa.PrimaryKeyConstraint("kind", "subject", name=op.f("pk_blocks")),
    )
    op.create_table(
        "customer_notes",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_notes_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_notes")),
    )
    with op.batch_alter_table("customer_notes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_notes_customer_id_created_at"),
            ["customer_id", "created_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("customer_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_notes_customer_id_created_at"))
    op.drop_table("customer_notes")
    op.drop_table("blocks")
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.drop_column("transfer_attempts")
