"""Connector workers' heartbeats: each live `exchange connect` worker and until when it
counts as live, so workers split the connectors between them (each takes its fair share)
instead of the first one claiming all.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "connect_workers",
        sa.Column("worker_id", sa.String(128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker_id", name="pk_connect_workers"),
    )


def downgrade() -> None:
    op.drop_table("connect_workers")
