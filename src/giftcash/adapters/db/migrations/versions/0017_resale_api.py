"""Resale, the operator's prices (issue 15): a resell brand's resale pricing by days left
before expiry, overriding the catalogue's (JSON text as ``domain.resale.pricing_wire``
writes it; NULL: the catalogue's).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 17:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("brand_overrides", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resale_pricing", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("brand_overrides", schema=None) as batch_op:
        batch_op.drop_column("resale_pricing")
