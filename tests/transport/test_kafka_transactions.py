"""A batch on Kafka is all or nothing: a failure part-way through a `produce` call leaves
nothing a reader can see, and the producer goes on to deliver the next batch.

Each failure here is real: the broker refusing a record over its topic's size limit after
it stored the batch's other records, kafka-python refusing a record over the producer's
request size after it accepted the earlier ones, and another producer taking over the
transactional id (as a second process with the same id would).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KafkaTopicPartition

from exchange.transport import Message, OutgoingMessage, TransportError
from exchange.transport.kafka import KafkaTransport
from exchange.transport.kafka.transactions import transactional_id
from exchange.transport.partitioning import partition_for_key
from tests.fixtures.kafka import create_size_limited_topic, delete_topic

pytestmark = pytest.mark.kafka

PARTITIONS = 3
# The topic refuses a record batch over this many bytes (Kafka's max.message.bytes).
TOPIC_MESSAGE_LIMIT = 16 * 1024
DEADLINE_S = 30.0
CLIENT_ID = "exchange-tests-transactions"


def key_in(partition: int) -> bytes:
    """A key that Kafka's partitioner puts in `partition` of the test topics."""
    for number in range(1000):
        key = f"key-{number}".encode()
        if partition_for_key(key, PARTITIONS) == partition:
            return key
    raise AssertionError(f"no key found for partition {partition}")


@pytest.fixture
def transport(kafka_bootstrap: str) -> Iterator[KafkaTransport]:
    opened = KafkaTransport(kafka_bootstrap, client_id=CLIENT_ID)
    yield opened
    opened.close()


@pytest.fixture
def topic(kafka_bootstrap: str) -> Iterator[str]:
    """A topic of three partitions whose broker-side record batch limit is small."""
    name = f"test-transactions-{uuid.uuid4().hex[:12]}"
    create_size_limited_topic(kafka_bootstrap, name, PARTITIONS, TOPIC_MESSAGE_LIMIT)
    yield name
    delete_topic(kafka_bootstrap, name)


def read_every_record(bootstrap: str, topic: str, isolation_level: str) -> list[bytes]:
    """Every record value in `topic` as a reader of `isolation_level` sees it, read up to
    the end offsets (no waiting for silence)."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        client_id=CLIENT_ID,
        enable_auto_commit=False,
        isolation_level=isolation_level,
    )
    try:
        partitions = [KafkaTopicPartition(topic, n) for n in range(PARTITIONS)]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        ends = consumer.end_offsets(partitions)
        found: list[bytes] = []
        deadline = time.monotonic() + DEADLINE_S
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            assert time.monotonic() < deadline, "the reader did not reach the end offsets"
            for records in consumer.poll(timeout_ms=500).values():
                found += [record.value for record in records]
        return found
    finally:
        consumer.close()


def read_through_transport(transport: KafkaTransport, topic: str, count: int) -> list[Message]:
    reader = transport.group_reader(f"test-{uuid.uuid4().hex}", topic)
    try:
        received: list[Message] = []
        deadline = time.monotonic() + DEADLINE_S
        while len(received) < count and time.monotonic() < deadline:
            received += reader.poll(count - len(received), timeout_s=1.0)
        return received
    finally:
        reader.close()


def small_batch(label: str) -> list[OutgoingMessage]:
    """One small record in each partition."""
    return [
        OutgoingMessage(f"{label}-{partition}".encode(), key=key_in(partition))
        for partition in range(PARTITIONS)
    ]


@pytest.mark.parametrize(
    "oversized_bytes",
    [
        pytest.param(TOPIC_MESSAGE_LIMIT * 2, id="refused-by-the-broker"),
        pytest.param(1024 * 1024 + 1, id="refused-by-the-producer"),
    ],
)
def test_a_batch_failing_on_its_last_record_leaves_nothing_readable(
    transport, topic, kafka_bootstrap, oversized_bytes
):
    failed = [
        *small_batch("failed")[:2],
        OutgoingMessage(b"x" * oversized_bytes, key=key_in(PARTITIONS - 1)),
    ]
    producer = transport.producer()
    try:
        with pytest.raises(TransportError) as raised:
            producer.produce(topic, failed)
        after = producer.produce(topic, small_batch("after"))
    finally:
        producer.close()

    assert raised.value.status == 503
    assert len(after) == PARTITIONS
    # The next batch went through, and a reader of the transport sees it first: in each
    # partition it comes after where the failed batch's records were.
    received = read_through_transport(transport, topic, count=PARTITIONS)
    assert sorted(m.value for m in received) == [b"after-0", b"after-1", b"after-2"]
    # So does any read_committed reader, to the end of the log.
    assert not any(
        value.startswith(b"failed")
        for value in read_every_record(kafka_bootstrap, topic, "read_committed")
    )


def test_the_broker_stored_the_refused_batchs_other_records_before_the_abort(
    transport, topic, kafka_bootstrap
):
    # What the test above proves is only worth something if the failure really was part-way:
    # the first records reached the log, and only the transaction hides them.
    failed = [
        *small_batch("failed")[:2],
        OutgoingMessage(b"x" * TOPIC_MESSAGE_LIMIT * 2, key=key_in(PARTITIONS - 1)),
    ]
    producer = transport.producer()
    try:
        with pytest.raises(TransportError):
            producer.produce(topic, failed)
    finally:
        producer.close()

    uncommitted = read_every_record(kafka_bootstrap, topic, "read_uncommitted")
    assert sorted(uncommitted) == [b"failed-0", b"failed-1"]
    assert read_every_record(kafka_bootstrap, topic, "read_committed") == []


def test_a_producer_fenced_by_another_with_its_id_is_replaced(transport, topic, kafka_bootstrap):
    producer = transport.producer()
    try:
        producer.produce(topic, small_batch("first"))
        # Another producer takes the id of the pool's only producer (slot 0 of this
        # process): the pool's producer is fenced, a fatal state for it.
        usurper = KafkaProducer(
            bootstrap_servers=kafka_bootstrap,
            client_id=CLIENT_ID,
            transactional_id=transactional_id(CLIENT_ID, 0),
        )
        usurper.init_transactions()
        with pytest.raises(TransportError):
            producer.produce(topic, small_batch("fenced"))
        producer.produce(topic, small_batch("after"))
        usurper.close(timeout=5)
    finally:
        producer.close()

    committed = read_every_record(kafka_bootstrap, topic, "read_committed")
    assert sorted(committed) == sorted(
        f"{label}-{n}".encode() for label in ("first", "after") for n in range(PARTITIONS)
    )
