"""The embedded log's producer: one SQLite transaction per `produce` call."""

from __future__ import annotations

import random
from collections.abc import Sequence

from exchange.transport.base import (
    Acknowledged,
    OutgoingMessage,
    Producer,
    TopicPartition,
    UnknownTopicError,
)
from exchange.transport.embedded import clock, log
from exchange.transport.embedded.database import Database
from exchange.transport.partitioning import partition_for_key


class EmbeddedProducer(Producer):
    """Appends to the embedded log; a `produce` call stores all its messages or none.

    Holds no state of its own (each thread writes through its own connection), so
    threads may share it.
    """

    def __init__(self, database: Database) -> None:
        self._database = database

    def produce(
        self, topic: str, messages: Sequence[OutgoingMessage], timeout_s: float = 10.0
    ) -> list[Acknowledged]:
        """See `Producer.produce`; waits at most `timeout_s` for the write lock."""
        with self._database.write(timeout_s) as connection:
            partitions = log.partition_count(connection, topic)
            if partitions is None:
                raise UnknownTopicError(f"topic {topic!r} does not exist", topic=topic)
            # Like Kafka's sticky partitioner: a call's keyless messages stay together.
            keyless_partition = random.randrange(partitions)
            next_offsets: dict[TopicPartition, int] = {}
            acknowledged = []
            timestamp_ms = clock.now_ms()
            for message in messages:
                number = (
                    keyless_partition
                    if message.key is None
                    else partition_for_key(message.key, partitions)
                )
                target = TopicPartition(topic, number)
                if target not in next_offsets:
                    next_offsets[target] = log.end_offset(connection, target)
                offset = next_offsets[target]
                log.append(connection, target, offset, message, timestamp_ms)
                next_offsets[target] = offset + 1
                acknowledged.append(Acknowledged(topic, number, offset))
        return acknowledged

    def close(self) -> None:
        """Nothing is in flight: every `produce` has committed before returning."""
