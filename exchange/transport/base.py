"""The transport contract: an append-only, partitioned log with consumer groups.

This module is the specification. `exchange.transport.kafka` (Apache Kafka) and
`exchange.transport.embedded` (SQLite, one machine) are two readings of it, and
`tests/transport/test_contract.py` runs the same tests against both.

Vocabulary, as in Kafka:

- A *topic* is split into a fixed number of *partitions*. Each partition is an
  ordered log; every record in it has an *offset*, increasing in append order from 0.
  Offsets are per partition and never reused. The messages one `produce` call puts in
  a partition have consecutive offsets, but a call's need not follow the previous
  call's directly: Kafka ends a transaction with a marker that takes an offset and is
  never read (see `Producer.produce`).
- *Ordering*: a message with a key always goes to the same partition of a topic
  (the partition is a hash of the key, Kafka's murmur2, so both implementations
  agree), so the records of one key are read in the order they were produced.
  There is no order across partitions. A message without a key goes to any partition.
- An *offset to commit* is the offset of the *next* record to read, i.e. the offset
  of the last processed record plus one (Kafka semantics).
- A *consumer group* shares the partitions of its topics among its live members;
  each partition is read by one member at a time. The group remembers one committed
  offset per partition. A consumer that starts (or takes over a partition) reads from
  the committed offset; when there is none, from `start` ("earliest": the first
  record still in the log; "latest": only records produced after it joined).
- *At least once*: a record is delivered again to the group until an offset past it
  is committed. A consumer that stops or crashes without committing hands its
  uncommitted records to the next reader. Consumers must therefore be idempotent
  (the hub dedupes by record id); no record is lost.
- Topics are never created implicitly: producing to a topic that does not exist
  raises `UnknownTopicError`, so a misspelt name fails loudly.
- A *group reader* reads for a group without being a member (Kafka's manual
  assignment): it reads every partition itself and shares only the committed offsets,
  so several readers of one group never wait for one another (see `GroupReader`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from exchange.errors import ExchangeError, ServiceUnavailable

StartPosition = Literal["earliest", "latest"]
Headers = tuple[tuple[str, bytes], ...]


@dataclass(frozen=True)
class TopicPartition:
    """One partition of one topic."""

    topic: str
    partition: int


@dataclass(frozen=True)
class OutgoingMessage:
    """A message to produce; the key chooses the partition (see the module docstring)."""

    value: bytes
    key: bytes | None = None
    headers: Headers = ()


@dataclass(frozen=True)
class Acknowledged:
    """Where the log stored one produced message."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class Message:
    """A record read from the log.

    `timestamp_ms` is the time the log stored it (milliseconds since the Unix epoch).
    """

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Headers
    timestamp_ms: int

    @property
    def topic_partition(self) -> TopicPartition:
        """The partition this record was read from."""
        return TopicPartition(self.topic, self.partition)

    @property
    def next_offset(self) -> int:
        """The offset to commit once this record is processed."""
        return self.offset + 1


class TransportError(ServiceUnavailable):
    """The log cannot be reached or did not confirm an operation in time.

    A produce that raised this stored none of its messages, or (when the log did not
    confirm its commit) possibly all of them, never some (see `Producer.produce`).
    Retrying is safe for callers that dedupe by record id.
    """

    status = 503
    type_slug = "transport-unavailable"
    title = "Transport unavailable"


class UnknownTopicError(TransportError):
    """The topic does not exist (topics are only created by `Transport.create_topic`)."""

    type_slug = "unknown-topic"
    title = "Unknown topic"


class PartitionNotAssignedError(ExchangeError):
    """A consumer was asked to move in a partition its group has not given it."""

    status = 409
    type_slug = "partition-not-assigned"
    title = "Partition not assigned to this consumer"


class Producer(ABC):
    """Appends messages to topics. One producer may be shared by many threads."""

    @abstractmethod
    def produce(
        self, topic: str, messages: Sequence[OutgoingMessage], timeout_s: float = 10.0
    ) -> list[Acknowledged]:
        """Append `messages` to `topic` and block until the log has stored every one.

        "Stored" means acknowledged by all in-sync replicas (Kafka `acks=all`) or
        committed to the database (embedded). Messages with the same key land in the
        same partition in the order given. Returns one `Acknowledged` per message, in
        the order of `messages`.

        All or nothing: readers see every message of a call or none of them, never some.
        The embedded log stores a call in one database transaction; Kafka in one Kafka
        transaction (a single message needs none), and every reader reads committed
        records only, skipping those of an aborted transaction.

        Raises `UnknownTopicError` if the topic does not exist, and `TransportError` if
        the messages were not all acknowledged within `timeout_s` or the log refused one.
        A refusal rolls the whole call back: none of its messages is or will become
        readable. A confirmation that did not come in time (of a single message, or of
        a transaction's commit) leaves the outcome unknown, but for the call as a whole:
        all of it may become readable, never part. So callers retry with the same record
        ids and consumers dedupe.
        """

    @abstractmethod
    def close(self) -> None:
        """Wait for messages still in flight, then release connections."""


class Consumer(ABC):
    """One member of a consumer group, subscribed to a fixed set of topics.

    The consumer keeps a *position* per assigned partition: the offset of the next
    record `poll` will return. It starts at the group's committed offset (or at
    `start`), moves past each record `poll` returns, and moves with `seek`.
    Committing is always explicit; nothing is committed automatically, not even on
    `close`. Use from one thread.
    """

    @abstractmethod
    def poll(self, max_records: int, timeout_s: float) -> list[Message]:
        """Return up to `max_records` records from the assigned partitions.

        Waits up to `timeout_s` for at least one record and returns `[]` if none came.
        Within a partition, records come in offset order and each once (until a
        `seek` or a restart of the group member moves the position back). The first
        poll of a new member also joins the group, which may take a moment.
        """

    @abstractmethod
    def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Record, for the group, that reading should resume at these offsets.

        Each offset is the *next* offset to read (last processed offset + 1). Blocks
        until stored; raises `TransportError` if it could not be.
        """

    @abstractmethod
    def commit_consumed(self) -> None:
        """Commit this consumer's position in every partition assigned to it.

        The position is the offset after the last record `poll` returned from each
        partition, or wherever `seek` moved it since.
        """

    @abstractmethod
    def seek(self, partition: TopicPartition, offset: int) -> None:
        """Make the next `poll` read `partition` from `offset` (back or forward).

        The partition must be assigned to this consumer, as it is once a `poll` has
        returned records from it; otherwise raises `PartitionNotAssignedError`. Does not
        change the committed offset.
        """

    @abstractmethod
    def committed(self, partition: TopicPartition) -> int | None:
        """The group's committed offset for `partition`, or None if it has none."""

    @abstractmethod
    def close(self) -> None:
        """Leave the group (its partitions go to the other members) without committing."""


class GroupReader(ABC):
    """Reads every partition of one topic for a consumer group, without joining the group.

    A `Consumer` is a member: the group shares the partitions among its live members,
    and a member joining or leaving moves them (a rebalance, which pauses the group).
    A reader assigns itself every partition of its topic instead, so several readers of
    one group (one per hub process, say) each read all of it, and none ever waits for
    another. What readers of a group share is its committed offsets:

    - A reader's *position* in a partition starts at the group's committed offset (or
      at `start` when there is none), moves past each record `poll` returns, and moves
      with `seek`. Positions are the reader's own: two readers of one group read the
      same records unless their caller moves them (`committed_offsets` tells it where
      the others' commits got to).
    - `commit` stores offsets for the group, whichever reader commits them.

    Readers and members must not share a group (Kafka refuses a commit made outside
    the group's generation while it has members). Use a reader from one thread.
    """

    @abstractmethod
    def poll(self, max_records: int, timeout_s: float) -> list[Message]:
        """Return up to `max_records` records from any partition, as `Consumer.poll`
        does: waiting up to `timeout_s` for the first, in offset order per partition."""

    @abstractmethod
    def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Store, for the group, the next offset to read of each partition given (see
        `Consumer.commit`). Blocks until stored; raises `TransportError` if it could not be."""

    @abstractmethod
    def seek(self, partition: TopicPartition, offset: int) -> None:
        """Make the next `poll` read `partition` from `offset` (back or forward)."""

    @abstractmethod
    def committed_offsets(self) -> dict[TopicPartition, int]:
        """The group's committed offset of each partition that has one (one request)."""

    @abstractmethod
    def end_offsets(self) -> dict[TopicPartition, int]:
        """The offset the next record produced to each partition will have."""

    @abstractmethod
    def lag(self) -> dict[TopicPartition, int]:
        """How far the reader's position is behind the end of each partition (end offset
        minus position, never negative): what is left to read. Meant to follow a `poll`;
        a partition whose position is not known yet is left out.

        Cheap: the Kafka reader takes each partition's end from the high watermark its last
        fetch of that partition brought, and asks the broker (once) only for a partition it
        has not read a fetch of yet, so the figure may trail what was produced since.
        On Kafka it counts offsets, not records: a transaction's commit marker takes an
        offset and is never read, and records of a transaction still open count before
        they can be read. The embedded log has neither, so there it is exact."""

    @abstractmethod
    def close(self) -> None:
        """Release the reader's connections (there is no group to leave; nothing is
        committed)."""


class Transport(ABC):
    """A connection to one log: makes producers and consumers, manages topics."""

    @abstractmethod
    def producer(self) -> Producer:
        """A new producer; close it when done."""

    @abstractmethod
    def consumer(
        self, group: str, topics: Sequence[str], start: StartPosition = "earliest"
    ) -> Consumer:
        """A new member of consumer group `group`, reading `topics`.

        Every member of a group must subscribe to the same topics. `start` applies
        only to partitions for which the group has no committed offset.
        """

    @abstractmethod
    def group_reader(
        self, group: str, topic: str, start: StartPosition = "earliest"
    ) -> GroupReader:
        """A new reader of every partition of `topic` for group `group` (see
        `GroupReader`); `start` applies to partitions the group has no committed offset
        for. Raises `UnknownTopicError` if the topic does not exist."""

    @abstractmethod
    def create_topic(self, name: str, partitions: int, replication_factor: int = 1) -> None:
        """Create a topic; if it already exists, leave it as it is (idempotent).

        Blocks until the topic can be produced to. `replication_factor` is ignored by
        the embedded log (one machine, one copy).
        """

    @abstractmethod
    def list_topics(self) -> set[str]:
        """Names of the existing topics, including the log's internal ones (Kafka `__*`)."""

    @abstractmethod
    def partition_count(self, topic: str) -> int:
        """Number of partitions of `topic`; raises `UnknownTopicError` if it does not exist."""

    @abstractmethod
    def check(self) -> None:
        """Return if the log answers; raise `TransportError` (within a bounded time) if not."""

    @abstractmethod
    def close(self) -> None:
        """Release connections held by the transport itself (not its producers/consumers)."""
