"""Resale, the operator's dispositions (issue 15 items 1 and 7): a brand redeemed at its
issuer or resold to buyers, overriding the catalogue's (``redeem`` | ``resell``; NULL: the
catalogue's).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 02:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("brand_overrides", schema=None) as batch_op:
        # checked by the service (catalogue/overrides.py) before it is written
        batch_op.add_column(sa.Column("disposition", sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("brand_overrides", schema=None) as batch_op:
        batch_op.drop_column("disposition")
