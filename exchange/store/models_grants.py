"""The grants' tables: each grant's live version, and the history of its changes.

Kept apart from `models.py` (one concept per module); `models.py` imports this module so
that `Base.metadata` always holds these tables for Alembic and the drift test.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from exchange.policy.principals import Role
from exchange.store.models import Base
from exchange.store.records_grants import GrantStatus
from exchange.store.utc_datetime import UTCDateTime

_STATUSES = "('pending', 'approved', 'rejected', 'revoked')"


class GrantModel(Base):
    """The current version of a grant; `version` moves on with every change."""

    __tablename__ = "grants"
    __table_args__ = (
        CheckConstraint(f"status IN {_STATUSES}", name="status"),
        Index("ix_grants_consumer_id", "consumer", "id"),
        Index("ix_grants_owner_id", "owner", "id"),
        Index("ix_grants_subject_id", "subject", "id"),
    )

    # A UUIDv7: ordering by id lists grants in the order they were requested.
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), ForeignKey("subjects.name"))
    owner: Mapped[str] = mapped_column(String(63), ForeignKey("departments.code"))
    consumer: Mapped[str] = mapped_column(String(63), ForeignKey("departments.code"))
    purpose: Mapped[str] = mapped_column(Text())
    # A JSON array of JSON Pointers; NULL grants the whole payload.
    fields: Mapped[str | None] = mapped_column(Text())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[GrantStatus] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GrantEventModel(Base):
    """One change of a grant (append-only): the terms it left in force, who, and when."""

    __tablename__ = "grant_events"
    __table_args__ = (
        CheckConstraint(f"to_status IN {_STATUSES}", name="to_status"),
        Index("ix_grant_events_at", "at"),
    )

    grant_id: Mapped[str] = mapped_column(String(36), ForeignKey("grants.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer(), primary_key=True, autoincrement=False)
    from_status: Mapped[GrantStatus | None] = mapped_column(String(16))
    to_status: Mapped[GrantStatus] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(255))
    actor_role: Mapped[Role] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    fields: Mapped[str | None] = mapped_column(Text())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
