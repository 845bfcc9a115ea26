"""Record keys: every record id of each (subject, key), for the access report.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "record_keys",
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("key", sa.String(512), nullable=False),
        sa.PrimaryKeyConstraint("record_id", name="pk_record_keys"),
    )
    op.create_index("ix_record_keys_subject_key", "record_keys", ["subject", "key"])


def downgrade() -> None:
    op.drop_index("ix_record_keys_subject_key", table_name="record_keys")
    op.drop_table("record_keys")
