"""Connectors: definitions, lifecycle, leases and offsets.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def utc(name: str, nullable: bool = False) -> sa.Column[object]:
    """A timezone-aware timestamp column (see exchange.store.utc_datetime)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "connectors",
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("department", sa.String(63), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("class_name", sa.String(63), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("grant_id", sa.String(64), nullable=True),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("target_state", sa.String(8), nullable=False),
        sa.Column("restart_generation", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        utc("lease_expires_at", nullable=True),
        utc("failed_at", nullable=True),
        sa.Column("failure_count", sa.Integer(), nullable=False),
        utc("next_restart_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_trace", sa.Text(), nullable=True),
        sa.Column("records_in", sa.BigInteger(), nullable=False),
        sa.Column("records_out", sa.BigInteger(), nullable=False),
        sa.Column("dead_lettered", sa.BigInteger(), nullable=False),
        sa.Column("lag", sa.BigInteger(), nullable=True),
        utc("created_at"),
        utc("updated_at"),
        sa.PrimaryKeyConstraint("name", name="pk_connectors"),
        sa.ForeignKeyConstraint(
            ["department"], ["departments.code"], name="fk_connectors_department_departments"
        ),
        sa.ForeignKeyConstraint(
            ["subject"], ["subjects.name"], name="fk_connectors_subject_subjects"
        ),
        sa.CheckConstraint("kind IN ('source', 'sink')", name="ck_connectors_kind"),
        sa.CheckConstraint(
            "target_state IN ('RUNNING', 'PAUSED', 'STOPPED')", name="ck_connectors_target_state"
        ),
    )
    op.create_table(
        "connector_offsets",
        sa.Column("connector", sa.String(63), nullable=False),
        sa.Column("source_partition", sa.String(512), nullable=False),
        sa.Column("offset", sa.Text(), nullable=False),
        utc("updated_at"),
        sa.PrimaryKeyConstraint("connector", "source_partition", name="pk_connector_offsets"),
        sa.ForeignKeyConstraint(
            ["connector"], ["connectors.name"], name="fk_connector_offsets_connector_connectors"
        ),
    )


def downgrade() -> None:
    op.drop_table("connector_offsets")
    op.drop_table("connectors")
