"""Resale, the buyer's side (issue 15, items 2 and 3): orders, the order holding each
reserved unit, and deposits to an order's virtual account (unique by the bank's deposit
id, so a repeated notification records nothing new).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 08:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("brand_id", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("face_value", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("virtual_account_key", sa.String(length=64), nullable=False),
        sa.Column("virtual_account_id", sa.Text(), nullable=True),
        sa.Column("virtual_account_number", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "face_value > 0 AND quantity > 0 AND amount > 0", name=op.f("ck_orders_amounts")
        ),
        sa.CheckConstraint(
            "status IN ('awaiting_payment', 'paid', 'delivered', 'expired', 'refunded')",
            name=op.f("ck_orders_status"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_orders_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("virtual_account_key", name=op.f("uq_orders_virtual_account_key")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_orders_customer_id_created_at"), ["customer_id", "created_at"]
        )
        batch_op.create_index(batch_op.f("ix_orders_status_deadline"), ["status", "deadline"])
    op.create_table(
        "order_deposits",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("bank_deposit_id", sa.Text(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("payer_name", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("return_reason", sa.String(length=32), nullable=True),
        sa.Column("return_key", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_order_deposits_amount")),
        sa.CheckConstraint(
            "status IN ('received', 'matched', 'returning', 'returned')",
            name=op.f("ck_order_deposits_status"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_deposits_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_deposits")),
        sa.UniqueConstraint("bank_deposit_id", name=op.f("uq_order_deposits_bank_deposit_id")),
        sa.UniqueConstraint("return_key", name=op.f("uq_order_deposits_return_key")),
    )
    with op.batch_alter_table("order_deposits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_deposits_order_id"), ["order_id"])
        batch_op.create_index(batch_op.f("ix_order_deposits_status"), ["status"])
    with op.batch_alter_table("inventory_units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("order_id", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_inventory_units_order_id_orders"), "orders", ["order_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_inventory_units_order_id"), ["order_id"])


def downgrade() -> None:
    with op.batch_alter_table("inventory_units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inventory_units_order_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_inventory_units_order_id_orders"), type_="foreignkey"
        )
        batch_op.drop_column("order_id")
    with op.batch_alter_table("order_deposits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_deposits_status"))
        batch_op.drop_index(batch_op.f("ix_order_deposits_order_id"))
    op.drop_table("order_deposits")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_status_deadline"))
        batch_op.drop_index(batch_op.f("ix_orders_customer_id_created_at"))
    op.drop_table("orders")
