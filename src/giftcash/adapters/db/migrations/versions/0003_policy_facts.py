"""Policy facts on items (hold, warning, decision, what the issuer reported) and the
failed-attempts log the brute-force guard counts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 08:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hold_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("warning", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "decision",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column("issuer_purchased_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("issuer_expires_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "failed_attempts",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=True),
        sa.Column("device_key", sa.String(length=128), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failed_attempts")),
    )
    with op.batch_alter_table("failed_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_failed_attempts_customer_id_at"), ["customer_id", "at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_failed_attempts_device_key_at"), ["device_key", "at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("failed_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_failed_attempts_device_key_at"))
        batch_op.drop_index(batch_op.f("ix_failed_attempts_customer_id_at"))
    op.drop_table("failed_attempts")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("issuer_expires_at")
        batch_op.drop_column("issuer_purchased_at")
        batch_op.drop_column("decision")
        batch_op.drop_column("warning")
        batch_op.drop_column("hold_until")
