"""Initial schema: identities, keys, nonces, hub keys and the audit log.

Revision ID: 0001
Revises:
Create Date: 2024-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def utc(name: str, *, nullable: bool = False) -> sa.Column[object]:
    """A timezone-aware timestamp column (see exchange.store.utc_datetime)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "departments",
        sa.Column("code", sa.String(63), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("contact", sa.String(255), nullable=False),
        utc("created_at"),
        sa.PrimaryKeyConstraint("code", name="pk_departments"),
    )
    op.create_table(
        "operators",
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        utc("created_at"),
        sa.PrimaryKeyConstraint("name", name="pk_operators"),
        sa.CheckConstraint("role IN ('admin', 'auditor')", name="ck_operators_role"),
    )
    op.create_table(
        "principal_keys",
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("principal_kind", sa.String(16), nullable=False),
        sa.Column("principal_name", sa.String(63), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        utc("created_at"),
        utc("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("key_id", name="pk_principal_keys"),
        sa.CheckConstraint(
            "principal_kind IN ('department', 'operator')",
            name="ck_principal_keys_principal_kind",
        ),
    )
    op.create_index(
        "ix_principal_keys_principal", "principal_keys", ["principal_kind", "principal_name"]
    )
    op.create_table(
        "used_nonces",
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("nonce", sa.String(128), nullable=False),
        utc("expires_at"),
        sa.PrimaryKeyConstraint("key_id", "nonce", name="pk_used_nonces"),
    )
    op.create_index("ix_used_nonces_expires_at", "used_nonces", ["expires_at"])
    op.create_table(
        "hub_keys",
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        utc("created_at"),
        utc("retired_at", nullable=True),
        sa.PrimaryKeyConstraint("key_id", name="pk_hub_keys"),
    )
    op.create_table(
        "audit_entries",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        utc("at"),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("actor_role", sa.String(32), nullable=True),
        sa.Column("key_id", sa.String(64), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("resource", sa.String(1024), nullable=True),
        sa.Column("subject", sa.String(255), nullable=True),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("request_digest", sa.String(128), nullable=True),
        sa.Column("record_ids", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.Column("grant_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_entries"),
        sa.CheckConstraint(
            "decision IN ('allow', 'deny', 'error')", name="ck_audit_entries_decision"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_entries_actor_seq", "audit_entries", ["actor", "seq"])
    op.create_index("ix_audit_entries_subject_seq", "audit_entries", ["subject", "seq"])
    op.create_index("ix_audit_entries_action_seq", "audit_entries", ["action", "seq"])
    op.create_index("ix_audit_entries_decision_seq", "audit_entries", ["decision", "seq"])
    op.create_index("ix_audit_entries_at", "audit_entries", ["at"])


def downgrade() -> None:
    op.drop_table("audit_entries")
    op.drop_table("hub_keys")
    op.drop_table("used_nonces")
    op.drop_table("principal_keys")
    op.drop_table("operators")
    op.drop_table("departments")
