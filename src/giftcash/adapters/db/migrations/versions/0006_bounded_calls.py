"""Bounds on foreign calls that cost money or trust: one row per bounded call with the
keys its bounds count by, a head row per kind that serialises check-and-record, and the
providers' circuit-breaker trips.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEYS = ("address", "person", "range_key", "account")


def upgrade() -> None:
    op.create_table(
        "bounded_calls",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("address", sa.String(length=128), nullable=True),
        sa.Column("person", sa.String(length=128), nullable=True),
        sa.Column("range_key", sa.String(length=32), nullable=True),
        sa.Column("account", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bounded_calls")),
    )
    with op.batch_alter_table("bounded_calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bounded_calls_kind_at"), ["kind", "at"], unique=False)
        for key in _KEYS:
            batch_op.create_index(
                batch_op.f(f"ix_bounded_calls_kind_{key}_at"), ["kind", key, "at"], unique=False
            )
    op.create_table(
        "bound_heads",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("calls", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_bound_heads")),
    )
    op.create_table(
        "breaker_trips",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("tripped_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_breaker_trips")),
    )
    with op.batch_alter_table("breaker_trips", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_breaker_trips_provider_until"), ["provider", "until"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("breaker_trips", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_breaker_trips_provider_until"))
    op.drop_table("breaker_trips")
    op.drop_table("bound_heads")
    with op.batch_alter_table("bounded_calls", schema=None) as batch_op:
        for key in reversed(_KEYS):
            batch_op.drop_index(batch_op.f(f"ix_bounded_calls_kind_{key}_at"))
        batch_op.drop_index(batch_op.f("ix_bounded_calls_kind_at"))
    op.drop_table("bounded_calls")
