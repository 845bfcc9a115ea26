"""Connectors' tables: each connector's definition, lifecycle and lease, its offsets, and
the live workers that share them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from exchange.store.models import Base
from exchange.store.utc_datetime import UTCDateTime


class ConnectorModel(Base):
    """A configured connector: what it is, what it should be doing (`target_state`), the
    worker holding it (`lease_owner` until `lease_expires_at`) and how it last failed."""

    __tablename__ = "connectors"
    __table_args__ = (
        CheckConstraint("kind IN ('source', 'sink')", name="kind"),
        CheckConstraint("target_state IN ('RUNNING', 'PAUSED', 'STOPPED')", name="target_state"),
    )

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    department: Mapped[str] = mapped_column(String(63), ForeignKey("departments.code"))
    kind: Mapped[str] = mapped_column(String(8))
    class_name: Mapped[str] = mapped_column(String(63))
    subject: Mapped[str] = mapped_column(String(255), ForeignKey("subjects.name"))
    grant_id: Mapped[str | None] = mapped_column(String(64))
    config: Mapped[str] = mapped_column(Text())
    target_state: Mapped[str] = mapped_column(String(8))
    restart_generation: Mapped[int] = mapped_column(Integer(), default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failure_count: Mapped[int] = mapped_column(Integer(), default=0)
    next_restart_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text())
    last_trace: Mapped[str | None] = mapped_column(Text())
    records_in: Mapped[int] = mapped_column(BigInteger(), default=0)
    records_out: Mapped[int] = mapped_column(BigInteger(), default=0)
    dead_lettered: Mapped[int] = mapped_column(BigInteger(), default=0)
    lag: Mapped[int | None] = mapped_column(BigInteger())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConnectorOffsetModel(Base):
    """Where a connector is in one of its partitions (a file, a table, a subscription)."""

    __tablename__ = "connector_offsets"
    __table_args__ = (
        PrimaryKeyConstraint("connector", "source_partition", name="pk_connector_offsets"),
    )

    connector: Mapped[str] = mapped_column(String(63), ForeignKey("connectors.name"))
    source_partition: Mapped[str] = mapped_column(String(512))
    # JSON text: each connector class defines the shape of its own offsets.
    offset: Mapped[str] = mapped_column(Text())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConnectWorkerModel(Base):
    """A live `exchange connect` worker and how long its heartbeat holds: workers count
    each other here to take a fair share of the connectors each."""

    __tablename__ = "connect_workers"

    worker_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
