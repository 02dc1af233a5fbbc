"""Banks' hours and dispute evidence (issue 14, items 5 and 6): announced bank
maintenance, a payout's closure by its bank and its time inside bank windows, and the
issuer's answers about each item.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 06:23:54.341445
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bank_maintenance",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("bank_code", sa.String(length=3), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "ends_at > starts_at", name=op.f("ck_bank_maintenance_ends_after_start")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_maintenance")),
    )
    with op.batch_alter_table("bank_maintenance", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bank_maintenance_ends_at"), ["ends_at"], unique=False)

    op.create_table(
        "issuer_evidence",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("item_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("issuer", sa.String(length=64), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_where", sa.String(length=64), nullable=True),
        sa.Column("issuer_ref", sa.String(length=64), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('inquiry', 'redemption')", name=op.f("ck_issuer_evidence_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_issuer_evidence_item_id_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issuer_evidence")),
    )
    with op.batch_alter_table("issuer_evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_issuer_evidence_item_id"), ["item_id"], unique=False)

    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("bank_closed_from", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("bank_closed_until", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("bank_window_s", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.drop_column("bank_window_s")
        batch_op.drop_column("bank_closed_until")
        batch_op.drop_column("bank_closed_from")

    with op.batch_alter_table("issuer_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issuer_evidence_item_id"))

    op.drop_table("issuer_evidence")
    with op.batch_alter_table("bank_maintenance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_maintenance_ends_at"))

    op.drop_table("bank_maintenance")
