"""The Kafka consumer adapter: a group member with explicit commits only."""

from __future__ import annotations

from collections.abc import Mapping

from kafka import KafkaConsumer
from kafka import TopicPartition as KafkaTopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.structs import OffsetAndMetadata

from exchange.transport.base import Consumer, Message, PartitionNotAssignedError, TopicPartition
from exchange.transport.kafka.errors import kafka_errors_as_transport_errors


class KafkaLogConsumer(Consumer):
    """Consumes through one kafka-python `KafkaConsumer` (auto-commit off)."""

    def __init__(self, consumer: KafkaConsumer, close_timeout_s: float) -> None:
        self._consumer = consumer
        self._close_timeout_ms = int(close_timeout_s * 1000)

    def poll(self, max_records: int, timeout_s: float) -> list[Message]:
        """See `Consumer.poll`."""
        with kafka_errors_as_transport_errors("polling"):
            batches = self._consumer.poll(timeout_ms=int(timeout_s * 1000), max_records=max_records)
        return [_message(record) for records in batches.values() for record in records]

    def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        """See `Consumer.commit`."""
        with kafka_errors_as_transport_errors("committing offsets"):
            self._consumer.commit(
                {
                    KafkaTopicPartition(tp.topic, tp.partition): OffsetAndMetadata(offset, "", -1)
                    for tp, offset in offsets.items()
                }
            )

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
