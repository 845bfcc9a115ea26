"""The hub's services wired from settings: the composition root shared by the API, the CLI
and the workers."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from exchange.audit.checkpoints import load_hub_signer
from exchange.audit.events import AuditSink
from exchange.audit.in_process import InProcessAuditWriter
from exchange.audit.topic_sink import AfterProduced, TopicAuditSink
from exchange.audit.writer import AuditWriter, CheckpointPolicy
from exchange.config import Settings
from exchange.process_memory import limit_malloc_arenas
from exchange.records.consumers import SubscriptionConsumers
from exchange.records.subscriptions import RememberedSubscriptions
from exchange.records.view_builder import ViewBuilder
from exchange.signing.hub_signer import HubSigner
from exchange.store.database import Database
from exchange.transport import Acknowledged, Producer, Transport, open_transport

logger = logging.getLogger(__name__)

# How long a request waits for the in-process writer to store its audit event. The event
# is already durable in the topic, so past this the request is answered all the same.
AUDIT_STORE_WAIT_S = 5.0


@dataclass
class Hub:
    """Everything a hub process talks to. Build it with `open_hub`; close it once."""

    settings: Settings
    database: Database
    transport: Transport
    audit: AuditSink
    signer: HubSigner
    audit_writer: InProcessAuditWriter | None = None
    _producer: Producer | None = field(default=None, repr=False)
    _producer_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    view_builder: ViewBuilder | None = None
    _consumers: SubscriptionConsumers | None = field(default=None, repr=False)
    remembered_subscriptions: RememberedSubscriptions = field(
        default_factory=RememberedSubscriptions, repr=False
    )

    @property
    def producer(self) -> Producer:
        """The process's one producer of records, shared by every request thread."""
        with self._producer_lock:
            if self._producer is None:
                self._producer = self.transport.producer()
            return self._producer

    @property
    def subscription_consumers(self) -> SubscriptionConsumers:
        """The process's pool of subscription consumers (created on first use)."""
        with self._producer_lock:
            if self._consumers is None:
                self._consumers = SubscriptionConsumers(self.transport)
            return self._consumers

    def close_producer(self) -> None:
        """Flush and close the shared producer (a new one is made on next use)."""
        with self._producer_lock:
            if self._producer is not None:
                self._producer.close()
                self._producer = None

    def close(self) -> None:
        """Stop the in-process audit writer (it signs a last checkpoint), flush the
        transport and release connections."""
        if self.audit_writer is not None:
            self.audit_writer.stop(self.settings.shutdown_timeout_s)
        if isinstance(self.audit, TopicAuditSink):
            self.audit.close()
        if self.view_builder is not None:
            self.view_builder.stop(self.settings.shutdown_timeout_s)
        with self._producer_lock:
            if self._consumers is not None:
                self._consumers.close()
                self._consumers = None
        self.close_producer()
        self.transport.close()
        self.database.close()


def open_hub(settings: Settings) -> Hub:
    """Connect to the configured store and transport (lazily: nothing is reached yet).

    Audit events always go through the `exchange.audit` topic. With the embedded
    transport the audit writer runs here, on a thread; with Kafka it is its own process
    (`exchange audit writer`), one for the whole deployment.
    """
    # Before the request threads start: they would each take a malloc arena otherwise.
    limit_malloc_arenas()
    database = Database(settings.effective_database_url)
    transport = open_transport(
        settings.transport,
        embedded_path=settings.embedded_transport_path,
        kafka_bootstrap_servers=settings.kafka_bootstrap_servers,
    )
    writer = (
        in_process_writer(settings, database, transport)
        if settings.transport == "embedded"
        else None
    )
    sink = TopicAuditSink(
        transport,
        settings.topic_replication_factor,
        after_produced=None if writer is None else _await_store(writer),
        # The hub's one producer carries its audit events too (`hub` is bound below, before
        # any event is produced).
        shared_producer=lambda: hub.producer,
    )
    signer = load_hub_signer(settings.hub_key_file)
    hub = Hub(settings, database, transport, sink, signer, writer)
    if writer is not None:
        writer.start()
    if settings.transport == "embedded":
        # With Kafka the view is fed by `exchange view build` workers instead.
        hub.view_builder = ViewBuilder(transport, database)
        hub.view_builder.start()
    return hub


def audit_writer_for(settings: Settings, database: Database, transport: Transport) -> AuditWriter:
    """The audit writer of this deployment, as one member of the writer group."""
    return AuditWriter(
        database,
        transport,
        lambda: load_hub_signer(settings.hub_key_file),
        replication_factor=settings.topic_replication_factor,
        policy=CheckpointPolicy(settings.audit_checkpoint_every, settings.audit_checkpoint_seconds),
    )


def in_process_writer(
    settings: Settings, database: Database, transport: Transport
) -> InProcessAuditWriter:
    """The audit writer on a thread of this process (not started)."""
    return InProcessAuditWriter(audit_writer_for(settings, database, transport), database)


def _await_store(writer: InProcessAuditWriter) -> AfterProduced:
    def wait(event_id: str, acknowledged: Acknowledged) -> None:
        if not writer.wait_until_stored(event_id, acknowledged, AUDIT_STORE_WAIT_S):
            logger.warning(
                "audit event %s not yet stored by the writer; answering anyway", event_id
            )

    return wait
