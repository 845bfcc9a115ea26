"""`KafkaTransport`: the transport contract on Apache Kafka, through kafka-python."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KafkaTopicPartition
from kafka.errors import KafkaError, TopicAlreadyExistsError

from exchange.transport.base import (
    Consumer,
    GroupReader,
    Producer,
    StartPosition,
    Transport,
    TransportError,
    UnknownTopicError,
)
from exchange.transport.kafka.consumer import KafkaGroupReader, KafkaLogConsumer
from exchange.transport.kafka.errors import kafka_errors_as_transport_errors
from exchange.transport.kafka.producer import KafkaLogProducer, QuietSelector
from exchange.transport.kafka.transactions import TRANSACTION_TIMEOUT_MS, TransactionalProducers

# A consumer that stops heart-beating hands its partitions on after this long
# (kafka-python's default, 45 s, would stall a group long after a crash).
SESSION_TIMEOUT_MS = 10_000
HEARTBEAT_INTERVAL_MS = 3_000
# Within the default max_request_size (1 MiB), so a full batch always fits one request.
PRODUCER_BATCH_BYTES = 512 * 1024
# Every reader skips the records of aborted transactions and waits for open ones to end, so
# a batch that failed part-way is never seen (see `KafkaLogProducer`).
READ_COMMITTED = "read_committed"


class KafkaTransport(Transport):
    """A connection to a Kafka cluster.

    Nothing connects until first used, so the hub starts (and reports not ready
    through `check`) while Kafka is down. Every call gives up after about
    `request_timeout_s` with `TransportError`.
    """

    def __init__(
        self, bootstrap_servers: str, client_id: str = "exchange", request_timeout_s: float = 10.0
    ) -> None:
        timeout_ms = int(request_timeout_s * 1000)
        self._common: dict[str, Any] = {
            "bootstrap_servers": bootstrap_servers.split(","),
            "client_id": client_id,
            "request_timeout_ms": timeout_ms,
            "bootstrap_timeout_ms": timeout_ms,
        }
        self._timeout_ms = timeout_ms
        self._admin_client: KafkaAdminClient | None = None
        self._admin_lock = threading.Lock()
        self._admin_in_use = threading.RLock()

    def producer(self) -> Producer:
        """See `Transport.producer`: acks=all, idempotent, and a batch of several messages
        in one Kafka transaction (see `KafkaLogProducer`)."""
        with kafka_errors_as_transport_errors("connecting a producer"):
            producer = self._kafka_producer()
        transactional = TransactionalProducers(
            lambda transactional_id: self._kafka_producer(
                transactional_id=transactional_id,
                transaction_timeout_ms=TRANSACTION_TIMEOUT_MS,
            ),
            id_prefix=self._common["client_id"],
            close_timeout_s=self._timeout_ms / 1000,
        )
        return KafkaLogProducer(
            producer, transactional, self._topic_exists, self._timeout_ms / 1000
        )

    def _kafka_producer(self, **transactional: Any) -> KafkaProducer:
        return KafkaProducer(
            acks="all",
            enable_idempotence=True,
            max_block_ms=self._timeout_ms,
            # A large batch takes a whole publish request's share of a partition, so a
            # 1,000-record publish is a few produce requests, not one per 16 KiB.
            batch_size=PRODUCER_BATCH_BYTES,
            # kafka-python's own metrics cost CPU on every send and nobody reads them
            # (the hub's Prometheus metrics count what matters).
            metrics_enabled=False,
            selector=QuietSelector,
            **transactional,
            **self._common,
        )

    def consumer(
        self, group: str, topics: Sequence[str], start: StartPosition = "earliest"
    ) -> Consumer:
        """See `Transport.consumer`."""
        with kafka_errors_as_transport_errors(f"connecting a consumer of group {group!r}"):
            consumer = KafkaConsumer(
                *topics,
                group_id=group,
                enable_auto_commit=False,
                auto_offset_reset=start,
                isolation_level=READ_COMMITTED,
                session_timeout_ms=SESSION_TIMEOUT_MS,
                heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
                **self._common,
            )
        return KafkaLogConsumer(consumer, self._timeout_ms / 1000)

    def group_reader(
        self, group: str, topic: str, start: StartPosition = "earliest"
    ) -> GroupReader:
        """See `Transport.group_reader`: a consumer assigned every partition by hand."""
        partitions = [
            KafkaTopicPartition(topic, number) for number in range(self.partition_count(topic))
        ]
        with kafka_errors_as_transport_errors(f"connecting a reader of group {group!r}"):
            consumer = KafkaConsumer(
                group_id=group,
                enable_auto_commit=False,
                auto_offset_reset=start,
                isolation_level=READ_COMMITTED,
                # Its sensors cost CPU on every fetch and nobody reads them.
                metrics_enabled=False,
                **self._common,
            )
        return KafkaGroupReader(
            consumer,
            partitions,
            lambda wanted: self._committed_offsets(group, wanted),
            self._timeout_ms / 1000,
        )

    def create_topic(self, name: str, partitions: int, replication_factor: int = 1) -> None:
        """See `Transport.create_topic`."""
        with self._admin(f"creating topic {name!r}") as admin:
            try:
                admin.create_topics(
                    {
                        name: {
                            "num_partitions": partitions,
                            "replication_factor": replication_factor,
                        }
                    },
                    timeout_ms=self._timeout_ms,
                    wait_for_metadata=True,
                )
            except TopicAlreadyExistsError:
                admin.wait_for_topics([name], timeout_ms=self._timeout_ms)

    def list_topics(self) -> set[str]:
        """See `Transport.list_topics`."""
        with self._admin("listing topics") as admin:
            return set(admin.list_topics())

    def partition_count(self, topic: str) -> int:
        """See `Transport.partition_count`."""
        with self._admin(f"describing topic {topic!r}") as admin:
            described = admin.describe_topics([topic])
        found = [entry for entry in described if entry.get("name") == topic]
        if not found or found[0].get("error_code", 0) != 0:
            raise UnknownTopicError(f"topic {topic!r} does not exist", topic=topic)
        return len(found[0]["partitions"])

    def check(self) -> None:
        """See `Transport.check`: the cluster answers a metadata request."""
        self.list_topics()

    def close(self) -> None:
        """See `Transport.close`."""
        self._drop_admin()

    def _topic_exists(self, topic: str) -> bool:
        try:
            self.partition_count(topic)
        except UnknownTopicError:
            return False
        return True

    def _committed_offsets(
        self, group: str, partitions: list[KafkaTopicPartition]
    ) -> dict[KafkaTopicPartition, int]:
        # Through the admin client: one OffsetFetch for every partition, where the
        # consumer's own `committed` asks partition by partition.
        with self._admin(f"reading the committed offsets of group {group!r}") as admin:
            found = admin.list_group_offsets({group: partitions}).get(group, {})
        return {tp: int(meta.offset) for tp, meta in found.items() if meta.offset >= 0}

    @contextmanager
    def _admin(self, doing: str) -> Iterator[KafkaAdminClient]:
        """The shared admin client, to one caller at a time: kafka-python's admin client is
        not thread-safe (concurrent first calls fail with `NodeNotReadyError`), and a hub's
        request threads all check topics as it starts. After a failure it is replaced on
        next use, because kafka-python's admin client does not recover once it lost the
        cluster."""
        with self._admin_in_use:
            try:
                with kafka_errors_as_transport_errors(doing):
                    with self._admin_lock:
                        if self._admin_client is None:
                            self._admin_client = KafkaAdminClient(**self._common)
                        admin = self._admin_client
                    yield admin
            except TransportError:
                self._drop_admin()
                raise

    def _drop_admin(self) -> None:
        with self._admin_lock:
            admin, self._admin_client = self._admin_client, None
        if admin is not None:
            with contextlib.suppress(KafkaError):
                admin.close()
