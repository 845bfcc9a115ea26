"""Publishing's table: idempotency keys, so a retried publish produces nothing twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, PrimaryKeyConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from exchange.store.models import Base
from exchange.store.utc_datetime import UTCDateTime


class IdempotencyKeyModel(Base):
    """A caller's `Idempotency-Key`: claimed before the work, completed with its response."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (PrimaryKeyConstraint("principal", "key", name="pk_idempotency_keys"),)

    principal: Mapped[str] = mapped_column(String(128))
    key: Mapped[str] = mapped_column(String(256))
    request_digest: Mapped[str] = mapped_column(String(128))
    # Null while the first request is still being answered.
    status: Mapped[int | None] = mapped_column(Integer())
    response_body: Mapped[str | None] = mapped_column(Text())
    # What the claiming attempt was about to produce (its envelopes), kept before producing.
    intent: Mapped[str | None] = mapped_column(Text())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
