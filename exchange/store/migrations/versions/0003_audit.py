"""Tamper-evident audit log: Merkle leaves, record-id index, signed checkpoints.

Revision ID: 0003
Revises: 0002
Create Date: 2024-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEQUENCE_NUMBER = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_leaves",
        sa.Column("seq", SEQUENCE_NUMBER, autoincrement=False, nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_leaves"),
        sa.UniqueConstraint("event_id", name="uq_audit_leaves_event_id"),
    )
    op.create_table(
        "audit_record_ids",
        sa.Column("record_id", sa.String(255), nullable=False),
        sa.Column("seq", SEQUENCE_NUMBER, autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("record_id", "seq", name="pk_audit_record_ids"),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("frontier", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name="pk_audit_checkpoints"),
    )
    op.create_index("ix_audit_entries_key_id_seq", "audit_entries", ["key_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_audit_entries_key_id_seq", table_name="audit_entries")
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_record_ids")
    op.drop_table("audit_leaves")
