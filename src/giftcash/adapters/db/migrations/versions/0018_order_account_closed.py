"""Resale: an expired order records when its virtual account was closed at the bank
(``account_closed_at``; NULL while the close is still due), so a close the bank did not
answer is asked again on a later pass until it is done. And a buyer's money
(``liabilities:buyer:<id>``) joins the liabilities that must stay in credit: the ledger
stores such accounts with the kind the floor CHECK keys on, so buyer accounts made
before this revision get that kind here (a buyer account already in debit makes the
upgrade fail, which is the books telling the truth).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 17:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("account_closed_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.execute(
        "UPDATE ledger_accounts SET kind = 'customer_liability'"
        " WHERE path LIKE 'liabilities:buyer:%'"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE ledger_accounts SET kind = 'liabilities' WHERE path LIKE 'liabilities:buyer:%'"
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("account_closed_at")
