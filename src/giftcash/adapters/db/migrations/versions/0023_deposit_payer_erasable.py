"""Privacy: a deposit's payer name is erased (NULL) once the transaction records' keep
period is over (privacy/purge.py), as a statement line's counterparty is.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 05:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order_deposits", schema=None) as batch_op:
        batch_op.alter_column("payer_name", existing_type=sa.Text(), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE order_deposits SET payer_name = '' WHERE payer_name IS NULL")
    with op.batch_alter_table("order_deposits", schema=None) as batch_op:
        batch_op.alter_column("payer_name", existing_type=sa.Text(), nullable=False)
