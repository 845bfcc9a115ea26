"""The store's tables as SQLAlchemy declarative models, portable across SQLite and PostgreSQL.

Only the store package imports these; repositories turn rows into `exchange.store.records`
values. The schema itself is created by the Alembic migrations, which must match these
models (a test compares them).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from exchange.store.records import AuditDecision, OperatorRole, PrincipalKind
from exchange.store.utc_datetime import UTCDateTime

# Stable constraint names, so later migrations can refer to them on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit sequence.
SequenceNumber = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base of every store model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class DepartmentModel(Base):
    """A department that publishes and receives records."""

    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(63), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    contact: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OperatorModel(Base):
    """A platform operator: administrator or auditor."""

    __tablename__ = "operators"
    __table_args__ = (CheckConstraint("role IN ('admin', 'auditor')", name="role"),)

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    role: Mapped[OperatorRole] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PrincipalKeyModel(Base):
    """An Ed25519 public key by which a department or an operator signs requests."""

    __tablename__ = "principal_keys"
    __table_args__ = (
        CheckConstraint("principal_kind IN ('department', 'operator')", name="principal_kind"),
        Index("ix_principal_keys_principal", "principal_kind", "principal_name"),
    )

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    principal_kind: Mapped[PrincipalKind] = mapped_column(String(16))
    principal_name: Mapped[str] = mapped_column(String(63))
    public_key: Mapped[str] = mapped_column(Text())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UsedNonceModel(Base):
    """A request-signature nonce already seen; the primary key makes a replay fail atomically."""

    __tablename__ = "used_nonces"
    __table_args__ = (Index("ix_used_nonces_expires_at", "expires_at"),)

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HubKeyModel(Base):
    """One of the hub's own signing keys (current or retired)."""

    __tablename__ = "hub_keys"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_key: Mapped[str] = mapped_column(Text())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEntryModel(Base):
    """One entry of the append-only audit log, in `seq` order."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        CheckConstraint("decision IN ('allow', 'deny', 'error')", name="decision"),
        Index("ix_audit_entries_actor_seq", "actor", "seq"),
        Index("ix_audit_entries_actor_decision_seq", "actor", "decision", "seq"),
        Index("ix_audit_entries_subject_seq", "subject", "seq"),
        Index("ix_audit_entries_action_seq", "action", "seq"),
        Index("ix_audit_entries_decision_seq", "decision", "seq"),
        Index("ix_audit_entries_at", "at"),
        # AUTOINCREMENT: SQLite must never reuse a sequence number, even of a deleted row.
        {"sqlite_autoincrement": True},
    )

    seq: Mapped[int] = mapped_column(SequenceNumber, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(255))
    actor_role: Mapped[str | None] = mapped_column(String(32))
    key_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    resource: Mapped[str | None] = mapped_column(String(1024))
    subject: Mapped[str | None] = mapped_column(String(255))
    decision: Mapped[AuditDecision] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(Text())
    status: Mapped[int | None] = mapped_column(Integer())
    request_id: Mapped[str | None] = mapped_column(String(64))
    request_digest: Mapped[str | None] = mapped_column(String(128))
    # A JSON array of record ids, as text: portable, and searchable with LIKE.
    record_ids: Mapped[str] = mapped_column(Text(), default="[]")
    purpose: Mapped[str | None] = mapped_column(Text())
    grant_id: Mapped[str | None] = mapped_column(String(64))


# The registry's models live in their own module; importing it here puts their tables on
# `Base.metadata` for every user of it (Alembic, the drift test). At the end: it needs `Base`.
import exchange.store.models_audit  # noqa: E402
import exchange.store.models_connectors  # noqa: E402
import exchange.store.models_grants  # noqa: E402
import exchange.store.models_publish  # noqa: E402
import exchange.store.models_registry  # noqa: E402, F401
