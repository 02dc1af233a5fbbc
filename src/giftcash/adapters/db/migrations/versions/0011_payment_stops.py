"""Payment stops (지급정지): the stops banks, the police and our staff file, and what each
found (one row per item it covers).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 06:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_stops",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=True),
        sa.Column("subject_hmac", sa.String(length=64), nullable=True),
        sa.Column("subject_masked", sa.String(length=64), nullable=False),
        sa.Column("bank_code", sa.String(length=8), nullable=True),
        sa.Column("requester", sa.String(length=16), nullable=False),
        sa.Column("requester_name", sa.Text(), nullable=False),
        sa.Column("requester_contact", sa.Text(), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.Text(), nullable=True),
        sa.Column("close_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "scope IN ('account', 'customer', 'code')", name=op.f("ck_payment_stops_scope")
        ),
        sa.CheckConstraint(
            "requester IN ('bank', 'police', 'internal')",
            name=op.f("ck_payment_stops_requester"),
        ),
        sa.CheckConstraint(
            "state IN ('active', 'released', 'settled')", name=op.f("ck_payment_stops_state")
        ),
        sa.CheckConstraint(
            "(scope = 'customer' AND customer_id IS NOT NULL)"
            " OR (scope <> 'customer' AND subject_hmac IS NOT NULL)",
            name=op.f("ck_payment_stops_subject"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_stops")),
    )
    with op.batch_alter_table("payment_stops", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_stops_state_scope"), ["state", "scope"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_payment_stops_subject_hmac"), ["subject_hmac"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_payment_stops_customer_id"), ["customer_id"], unique=False
        )
    op.create_table(
        "payment_stop_links",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("stop_id", sa.Text(), nullable=False),
        sa.Column("item_id", sa.Text(), nullable=False),
        sa.Column("payout_id", sa.Text(), nullable=True),
        sa.Column("finding", sa.String(length=16), nullable=False),
        sa.Column("item_status", sa.String(length=16), nullable=False),
        sa.Column("payout_status", sa.String(length=16), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_payment_stop_links_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["stop_id"],
            ["payment_stops.id"],
            name=op.f("fk_payment_stop_links_stop_id_payment_stops"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_stop_links")),
        sa.UniqueConstraint(
            "stop_id", "item_id", name=op.f("uq_payment_stop_links_stop_id_item_id")
        ),
    )
    with op.batch_alter_table("payment_stop_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_stop_links_item_id"), ["item_id"], unique=False
        )
    # a stop by account finds the sales to that account by this index
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_submissions_bank_account_id"), ["bank_account_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submissions_bank_account_id"))
    with op.batch_alter_table("payment_stop_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_stop_links_item_id"))
    op.drop_table("payment_stop_links")
    with op.batch_alter_table("payment_stops", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_stops_customer_id"))
        batch_op.drop_index(batch_op.f("ix_payment_stops_subject_hmac"))
        batch_op.drop_index(batch_op.f("ix_payment_stops_state_scope"))
    op.drop_table("payment_stops")
