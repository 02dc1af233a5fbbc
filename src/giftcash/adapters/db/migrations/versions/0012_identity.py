"""Identity verification (본인인증): each customer's verified person (the CI as a keyed
hash, unique: one person, one customer), the verifications asked of the provider, and
the enhanced due diligence a customer is asked for.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 06:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "customer_identities",
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("ci_hmac", sa.String(length=64), nullable=False),
        sa.Column("details_enc", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_identities_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_identities")),
        sa.UniqueConstraint("ci_hmac", name=op.f("uq_customer_identities_ci_hmac")),
    )
    op.create_table(
        "identity_checks",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("transaction_id", sa.String(length=128), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("consents", JSON, nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "purpose IN ('signup', 'link')", name=op.f("ck_identity_checks_purpose")
        ),
        sa.CheckConstraint(
            "status IN ('started', 'completed', 'refused', 'failed')",
            name=op.f("ck_identity_checks_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_checks")),
        sa.UniqueConstraint("transaction_id", name=op.f("uq_identity_checks_transaction_id")),
    )
    with op.batch_alter_table("identity_checks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_checks_phone_purpose_created_at"),
            ["phone", "purpose", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_identity_checks_customer_id"), ["customer_id"], unique=False
        )
    op.create_table(
        "customer_due_diligence",
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("required_by", sa.Text(), nullable=True),
        sa.Column("required_reason", sa.Text(), nullable=True),
        sa.Column("required_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answers_enc", sa.LargeBinary(), nullable=True),
        sa.Column("answers_key_id", sa.String(length=32), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_due_diligence_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_due_diligence")),
    )


def downgrade() -> None:
    op.drop_table("customer_due_diligence")
    with op.batch_alter_table("identity_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_checks_customer_id"))
        batch_op.drop_index(batch_op.f("ix_identity_checks_phone_purpose_created_at"))
    op.drop_table("identity_checks")
    op.drop_table("customer_identities")
