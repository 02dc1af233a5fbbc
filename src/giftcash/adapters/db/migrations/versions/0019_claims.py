"""Resale: the buyer's guarantee. A delivered order records when it was delivered
(``delivered_at``, the start of the guarantee window; orders delivered before this
revision take the time of their last change, which was their delivery), and a buyer's
claim on a delivered unit is kept in ``claims``, one per unit, with the issuer's answer.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 02:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE orders SET delivered_at = updated_at WHERE status = 'delivered'")
    op.create_table(
        "claims",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("unit_id", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("seller_id", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("issuer_status", sa.String(length=16), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_where", sa.String(length=200), nullable=True),
        sa.Column("refund", sa.String(length=16), nullable=True),
        sa.Column("payout_id", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_claims_amount")),
        sa.CheckConstraint(
            "status IN ('review', 'refunded', 'refused')", name=op.f("ck_claims_status")
        ),
        sa.CheckConstraint(
            "refund IS NULL OR refund IN ('deposit_return', 'payout', 'owed')",
            name=op.f("ck_claims_refund"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_claims_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["inventory_units.id"], name=op.f("fk_claims_unit_id_inventory_units")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_claims_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["customers.id"], name=op.f("fk_claims_seller_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["payout_id"], ["payouts.id"], name=op.f("fk_claims_payout_id_payouts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claims")),
        sa.UniqueConstraint("unit_id", name=op.f("uq_claims_unit_id")),
    )
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claims_order_id"), ["order_id"])


def downgrade() -> None:
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claims_order_id"))
    op.drop_table("claims")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("delivered_at")
