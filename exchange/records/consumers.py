"""The hub process's pool of subscription readers: one transport `GroupReader` per
subscription, reading every partition of the subject's topic for the subscription's group
`exchange.subscription.<id>` (no group membership: see docs/adr/0007-subscription-readers.md).

A pull polls the subscription's reader and returns the records with a cursor (the next
offset, per partition, after everything delivered so far). Acknowledging a cursor commits
exactly its offsets for the group. Nothing is committed otherwise, and **every pull begins
at the first unacknowledged record**: where this process delivered records that are not
acknowledged, the pull seeks back to the first of them before polling. So:

- a pull that follows an unacknowledged pull returns those records again (at least once;
  their `delivery_id` is the same, so consumers drop repeats): a consumer that crashed or
  lost a pull's answer gets the records again from its next pull, and a cursor covers only
  records its own pull returned, after everything before them, so acknowledging it never
  commits past a record the consumer did not receive;
- after a restart (a new reader starting from the committed offsets), every record not
  acknowledged is delivered again, and nothing acknowledged is.

Each pull also tells its lag: how many records of the topic lie beyond its batch, not
delivered yet (the reader's distance from the end of each partition, summed; on Kafka an
approximation, see `GroupReader.lag`).

A pull that follows an acknowledged one does not seek (the reader is already there, and
the Kafka client keeps the records it fetched ahead). A consumer that wants new records
acknowledges before pulling again: pull, process, acknowledge.

A subscription that starts from "latest" has its starting offsets committed when it is
opened, so "latest" means "after the subscription was created", also across restarts.

Several hub processes each hold a reader of the same subscription, and a consumer's
pulls and acknowledgements may reach any of them. So every pull first reads the group's
committed offsets: a reader behind them moves up (what another process delivered and
was acknowledged is not delivered again), and what this process delivered is counted as
acknowledged as far as they go. Each pull thus sees every partition, and no process ever
waits for another (no rebalance).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from exchange.records.cursors import Cursor
from exchange.transport import (
    GroupReader,
    Message,
    StartPosition,
    TopicPartition,
    Transport,
    TransportError,
)

logger = logging.getLogger(__name__)

GROUP_PREFIX = "exchange.subscription."


def group_for(subscription_id: str) -> str:
    """The consumer group of a subscription."""
    return GROUP_PREFIX + subscription_id


@dataclass(frozen=True)
class ConsumerSpec:
    """What the pool needs to know to open a subscription's consumer."""

    subscription_id: str
    topic: str
    start: StartPosition


@dataclass(frozen=True)
class Pulled:
    """The records of one pull, the cursor that acknowledges them (and earlier ones), and
    the lag: how many records of the topic lie beyond them, not delivered yet (see
    `GroupReader.lag`: approximate on Kafka)."""

    messages: list[Message]
    cursor: Cursor
    lag: int | None


@dataclass
class _Member:
    """One subscription's reader and what it delivered since the last acknowledgement."""

    spec: ConsumerSpec
    reader: GroupReader
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Partition -> offset after the last record delivered: the reader's position there.
    delivered: dict[int, int] = field(default_factory=dict)
    # Partition -> first offset delivered but not acknowledged (everything before is).
    acknowledged: dict[int, int] = field(default_factory=dict)

    def outstanding_partitions(self) -> list[int]:
        return [
            partition
            for partition, offset in self.delivered.items()
            if offset > self.acknowledged.get(partition, offset)
        ]

    def partition(self, number: int) -> TopicPartition:
        return TopicPartition(self.spec.topic, number)


class SubscriptionConsumers:
    """Opens, polls, commits and closes the readers of subscriptions; thread-safe."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self._members: dict[str, _Member] = {}
        self._lock = threading.Lock()

    def open(self, spec: ConsumerSpec) -> None:
        """Open the subscription's reader now; for "latest", commit where it starts: the
        current end of every partition, so what is produced from now on is the
        subscription's even if this process stops before the first pull."""
        member = self._member(spec)
        if spec.start == "latest":
            with member.lock:
                member.reader.commit(member.reader.end_offsets())

    def pull(self, spec: ConsumerSpec, max_records: int, wait_s: float) -> Pulled:
        """Up to `max_records` records from the first unacknowledged one on, waiting up
        to `wait_s` for the first."""
        member = self._member(spec)
        with member.lock:
            self._catch_up_with_group(member)
            self._rewind_to_first_unacknowledged(member)
            messages = member.reader.poll(max_records, wait_s)
            for message in messages:
                member.acknowledged.setdefault(message.partition, message.offset)
                member.delivered[message.partition] = message.next_offset
            cursor = Cursor(spec.subscription_id, dict(member.delivered))
            return Pulled(messages, cursor, _lag_of(member.reader))

    def acknowledge(self, spec: ConsumerSpec, cursor: Cursor) -> None:
        """Commit the cursor's offsets for the subscription's group (never moving back)."""
        member = self._member(spec)
        with member.lock:
            offsets = {
                partition: max(offset, member.acknowledged.get(partition, offset))
                for partition, offset in cursor.offsets.items()
            }
            member.reader.commit(
                {member.partition(partition): offset for partition, offset in offsets.items()}
            )
            member.acknowledged.update(offsets)

    def close(self) -> None:
        """Close every reader (without committing)."""
        with self._lock:
            members, self._members = list(self._members.values()), {}
        for member in members:
            with member.lock:
                member.reader.close()

    def _member(self, spec: ConsumerSpec) -> _Member:
        with self._lock:
            member = self._members.get(spec.subscription_id)
        if member is not None:
            return member
        # Opened outside the pool's lock: it talks to the log, and other subscriptions'
        # pulls must not wait for that. Two threads may both open one: the later one closes it.
        reader = self._transport.group_reader(
            group_for(spec.subscription_id), spec.topic, spec.start
        )
        with self._lock:
            member = self._members.setdefault(spec.subscription_id, _Member(spec, reader))
        if member.reader is not reader:
            reader.close()
        return member

    def _catch_up_with_group(self, member: _Member) -> None:
        """Take in the acknowledgements made through other processes: move the reader up
        to the group's committed offsets where it is behind them, and count what this
        process delivered as acknowledged as far as they go."""
        for partition, committed in member.reader.committed_offsets().items():
            number = partition.partition
            if member.delivered.get(number, -1) < committed:
                member.reader.seek(partition, committed)
                member.delivered[number] = committed
            if member.acknowledged.get(number, committed) < committed:
                member.acknowledged[number] = committed

    def _rewind_to_first_unacknowledged(self, member: _Member) -> None:
        """Seek back to the first unacknowledged record of each partition that has one,
        so the pull returns it again rather than moving on: a later cursor would otherwise
        acknowledge it unseen (Kafka offsets are cumulative). Partitions where everything
        delivered was acknowledged are not touched: the reader is already there."""
        for number in member.outstanding_partitions():
            first_unacknowledged = member.acknowledged[number]
            member.reader.seek(member.partition(number), first_unacknowledged)
            member.delivered[number] = first_unacknowledged


def _lag_of(reader: GroupReader) -> int | None:
    """The reader's total lag, or None when the broker cannot say now: the lag only informs,
    so it never fails a pull whose records were read."""
    # From the reader's own positions and cached ends: no extra round trip on Kafka once
    # every partition has been fetched from.
    try:
        return sum(reader.lag().values())
    except TransportError:
        logger.warning("could not read a subscription's lag", exc_info=True)
        return None
