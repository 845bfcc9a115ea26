"""The `exchange.audit` topic: one partition, so every hub instance's events share one order."""

from __future__ import annotations

from exchange.transport import Transport

AUDIT_TOPIC = "exchange.audit"
AUDIT_WRITER_GROUP = "exchange.audit-writer"
AUDIT_PARTITIONS = 1


def ensure_audit_topic(
    transport: Transport, replication_factor: int = 1, topic: str = AUDIT_TOPIC
) -> None:
    """Create the audit topic (one partition) if it is absent (idempotent)."""
    transport.create_topic(topic, AUDIT_PARTITIONS, replication_factor)
