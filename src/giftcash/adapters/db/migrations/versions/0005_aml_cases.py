"""Suspicious-activity cases: the cases, the evidence behind them (append-only, one fact
once per kind and subject) and the scan state row the detectors lock.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "aml_cases",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("active_key", sa.Text(), nullable=True),
        sa.Column("customer_ids", _json(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_amount", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("evidence_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("summary", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notes", _json(), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'under_review', 'reported', 'dismissed')",
            name=op.f("ck_aml_cases_status"),
        ),
        sa.CheckConstraint(
            "total_amount >= 0 AND evidence_count >= 0", name=op.f("ck_aml_cases_amounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aml_cases")),
        sa.UniqueConstraint("active_key", name=op.f("uq_aml_cases_active_key")),
    )
    with op.batch_alter_table("aml_cases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_aml_cases_status_opened_at"), ["status", "opened_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_aml_cases_kind_subject"), ["kind", "subject"], unique=False
        )
    op.create_table(
        "aml_case_evidence",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("item_id", sa.Text(), nullable=True),
        sa.Column("customer_id", sa.Text(), nullable=True),
        sa.Column("masked", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_aml_case_evidence_amount")),
        sa.ForeignKeyConstraint(
            ["case_id"], ["aml_cases.id"], name=op.f("fk_aml_case_evidence_case_id_aml_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aml_case_evidence")),
        sa.UniqueConstraint(
            "kind", "subject", "key", name=op.f("uq_aml_case_evidence_kind_subject_key")
        ),
    )
    with op.batch_alter_table("aml_case_evidence", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_aml_case_evidence_case_id_at"), ["case_id", "at"], unique=False
        )
    op.create_table(
        "aml_scan_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scans", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_aml_scan_state_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aml_scan_state")),
    )
    state = sa.table(
        "aml_scan_state",
        sa.column("id", sa.Integer),
        sa.column("scanned_at", sa.DateTime),
        sa.column("scans", sa.BigInteger),
    )
    op.bulk_insert(state, [{"id": 1, "scanned_at": None, "scans": 0}])


def downgrade() -> None:
    op.drop_table("aml_scan_state")
    with op.batch_alter_table("aml_case_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_aml_case_evidence_case_id_at"))
    op.drop_table("aml_case_evidence")
    with op.batch_alter_table("aml_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_aml_cases_kind_subject"))
        batch_op.drop_index(batch_op.f("ix_aml_cases_status_opened_at"))
    op.drop_table("aml_cases")
