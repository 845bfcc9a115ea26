"""Schema registry and data catalogue: subjects and their schema versions.

Revision ID: 0002
Revises: 0001
Create Date: 2024-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def utc(name: str, *, nullable: bool = False) -> sa.Column[object]:
    """A timezone-aware timestamp column (see exchange.store.utc_datetime)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "subjects",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("owner", sa.String(63), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("sensitivity", sa.String(16), nullable=False),
        sa.Column("key_field", sa.String(255), nullable=False),
        sa.Column("compatibility", sa.String(32), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=True),
        sa.Column("topic", sa.String(255), nullable=False),
        utc("created_at"),
        utc("updated_at"),
        sa.PrimaryKeyConstraint("name", name="pk_subjects"),
        sa.ForeignKeyConstraint(
            ["owner"], ["departments.code"], name="fk_subjects_owner_departments"
        ),
        sa.CheckConstraint(
            "sensitivity IN ('public', 'internal', 'confidential', 'secret')",
            name="ck_subjects_sensitivity",
        ),
        sa.CheckConstraint(
            "compatibility IN ('NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD',"
            " 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE')",
            name="ck_subjects_compatibility",
        ),
    )
    op.create_index("ix_subjects_owner_name", "subjects", ["owner", "name"])
    op.create_index("ix_subjects_sensitivity_name", "subjects", ["sensitivity", "name"])
    op.create_table(
        "schema_versions",
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("schema", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("registered_by", sa.String(255), nullable=False),
        utc("created_at"),
        utc("deprecated_at", nullable=True),
        sa.PrimaryKeyConstraint("subject", "version", name="pk_schema_versions"),
        sa.ForeignKeyConstraint(
            ["subject"], ["subjects.name"], name="fk_schema_versions_subject_subjects"
        ),
        sa.UniqueConstraint(
            "subject", "fingerprint", name="uq_schema_versions_subject_fingerprint"
        ),
    )


def downgrade() -> None:
    op.drop_table("schema_versions")
    op.drop_index("ix_subjects_sensitivity_name", table_name="subjects")
    op.drop_index("ix_subjects_owner_name", table_name="subjects")
    op.drop_table("subjects")
