"""Helpers for audit tests: a signing hub key in the store, events on the audit topic,
and a writer driven until the log reaches a size (polling with a deadline)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from exchange.audit.events import AuditEvent
from exchange.audit.topic_sink import TopicAuditSink
from exchange.audit.writer import AuditWriter, CheckpointPolicy
from exchange.identity.keys import generate_private_key, key_id_of, raw_public_key_b64
from exchange.signing import HubSigner
from exchange.store.database import Database
from exchange.store.models_audit import AUDIT_NODE_MIN_HEIGHT
from exchange.store.repositories import AuditRepository, HubKeyRepository
from exchange.transport import Transport

T0 = datetime(2024, 11, 29, 8, 0, 0, 123456, tzinfo=UTC)


def hub_signer_in(database: Database) -> HubSigner:
    """A fresh hub key, published in the store's `hub_keys` like `exchange init` does."""
    private_key = generate_private_key()
    key_id = key_id_of(private_key.public_key())
    HubKeyRepository(database).add(key_id, raw_public_key_b64(private_key.public_key()))
    return HubSigner(private_key, key_id)


def event(n: int, **fields: object) -> AuditEvent:
    """The n-th test event: alternating actors and decisions, one minute apart."""
    values: dict[str, object] = {
        "at": T0 + timedelta(minutes=n),
        "actor": "tax" if n % 2 else "health",
        "actor_role": "department",
        "action": "GET /v1/departments",
        "resource": "/v1/departments",
        "decision": "deny" if n % 3 == 0 else "allow",
        "status": 403 if n % 3 == 0 else 200,
        "request_id": f"req-{n}",
        "key_id": f"key-{n % 2}",
        "record_ids": (f"rec-{n}",),
    }
    values.update(fields)
    return AuditEvent(**values)  # type: ignore[arg-type]


@dataclass
class LogBuilder:
    """Produces events to the audit topic and runs a writer that stores them."""

    database: Database
    transport: Transport
    signer: HubSigner
    every_entries: int = 4
    node_height: int = AUDIT_NODE_MIN_HEIGHT

    def writer(self) -> AuditWriter:
        writer = AuditWriter(
            self.database,
            self.transport,
            lambda: self.signer,
            policy=CheckpointPolicy(every_entries=self.every_entries, every_seconds=3600),
            node_height=self.node_height,
        )
        writer.restore()
        return writer

    def produce(self, events: list[AuditEvent]) -> None:
        sink = TopicAuditSink(self.transport)
        try:
            for item in events:
                sink.append(item)
        finally:
            sink.close()

    def write(self, count: int, checkpoint_at_end: bool = True) -> None:
        """Produce `count` events and store them all with one writer."""
        self.produce([event(n) for n in range(1, count + 1)])
        writer = self.writer()
        try:
            drive_until(writer, AuditRepository(self.database).tree_size() + count)
            if checkpoint_at_end:
                writer.checkpoint()
        finally:
            writer.close()


def drive_until(writer: AuditWriter, size: int, timeout_s: float = 20.0) -> None:
    """Step the writer until the tree has `size` leaves, failing after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while writer.tree_size < size:
        assert time.monotonic() < deadline, f"writer stuck at {writer.tree_size} of {size}"
        writer.step(0.2)
