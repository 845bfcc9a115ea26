"""The embedded log's consumer: a group member that reads partitions dealt by `group`."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable, Mapping, Sequence

from exchange.transport.base import (
    Consumer,
    Message,
    PartitionNotAssignedError,
    StartPosition,
    TopicPartition,
)
from exchange.transport.embedded import clock, group, log
from exchange.transport.embedded.database import Database

# How often an idle poll looks for new records: other processes cannot notify us.
IDLE_POLL_INTERVAL_S = 0.05


class EmbeddedConsumer(Consumer):
    """One member of a consumer group on the embedded log (see `exchange.transport.base`)."""

    def __init__(
        self, database: Database, group_id: str, topics: Sequence[str], start: StartPosition
    ) -> None:
        self._database = database
        self._group = group_id
        self._topics = tuple(topics)
        self._start = start
        self._member = uuid.uuid4().hex
        self._last_heartbeat_ms: int | None = None
        # Next offset to return, per assigned partition; its keys are the assignment.
        self._positions: dict[TopicPartition, int] = {}

    def poll(self, max_records: int, timeout_s: float) -> list[Message]:
        """See `Consumer.poll`."""
        return poll_until(lambda: self._poll_once(max_records), timeout_s)

    def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        """See `Consumer.commit`."""
        with self._database.write() as connection:
            log.commit_offsets(connection, self._group, offsets)

    def commit_consumed(self) -> None:
        """See `Consumer.commit_consumed`."""
        if self._positions:
            self.commit(dict(self._positions))

    def seek(self, partition: TopicPartition, offset: int) -> None:
        """See `Consumer.seek`."""
        if partition not in self._positions:
            raise PartitionNotAssignedError(
                f"{partition.topic}[{partition.partition}] is not assigned to this consumer"
            )
        self._positions[partition] = offset

    def committed(self, partition: TopicPartition) -> int | None:
        """See `Consumer.committed`."""
        with self._database.read() as connection:
            return log.committed_offset(connection, self._group, partition)

    def close(self) -> None:
        """See `Consumer.close`."""
        with self._database.write() as connection:
            group.leave(connection, self._group, self._member)
        self._positions.clear()
        self._last_heartbeat_ms = None

    def _poll_once(self, max_records: int) -> list[Message]:
        self._heartbeat_if_due()
        with self._database.read() as connection:
            self._follow_assignment(connection)
            return read_from(connection, self._positions, max_records)

    def _heartbeat_if_due(self) -> None:
        now = clock.now_ms()
        if (
            self._last_heartbeat_ms is not None
            and now - self._last_heartbeat_ms < group.HEARTBEAT_INTERVAL_MS
        ):
            return
        with self._database.write() as connection:
            rejoined = group.heartbeat(connection, self._group, self._member, now)
        if rejoined:
            # The group may have handed our partitions on while we were away.
            self._positions.clear()
        self._last_heartbeat_ms = now

    def _follow_assignment(self, connection: sqlite3.Connection) -> None:
        members = group.live_members(connection, self._group, clock.now_ms())
        assigned = group.assigned_partitions(self._partitions(connection), members, self._member)
        self._positions = {
            tp: self._positions[tp]
            if tp in self._positions
            else initial_position(connection, self._group, tp, self._start)
            for tp in assigned
        }

    def _partitions(self, connection: sqlite3.Connection) -> list[TopicPartition]:
        partitions: list[TopicPartition] = []
        for topic in self._topics:
            count = log.partition_count(connection, topic) or 0
            partitions.extend(TopicPartition(topic, number) for number in range(count))
        return partitions


def poll_until(poll_once: Callable[[], list[Message]], timeout_s: float) -> list[Message]:
    """Call `poll_once` until it returns records or `timeout_s` has passed."""
    deadline = time.monotonic() + timeout_s
    while True:
        records = poll_once()
        remaining = deadline - time.monotonic()
        if records or remaining <= 0:
            return records
        time.sleep(min(IDLE_POLL_INTERVAL_S, remaining))


def initial_position(
    connection: sqlite3.Connection, group_id: str, partition: TopicPartition, start: StartPosition
) -> int:
    """Where a group's reader starts in `partition`: its committed offset, else `start`."""
    committed = log.committed_offset(connection, group_id, partition)
    if committed is not None:
        return committed
    if start == "latest":
        return log.end_offset(connection, partition)
    return log.start_offset(connection, partition)


def read_from(
    connection: sqlite3.Connection, positions: dict[TopicPartition, int], max_records: int
) -> list[Message]:
    """Up to `max_records` records from the `positions`, which move past what is read."""
    records: list[Message] = []
    for partition in sorted(positions, key=lambda tp: (tp.topic, tp.partition)):
        if len(records) >= max_records:
            break
        batch = log.read(connection, partition, positions[partition], max_records - len(records))
        if batch:
            positions[partition] = batch[-1].next_offset
            records.extend(batch)
    return records
