"""Resale, claims in review settled by an operator (issue 15 item 5): who settled a claim,
when, and their note.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 03:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resolved_by", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("resolution_note", sa.String(500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_column("resolution_note")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("resolved_by")
