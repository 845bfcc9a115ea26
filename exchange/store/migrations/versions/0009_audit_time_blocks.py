"""Audit time blocks: the earliest and latest `at` of each thousand consecutive entries.

A time-window query reads the blocks the window overlaps (one row per thousand entries)
to bound its seq range, then pages newest first along the primary key inside it, instead
of walking the primary key from the newest entry or sorting the whole window. The blocks
of the entries already stored are computed here; `AuditRepository` keeps them up to date.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# `exchange.store.models_audit.AUDIT_TIME_BLOCK_ENTRIES` at this revision.
BLOCK_ENTRIES = 1000


def upgrade() -> None:
    op.create_table(
        "audit_time_blocks",
        sa.Column("block", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("earliest_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latest_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("block", name="pk_audit_time_blocks"),
    )
    # Both databases divide integers as integers; SQLite keeps `at` as UTC text of one
    # fixed width, so its min and max are the earliest and latest times there too.
    op.execute(
        "INSERT INTO audit_time_blocks (block, earliest_at, latest_at) "
        f"SELECT (seq - 1) / {BLOCK_ENTRIES}, min(at), max(at) FROM audit_entries "
        f"GROUP BY (seq - 1) / {BLOCK_ENTRIES}"
    )


def downgrade() -> None:
    op.drop_table("audit_time_blocks")
