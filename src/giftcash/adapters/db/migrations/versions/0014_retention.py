"""Retention and destruction (issue 14, item 4): the customers' withdrawal, last sign-in
and pseudonymisation, the bank accounts' destruction, sealed (redactable) audit records,
and the log of console views of personal data.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 07:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_active_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("pseudonymised_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_customers_status_id"), ["status", "id"], unique=False)
    with op.batch_alter_table("bank_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True))
    # Sealed audit records (audit/log.py); the records written before stay as they are.
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body_digest", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("salt", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("redacted_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "personal_data_access",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("view_id", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("operator_id", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("page", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("customer_id", sa.Text(), nullable=True),
        sa.Column("fields", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_data_access")),
    )
    with op.batch_alter_table("personal_data_access", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_personal_data_access_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_personal_data_access_customer_id_at"),
            ["customer_id", "at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_personal_data_access_operator_id_at"),
            ["operator_id", "at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("personal_data_access", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_personal_data_access_operator_id_at"))
        batch_op.drop_index(batch_op.f("ix_personal_data_access_customer_id_at"))
        batch_op.drop_index(batch_op.f("ix_personal_data_access_at"))
    op.drop_table("personal_data_access")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("redacted_at")
        batch_op.drop_column("salt")
        batch_op.drop_column("body_digest")
    with op.batch_alter_table("bank_accounts", schema=None) as batch_op:
        batch_op.drop_column("destroyed_at")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_status_id"))
        batch_op.drop_column("pseudonymised_at")
        batch_op.drop_column("withdrawn_at")
        batch_op.drop_column("last_active_at")
