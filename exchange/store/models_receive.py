"""Receiving's tables: subscriptions, and the latest-record view that lookups read.

Kept apart from `models.py` (one concept per module); importing this module puts the
tables on `Base.metadata` (the repositories package imports it, so every user of the store
sees them).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from exchange.store.models import Base
from exchange.store.records_receive import SubscriptionStart
from exchange.store.utc_datetime import UTCDateTime


class SubscriptionModel(Base):
    """A subscription: a department's consumer group on a subject's topic, under a grant."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint("start IN ('earliest', 'latest')", name="start"),
        Index("ix_subscriptions_department_created_at", "department", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    department: Mapped[str] = mapped_column(String(63), ForeignKey("departments.code"))
    subject: Mapped[str] = mapped_column(String(255), ForeignKey("subjects.name"))
    grant_id: Mapped[str] = mapped_column(String(64))
    start: Mapped[SubscriptionStart] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LatestRecordModel(Base):
    """The newest record per (subject, key): derived from the topics, so no foreign keys;
    `exchange view rebuild` can always recreate it."""

    __tablename__ = "latest_records"

    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36))
    envelope: Mapped[str] = mapped_column(Text())
    log_partition: Mapped[int] = mapped_column(Integer())
    log_offset: Mapped[int] = mapped_column(BigInteger())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RecordKeyModel(Base):
    """Every record id of every (subject, key), for the access report: derived from the
    topics like the latest-record view, and rebuilt with it."""

    __tablename__ = "record_keys"
    __table_args__ = (Index("ix_record_keys_subject_key", "subject", "key"),)

    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255))
    key: Mapped[str] = mapped_column(String(512))
