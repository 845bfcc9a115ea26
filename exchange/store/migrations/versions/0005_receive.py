"""Receiving: subscriptions and the latest-record view served by lookups.

Revision ID: 0005
Revises: 0004
Create Date: 2024-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def utc(name: str) -> sa.Column[object]:
    """A timezone-aware timestamp column (see exchange.store.utc_datetime)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("department", sa.String(63), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("grant_id", sa.String(64), nullable=False),
        sa.Column("start", sa.String(8), nullable=False),
        utc("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_subscriptions"),
        sa.ForeignKeyConstraint(
            ["department"], ["departments.code"], name="fk_subscriptions_department_departments"
        ),
        sa.ForeignKeyConstraint(
            ["subject"], ["subjects.name"], name="fk_subscriptions_subject_subjects"
        ),
        sa.CheckConstraint("start IN ('earliest', 'latest')", name="ck_subscriptions_start"),
    )
    op.create_index(
        "ix_subscriptions_department_created_at", "subscriptions", ["department", "created_at"]
    )
    op.create_table(
        "latest_records",
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("log_partition", sa.Integer(), nullable=False),
        sa.Column("log_offset", sa.BigInteger(), nullable=False),
        utc("updated_at"),
        sa.PrimaryKeyConstraint("subject", "key", name="pk_latest_records"),
    )


def downgrade() -> None:
    op.drop_table("latest_records")
    op.drop_index("ix_subscriptions_department_created_at", table_name="subscriptions")
    op.drop_table("subscriptions")
