"""The embedded log's group reader: every partition of one topic, no group membership."""

from __future__ import annotations

from collections.abc import Mapping

from exchange.transport.base import GroupReader, Message, StartPosition, TopicPartition
from exchange.transport.embedded import log
from exchange.transport.embedded.consumer import initial_position, poll_until, read_from
from exchange.transport.embedded.database import Database


class EmbeddedGroupReader(GroupReader):
    """Reads every partition of a topic for a group (see `exchange.transport.base`)."""

    def __init__(
        self, database: Database, group_id: str, topic: str, partitions: int, start: StartPosition
    ) -> None:
        self._database = database
        self._group = group_id
        self._start = start
        self._partitions = [TopicPartition(topic, number) for number in range(partitions)]
        # Next offset to return, per partition; set on the first poll, as Kafka does.
        self._positions: dict[TopicPartition, int] = {}

    def poll(self, max_records: int, timeout_s: float) -> list[Message]:
        """See `GroupReader.poll`."""
        return poll_until(lambda: self._poll_once(max_records), timeout_s)

    def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        """See `GroupReader.commit`."""
        with self._database.write() as connection:
            log.commit_offsets(connection, self._group, offsets)

    def seek(self, partition: TopicPartition, offset: int) -> None:
        """See `GroupReader.seek`."""
        self._positions[partition] = offset

    def committed_offsets(self) -> dict[TopicPartition, int]:
        """See `GroupReader.committed_offsets`."""
        with self._database.read() as connection:
            committed = {
                tp: log.committed_offset(connection, self._group, tp) for tp in self._partitions
            }
        return {tp: offset for tp, offset in committed.items() if offset is not None}

    def end_offsets(self) -> dict[TopicPartition, int]:
        """See `GroupReader.end_offsets`."""
        with self._database.read() as connection:
            return {tp: log.end_offset(connection, tp) for tp in self._partitions}

    def lag(self) -> dict[TopicPartition, int]:
        """See `GroupReader.lag`: one read of the local database, exact."""
        with self._database.read() as connection:
            return {
                tp: max(0, log.end_offset(connection, tp) - position)
                for tp, position in self._positions.items()
            }

    def close(self) -> None:
        """See `GroupReader.close`: nothing to leave; forget the positions."""
        self._positions.clear()

    def _poll_once(self, max_records: int) -> list[Message]:
        with self._database.read() as connection:
            for tp in self._partitions:
                if tp not in self._positions:
                    self._positions[tp] = initial_position(connection, self._group, tp, self._start)
            return read_from(connection, self._positions, max_records)
