"""The schema registry's tables: subjects (the data catalogue) and their schema versions.

Kept apart from `models.py` (one concept per module); `models.py` imports this module so
that `Base.metadata` always holds these tables for Alembic and the drift test.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from exchange.store.models import Base
from exchange.store.records_registry import Compatibility, Sensitivity
from exchange.store.utc_datetime import UTCDateTime


class SubjectModel(Base):
    """A subject: one kind of record, owned by one department, with catalogue metadata."""

    __tablename__ = "subjects"
    __table_args__ = (
        CheckConstraint(
            "sensitivity IN ('public', 'internal', 'confidential', 'secret')",
            name="sensitivity",
        ),
        CheckConstraint(
            "compatibility IN ('NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD',"
            " 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE')",
            name="compatibility",
        ),
        Index("ix_subjects_owner_name", "owner", "name"),
        Index("ix_subjects_sensitivity_name", "sensitivity", "name"),
    )

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    owner: Mapped[str] = mapped_column(String(63), ForeignKey("departments.code"))
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text())
    sensitivity: Mapped[Sensitivity] = mapped_column(String(16))
    key_field: Mapped[str] = mapped_column(String(255))
    compatibility: Mapped[Compatibility] = mapped_column(String(32))
    retention_days: Mapped[int | None] = mapped_column(Integer())
    topic: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SchemaVersionModel(Base):
    """One JSON Schema version of a subject; never deleted, only deprecated."""

    __tablename__ = "schema_versions"
    __table_args__ = (
        UniqueConstraint("subject", "fingerprint", name="uq_schema_versions_subject_fingerprint"),
    )

    subject: Mapped[str] = mapped_column(String(255), ForeignKey("subjects.name"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer(), primary_key=True, autoincrement=False)
    # The schema's RFC 8785 canonical JSON, and the SHA-256 (hex) of those bytes.
    schema: Mapped[str] = mapped_column(Text())
    fingerprint: Mapped[str] = mapped_column(String(64))
    registered_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deprecated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
