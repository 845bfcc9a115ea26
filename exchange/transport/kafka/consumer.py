"""The Kafka consumer adapters: a group member, and a group reader (manual assignment of
every partition), both with explicit commits only."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from kafka import KafkaConsumer
from kafka import TopicPartition as KafkaTopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.structs import OffsetAndMetadata

from exchange.transport.base import (
    Consumer,
    GroupReader,
    Message,
    PartitionNotAssignedError,
    TopicPartition,
)
from exchange.transport.kafka.errors import kafka_errors_as_transport_errors

# Reads the group's committed offsets of the given partitions in one request.
CommittedOffsets = Callable[[list[KafkaTopicPartition]], dict[KafkaTopicPartition, int]]


class KafkaLogConsumer(Consumer):
    """Consumes through one kafka-python `KafkaConsumer` (auto-commit off)."""

    def __init__(self, consumer: KafkaConsumer, close_timeout_s: float) -> None:
        self._consumer = consumer
        self._close_timeout_ms = int(close_timeout_s * 1000)

    def poll(self, max_records: int, timeout_s: float) -> list[Message]:
        """See `Consumer.poll`."""
        return _poll(self._consumer, max_records, timeout_s)

    def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        """See `Consumer.commit`."""
        _commit(self._consumer, offsets)

    def commit_consumed(self) -> None:
        """See `Consumer.commit_consumed`."""
        with kafka_errors_as_transport_errors("committing offsets"):
            self._consumer.commit()

    def seek(self, partition: TopicPartition, offset: int) -> None:
        """See `Consumer.seek`."""
        target = KafkaTopicPartition(partition.topic, partition.partition)
        if target not in self._consumer.assignment():
            raise PartitionNotAssignedError(
                f"{partition.topic}[{partition.partition}] is not assigned to this consumer"
            )
        self._consumer.seek(target, offset)

    def committed(self, partition: TopicPartition) -> int | None:
        """See `Consumer.committed`."""
        with kafka_errors_as_transport_errors("reading the committed offset"):
            offset = self._consumer.committed(
                KafkaTopicPartition(partition.topic, partition.partition)
            )
        return None if offset is None else int(offset)

    def close(self) -> None:
        """See `Consumer.close`."""
        with kafka_errors_as_transport_errors("closing the consumer"):
            self._consumer.close(autocommit=False, timeout_ms=self._close_timeout_ms)


class KafkaGroupReader(GroupReader):
    """Reads every partition of a topic through one kafka-python `KafkaConsumer` given
    them all by `assign` (manual assignment: it never joins the group, so there is no
    heartbeat and no rebalance), committing for the group with auto-commit off."""

    def __init__(
        self,
        consumer: KafkaConsumer,
        partitions: list[KafkaTopicPartition],
        committed: CommittedOffsets,
        timeout_s: float,
    ) -> None:
        self._consumer = consumer
        self._partitions = partitions
        self._committed = committed
        # Bounds `close`, and finding a position the consumer does not hold yet.
        self._timeout_ms = int(timeout_s * 1000)
        # Each partition's end as last seen (high watermark of a fetch, or a ListOffsets).
        self._ends: dict[KafkaTopicPartition, int] = {}
        consumer.assign(partitions)

    def poll(self, max_records: int, timeout_s: float) -> list[Message]:
        """See `GroupReader.poll`."""
        return _poll(self._consumer, max_records, timeout_s)

    def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        """See `GroupReader.commit`."""
        _commit(self._consumer, offsets)

    def seek(self, partition: TopicPartition, offset: int) -> None:
        """See `GroupReader.seek`."""
        self._consumer.seek(KafkaTopicPartition(partition.topic, partition.partition), offset)

    def committed_offsets(self) -> dict[TopicPartition, int]:
        """See `GroupReader.committed_offsets`."""
        committed = self._committed(self._partitions)
        return {TopicPartition(tp.topic, tp.partition): offset for tp, offset in committed.items()}

    def end_offsets(self) -> dict[TopicPartition, int]:
        """See `GroupReader.end_offsets`."""
        with kafka_errors_as_transport_errors("reading the end offsets"):
            ends = self._consumer.end_offsets(self._partitions)
        return {TopicPartition(tp.topic, tp.partition): int(offset) for tp, offset in ends.items()}

    def lag(self) -> dict[TopicPartition, int]:
        """See `GroupReader.lag`: positions and high watermarks are what the consumer
        already holds. kafka-python learns a partition's high watermark only when it
        hands out that partition's fetched records, so a partition it has not yet is
        asked for once (one ListOffsets), and that answer stands in until it has."""
        for tp in self._partitions:
            highwater = self._consumer.highwater(tp)
            if highwater is not None:
                self._ends[tp] = highwater
        lag: dict[TopicPartition, int] = {}
        with kafka_errors_as_transport_errors("reading the reader's lag"):
            unknown = [tp for tp in self._partitions if tp not in self._ends]
            if unknown:
                self._ends.update(self._consumer.end_offsets(unknown))
            for tp, end in self._ends.items():
                position = self._consumer.position(tp, self._timeout_ms)
                if position is not None:
                    lag[TopicPartition(tp.topic, tp.partition)] = max(0, end - position)
        return lag

    def close(self) -> None:
        """See `GroupReader.close`."""
        with kafka_errors_as_transport_errors("closing the reader"):
            self._consumer.close(autocommit=False, timeout_ms=self._timeout_ms)


def _poll(consumer: KafkaConsumer, max_records: int, timeout_s: float) -> list[Message]:
    with kafka_errors_as_transport_errors("polling"):
        batches = consumer.poll(timeout_ms=int(timeout_s * 1000), max_records=max_records)
    return [_message(record) for records in batches.values() for record in records]


def _commit(consumer: KafkaConsumer, offsets: Mapping[TopicPartition, int]) -> None:
    with kafka_errors_as_transport_errors("committing offsets"):
        consumer.commit(
            {
                KafkaTopicPartition(tp.topic, tp.partition): OffsetAndMetadata(offset, "", -1)
                for tp, offset in offsets.items()
            }
        )


def _message(record: ConsumerRecord) -> Message:
    return Message(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        value=record.value,
        headers=tuple((name, value) for name, value in record.headers),
        timestamp_ms=record.timestamp,
    )
