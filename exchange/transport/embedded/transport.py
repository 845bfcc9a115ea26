"""`EmbeddedTransport`: the transport contract on one SQLite file, for one machine."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from exchange.transport.base import (
    Consumer,
    GroupReader,
    Producer,
    StartPosition,
    Transport,
    UnknownTopicError,
)
from exchange.transport.embedded import log
from exchange.transport.embedded.consumer import EmbeddedConsumer
from exchange.transport.embedded.database import Database
from exchange.transport.embedded.producer import EmbeddedProducer
from exchange.transport.embedded.reader import EmbeddedGroupReader


class EmbeddedTransport(Transport):
    """A partitioned log with consumer groups in a SQLite file.

    Any number of threads and processes on one machine may open the same file; it
    never spans machines (use Kafka for that). Records are kept for ever: there is no
    retention. Consumer groups deal partitions to their members as Kafka does (see
    `exchange.transport.embedded.group`), so a group with more members than
    partitions leaves some members idle.
    """

    def __init__(self, path: Path | str) -> None:
        self._database = Database(Path(path))

    def producer(self) -> Producer:
        """See `Transport.producer`."""
        return EmbeddedProducer(self._database)

    def consumer(
        self, group: str, topics: Sequence[str], start: StartPosition = "earliest"
    ) -> Consumer:
        """See `Transport.consumer`."""
        return EmbeddedConsumer(self._database, group, topics, start)

    def group_reader(
        self, group: str, topic: str, start: StartPosition = "earliest"
    ) -> GroupReader:
        """See `Transport.group_reader`."""
        return EmbeddedGroupReader(self._database, group, topic, self.partition_count(topic), start)

    def create_topic(self, name: str, partitions: int, replication_factor: int = 1) -> None:
        """See `Transport.create_topic`; `replication_factor` is ignored (one copy)."""
        if partitions < 1:
            raise ValueError(f"a topic needs at least one partition, not {partitions}")
        with self._database.write() as connection:
            log.create_topic(connection, name, partitions)

    def list_topics(self) -> set[str]:
        """See `Transport.list_topics`."""
        with self._database.read() as connection:
            return log.topic_names(connection)

    def partition_count(self, topic: str) -> int:
        """See `Transport.partition_count`."""
        with self._database.read() as connection:
            count = log.partition_count(connection, topic)
        if count is None:
            raise UnknownTopicError(f"topic {topic!r} does not exist", topic=topic)
        return count

    def check(self) -> None:
        """See `Transport.check`: the file can be read."""
        with self._database.read() as connection:
            connection.execute("SELECT 1 FROM topics LIMIT 1").fetchall()

    def close(self) -> None:
        """Close the database connections (producers and consumers use them too)."""
        self._database.close()
