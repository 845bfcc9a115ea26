"""The audit sink of a hub instance: each event is produced to `exchange.audit` and
acknowledged (`acks=all`) before the request is answered; the audit writer stores it."""

from __future__ import annotations

import threading
from collections.abc import Callable

from exchange.audit.event_codec import encode_event, new_event_id
from exchange.audit.events import AuditEvent
from exchange.audit.topic import AUDIT_TOPIC, ensure_audit_topic
from exchange.transport import Acknowledged, OutgoingMessage, Producer, Transport

# Called with the event id and where the log stored it (e.g. to wait for the writer).
AfterProduced = Callable[[str, Acknowledged], None]


class TopicAuditSink:
    """Produces every event to the audit topic and returns once the log has stored it.

    Raises `TransportError` (a 503 kind) when the log does not acknowledge in time, so
    the audit trail refuses to answer a request it could not record.
    """

    def __init__(
        self,
        transport: Transport,
        replication_factor: int = 1,
        after_produced: AfterProduced | None = None,
        timeout_s: float = 10.0,
        topic: str = AUDIT_TOPIC,
        *,
        shared_producer: Callable[[], Producer] | None = None,
    ) -> None:
        """`shared_producer` gives a producer owned by someone else (the hub's, which also
        carries its records: one sender, and events share produce requests with records);
        without it the sink makes and closes its own."""
        self._transport = transport
        self._replication_factor = replication_factor
        self._after_produced = after_produced
        self._timeout_s = timeout_s
        self._topic = topic
        self._lock = threading.Lock()
        self._shared_producer = shared_producer
        self._topic_ready = False
        self._producer: Producer | None = None

    def append(self, event: AuditEvent) -> None:
        """Produce the event with a fresh `event_id` and wait for its acknowledgement."""
        event_id = new_event_id()
        message = OutgoingMessage(value=encode_event(event, event_id))
        (acknowledged,) = self._ready_producer().produce(
            self._topic, [message], timeout_s=self._timeout_s
        )
        if self._after_produced is not None:
            self._after_produced(event_id, acknowledged)

    def close(self) -> None:
        """Wait for messages in flight and release the producer (its own, not a shared one)."""
        with self._lock:
            if self._producer is not None:
                self._producer.close()
                self._producer = None

    def _ready_producer(self) -> Producer:
        # The topic and the producer are made on first use, so opening a hub reaches nothing
        # (see `open_hub`).
        with self._lock:
            if not self._topic_ready:
                ensure_audit_topic(self._transport, self._replication_factor, self._topic)
                self._topic_ready = True
            if self._shared_producer is not None:
                return self._shared_producer()
            if self._producer is None:
                self._producer = self._transport.producer()
            return self._producer
