"""The transport contract (exchange.transport.base), proved on both implementations."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from exchange.transport import (
    Consumer,
    GroupReader,
    Message,
    OutgoingMessage,
    PartitionNotAssignedError,
    TopicPartition,
    Transport,
    TransportError,
    UnknownTopicError,
)
from exchange.transport.embedded import EmbeddedTransport
from exchange.transport.partitioning import partition_for_key

DELIVERY_TIMEOUT_S = 20.0
QUIET_PERIOD_S = 1.0


@pytest.fixture(params=["embedded", pytest.param("kafka", marks=pytest.mark.kafka)])
def transport(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Transport]:
    if request.param == "kafka":
        yield request.getfixturevalue("kafka_transport")
        return
    embedded = EmbeddedTransport(tmp_path / "log.db")
    yield embedded
    embedded.close()


@pytest.fixture
def new_topic(transport: Transport) -> Callable[..., str]:
    def create(partitions: int = 1) -> str:
        name = unique("test-topic")
        transport.create_topic(name, partitions)
        return name

    return create


@pytest.fixture
def consumers(transport: Transport) -> Iterator[Callable[..., Consumer]]:
    opened: list[Consumer] = []

    def open_consumer(group: str, topics: list[str], start: str = "earliest") -> Consumer:
        consumer = transport.consumer(group, topics, start)  # type: ignore[arg-type]
        opened.append(consumer)
        return consumer

    yield open_consumer
    for consumer in opened:
        consumer.close()


@pytest.fixture
def readers(transport: Transport) -> Iterator[Callable[..., GroupReader]]:
    opened: list[GroupReader] = []

    def open_reader(group: str, topic: str, start: str = "earliest") -> GroupReader:
        reader = transport.group_reader(group, topic, start)  # type: ignore[arg-type]
        opened.append(reader)
        return reader

    yield open_reader
    for reader in opened:
        reader.close()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def produce(transport: Transport, topic: str, *messages: OutgoingMessage) -> None:
    producer = transport.producer()
    try:
        producer.produce(topic, list(messages))
    finally:
        producer.close()


def consume(consumer: Consumer | GroupReader, count: int) -> list[Message]:
    """Poll until `count` records came (or fail at the deadline)."""
    received: list[Message] = []
    deadline = time.monotonic() + DELIVERY_TIMEOUT_S
    while len(received) < count and time.monotonic() < deadline:
        received.extend(consumer.poll(count - len(received), timeout_s=1.0))
    assert len(received) == count, f"got {len(received)} of {count} records"
    return received


def values(messages: list[Message]) -> list[bytes]:
    return [message.value for message in messages]


def test_produced_message_is_consumed_with_its_key_value_and_headers(
    transport, new_topic, consumers
):
    topic = new_topic()
    produce(
        transport,
        topic,
        OutgoingMessage(b"payload", key=b"licence-1", headers=(("record_id", b"r1"),)),
        OutgoingMessage(b"no key, no headers"),
    )

    first, second = consume(consumers(unique("group"), [topic]), 2)

    assert (first.topic, first.partition, first.offset) == (topic, 0, 0)
    assert (first.key, first.value, first.headers) == (
        b"licence-1",
        b"payload",
        (("record_id", b"r1"),),
    )
    assert (second.offset, second.key, second.value, second.headers) == (
        1,
        None,
        b"no key, no headers",
        (),
    )
    assert abs(first.timestamp_ms - time.time() * 1000) < 60_000


def test_acknowledgements_name_consecutive_offsets_in_message_order(transport, new_topic):
    topic = new_topic()
    producer = transport.producer()
    try:
        first = producer.produce(topic, [OutgoingMessage(b"a"), OutgoingMessage(b"b")])
        second = producer.produce(topic, [OutgoingMessage(b"c"), OutgoingMessage(b"d")])
    finally:
        producer.close()

    assert [(ack.topic, ack.partition, ack.offset) for ack in first] == [
        (topic, 0, 0),
        (topic, 0, 1),
    ]
    # A call's offsets are consecutive; the next call's come later, maybe past a gap (the
    # marker ending a Kafka transaction takes an offset).
    assert [ack.offset - second[0].offset for ack in second] == [0, 1]
    assert second[0].offset > first[-1].offset


def test_records_of_one_key_stay_in_one_partition_in_produced_order(
    transport, new_topic, consumers
):
    topic = new_topic(partitions=3)
    keys = [f"entity-{n}".encode() for n in range(6)]
    producer = transport.producer()
    try:
        for version in range(5):
            acks = producer.produce(
                topic, [OutgoingMessage(f"{version}".encode(), key=key) for key in keys]
            )
            assert [ack.partition for ack in acks] == [partition_for_key(k, 3) for k in keys]
    finally:
        producer.close()

    received = consume(consumers(unique("group"), [topic]), len(keys) * 5)

    for key in keys:
        of_key = [message for message in received if message.key == key]
        assert values(of_key) == [b"0", b"1", b"2", b"3", b"4"]
        assert {message.partition for message in of_key} == {partition_for_key(key, 3)}
    assert len({message.partition for message in received}) > 1


def test_new_group_member_resumes_after_the_committed_offset(transport, new_topic, consumers):
    topic, group = new_topic(), unique("group")
    produce(transport, topic, *(OutgoingMessage(f"{n}".encode()) for n in range(4)))
    first_member = consumers(group, [topic])
    processed = consume(first_member, 2)
    first_member.commit({processed[-1].topic_partition: processed[-1].next_offset})
    first_member.close()

    resumed = consume(consumers(group, [topic]), 2)

    assert values(resumed) == [b"2", b"3"]


def test_uncommitted_records_are_delivered_again_after_a_restart(transport, new_topic, consumers):
    topic, group = new_topic(), unique("group")
    produce(transport, topic, OutgoingMessage(b"a"), OutgoingMessage(b"b"))
    first_member = consumers(group, [topic])
    assert values(consume(first_member, 2)) == [b"a", b"b"]
    first_member.close()

    assert values(consume(consumers(group, [topic]), 2)) == [b"a", b"b"]


def test_commit_consumed_commits_the_offset_after_the_last_polled_record(
    transport, new_topic, consumers
):
    topic, group = new_topic(), unique("group")
    partition = TopicPartition(topic, 0)
    produce(transport, topic, *(OutgoingMessage(f"{n}".encode()) for n in range(3)))
    consumer = consumers(group, [topic])
    assert consumer.committed(partition) is None

    consume(consumer, 3)
    consumer.commit_consumed()

    assert consumer.committed(partition) == 3


def test_groups_keep_separate_offsets(transport, new_topic, consumers):
    topic = new_topic()
    produce(transport, topic, OutgoingMessage(b"a"), OutgoingMessage(b"b"))
    reader = consumers(unique("group"), [topic])
    consume(reader, 2)
    reader.commit_consumed()

    assert values(consume(consumers(unique("other-group"), [topic]), 2)) == [b"a", b"b"]


def test_seek_rereads_a_partition_from_the_given_offset(transport, new_topic, consumers):
    topic = new_topic()
    produce(transport, topic, *(OutgoingMessage(f"{n}".encode()) for n in range(4)))
    consumer = consumers(unique("group"), [topic])
    consume(consumer, 4)

    consumer.seek(TopicPartition(topic, 0), 1)

    assert values(consume(consumer, 3)) == [b"1", b"2", b"3"]


def test_seek_in_a_partition_not_assigned_is_refused(transport, new_topic, consumers):
    topic = new_topic()
    produce(transport, topic, OutgoingMessage(b"a"))
    consumer = consumers(unique("group"), [topic])
    consume(consumer, 1)

    with pytest.raises(PartitionNotAssignedError):
        consumer.seek(TopicPartition(unique("other-topic"), 0), 0)


def test_latest_start_skips_records_produced_before_joining(transport, new_topic, consumers):
    topic = new_topic()
    produce(transport, topic, OutgoingMessage(b"before-1"), OutgoingMessage(b"before-2"))
    consumer = consumers(unique("group"), [topic], "latest")

    # Joining a Kafka group takes a moment: keep producing until the member sees a record.
    received: list[Message] = []
    deadline = time.monotonic() + DELIVERY_TIMEOUT_S
    while not received and time.monotonic() < deadline:
        produce(transport, topic, OutgoingMessage(b"after"))
        received = consumer.poll(100, timeout_s=0.5)

    assert received
    assert set(values(received)) == {b"after"}


def test_readers_of_one_group_each_read_every_partition_without_waiting(
    transport, new_topic, readers
):
    topic, group = new_topic(partitions=3), unique("group")
    keys = [f"entity-{n}".encode() for n in range(6)]
    produce(transport, topic, *(OutgoingMessage(key, key=key) for key in keys))
    first, second = readers(group, topic), readers(group, topic)

    from_first, from_second = consume(first, 6), consume(second, 6)

    assert sorted(values(from_first)) == sorted(values(from_second)) == sorted(keys)
    assert len({message.partition for message in from_first}) > 1


def test_a_reader_starts_at_the_committed_offsets_another_reader_stored(
    transport, new_topic, readers
):
    topic, group = new_topic(partitions=2), unique("group")
    produce(transport, topic, *(OutgoingMessage(f"{n}".encode()) for n in range(6)))
    first = readers(group, topic)
    read = consume(first, 6)
    first.commit({message.topic_partition: message.next_offset for message in read[:4]})
    committed = {
        partition: max(m.next_offset for m in read[:4] if m.topic_partition == partition)
        for partition in {m.topic_partition for m in read[:4]}
    }

    later = readers(group, topic)

    assert later.committed_offsets() == first.committed_offsets() == committed
    assert sorted(values(consume(later, 2))) == sorted(values(read[4:]))
    assert later.poll(10, timeout_s=QUIET_PERIOD_S) == []


def test_a_reader_seeks_back_and_forth_in_any_partition(transport, new_topic, readers):
    topic = new_topic()
    partition = TopicPartition(topic, 0)
    produce(transport, topic, *(OutgoingMessage(f"{n}".encode()) for n in range(4)))
    reader = readers(unique("group"), topic)
    consume(reader, 4)

    reader.seek(partition, 1)
    assert values(consume(reader, 3)) == [b"1", b"2", b"3"]
    reader.seek(partition, 3)
    assert values(consume(reader, 1)) == [b"3"]


def test_a_latest_reader_reads_from_the_end_offsets(transport, new_topic, readers):
    topic, group = new_topic(partitions=2), unique("group")
    keys = [b"a", b"d"]  # one in each partition
    assert {partition_for_key(key, 2) for key in keys} == {0, 1}
    producer = transport.producer()
    try:
        before = producer.produce(topic, [OutgoingMessage(b"before", key=key) for key in keys])
    finally:
        producer.close()
    pinning = readers(group, topic, "latest")
    ends = pinning.end_offsets()
    assert set(ends) == {TopicPartition(topic, 0), TopicPartition(topic, 1)}
    assert all(ends[TopicPartition(topic, ack.partition)] > ack.offset for ack in before)

    pinning.commit(ends)
    produce(transport, topic, OutgoingMessage(b"after", key=b"a"))

    assert values(consume(readers(group, topic, "latest"), 1)) == [b"after"]
    assert readers(unique("group"), topic, "latest").committed_offsets() == {}


def test_a_readers_lag_is_what_lies_beyond_its_position_in_each_partition(
    transport, new_topic, readers
):
    topic = new_topic(partitions=2)
    keys = [b"a", b"d", b"d", b"d"]  # one in partition 0, three in partition 1
    producer = transport.producer()
    try:
        for key in keys:  # one call each: a transaction's marker would take an offset
            producer.produce(topic, [OutgoingMessage(key, key=key)])
    finally:
        producer.close()
    reader = readers(unique("group"), topic)
    read = consume(reader, 2)

    lag = reader.lag()

    per_partition = {0: 1, 1: 3}
    for message in read:
        per_partition[message.partition] -= 1
    assert lag == {TopicPartition(topic, n): left for n, left in per_partition.items()}
    reader.seek(TopicPartition(topic, 1), 0)
    assert reader.lag()[TopicPartition(topic, 1)] == 3
    consume(reader, per_partition[0] + 3)
    assert sum(reader.lag().values()) == 0


def test_a_reader_of_a_missing_topic_is_refused(transport):
    with pytest.raises(UnknownTopicError):
        transport.group_reader(unique("group"), unique("missing-topic"))


def test_create_topic_is_idempotent_and_the_topic_is_listed(transport):
    name = unique("test-topic")

    transport.create_topic(name, 2)
    transport.create_topic(name, 2)

    assert name in transport.list_topics()
    assert transport.partition_count(name) == 2


def test_producing_to_a_missing_topic_fails_instead_of_creating_it(transport):
    name = unique("missing-topic")
    producer = transport.producer()
    try:
        with pytest.raises(UnknownTopicError) as raised:
            producer.produce(name, [OutgoingMessage(b"lost?")], timeout_s=5)
    finally:
        producer.close()

    assert isinstance(raised.value, TransportError)
    assert raised.value.status == 503
    assert name not in transport.list_topics()


def test_partition_count_of_a_missing_topic_raises_unknown_topic(transport):
    with pytest.raises(UnknownTopicError):
        transport.partition_count(unique("missing-topic"))


def test_check_passes_when_the_log_answers(transport):
    transport.check()
