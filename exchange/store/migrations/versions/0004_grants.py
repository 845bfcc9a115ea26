"""Grants: who may receive which subject, and the history of every change to them.

Revision ID: 0004
Revises: 0003
Create Date: 2024-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = "('pending', 'approved', 'rejected', 'revoked')"


def utc(name: str, *, nullable: bool = False) -> sa.Column[object]:
    """A timezone-aware timestamp column (see exchange.store.utc_datetime)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "grants",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("owner", sa.String(63), nullable=False),
        sa.Column("consumer", sa.String(63), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("fields", sa.Text(), nullable=True),
        utc("expires_at", nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        utc("created_at"),
        utc("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_grants"),
        sa.ForeignKeyConstraint(["subject"], ["subjects.name"], name="fk_grants_subject_subjects"),
        sa.ForeignKeyConstraint(
            ["owner"], ["departments.code"], name="fk_grants_owner_departments"
        ),
        sa.ForeignKeyConstraint(
            ["consumer"], ["departments.code"], name="fk_grants_consumer_departments"
        ),
        sa.CheckConstraint(f"status IN {STATUSES}", name="ck_grants_status"),
    )
    op.create_index("ix_grants_consumer_id", "grants", ["consumer", "id"])
    op.create_index("ix_grants_owner_id", "grants", ["owner", "id"])
    op.create_index("ix_grants_subject_id", "grants", ["subject", "id"])
    op.create_table(
        "grant_events",
        sa.Column("grant_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
        utc("at"),
        sa.Column("fields", sa.Text(), nullable=True),
        utc("expires_at", nullable=True),
        sa.PrimaryKeyConstraint("grant_id", "version", name="pk_grant_events"),
        sa.ForeignKeyConstraint(
            ["grant_id"], ["grants.id"], name="fk_grant_events_grant_id_grants"
        ),
        sa.CheckConstraint(f"to_status IN {STATUSES}", name="ck_grant_events_to_status"),
    )
    op.create_index("ix_grant_events_at", "grant_events", ["at"])


def downgrade() -> None:
    op.drop_index("ix_grant_events_at", table_name="grant_events")
    op.drop_table("grant_events")
    op.drop_index("ix_grants_subject_id", table_name="grants")
    op.drop_index("ix_grants_owner_id", table_name="grants")
    op.drop_index("ix_grants_consumer_id", table_name="grants")
    op.drop_table("grants")
