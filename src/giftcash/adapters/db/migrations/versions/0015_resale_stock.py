"""Resale, the seller's side (issue 15, items 1 and 6): inventory units (a resell brand's
verified voucher held to sell) and a brand's payout hold for its stocked vouchers.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 08:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("brand_overrides", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resell_hold_s", sa.Integer(), nullable=True))
    op.create_table(
        "inventory_units",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("item_id", sa.Text(), nullable=False),
        sa.Column("brand_id", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("face_value", sa.BigInteger(), nullable=False),
        sa.Column("cost", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "face_value > 0 AND cost > 0 AND cost <= face_value",
            name=op.f("ck_inventory_units_amounts"),
        ),
        sa.CheckConstraint(
            "status IN ('stocked', 'reserved', 'delivered', 'withdrawn', 'claimed', 'refunded',"
            " 'upheld')",
            name=op.f("ck_inventory_units_status"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_inventory_units_item_id_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_units")),
        sa.UniqueConstraint("item_id", name=op.f("uq_inventory_units_item_id")),
    )
    with op.batch_alter_table("inventory_units", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inventory_units_brand_id_status_expires_at"),
            ["brand_id", "status", "expires_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("inventory_units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inventory_units_brand_id_status_expires_at"))
    op.drop_table("inventory_units")
    with op.batch_alter_table("brand_overrides", schema=None) as batch_op:
        batch_op.drop_column("resell_hold_s")
