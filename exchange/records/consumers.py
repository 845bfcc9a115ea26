"""The hub process's pool of subscription consumers: one transport consumer per subscription,
in consumer group `exchange.subscription.<id>`, on the subject's topic.

A pull polls the subscription's consumer and returns the records with a cursor (the next
offset, per partition, after everything delivered so far). Acknowledging a cursor commits
exactly its offsets for the group. Nothing is committed otherwise, so:

- after a restart (a new consumer reading from the committed offsets), every record not
  acknowledged is delivered again, and nothing acknowledged is;
- a pull that finds records delivered but not acknowledged for `redelivery_timeout_s`
  moves the consumer back to the first unacknowledged offset of each partition, so a
  consumer that lost a pull's answer gets those records again without a restart.

A subscription that starts from "latest" has its starting offsets committed when it is
opened, so "latest" means "after the subscription was created", also across restarts.

Pull and acknowledgement bookkeeping is per process; with several hub instances the
group shares the partitions among them, and any instance's commit counts for the group.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from exchange.records.cursors import Cursor
from exchange.transport import (
    Consumer,
    Message,
    PartitionNotAssignedError,
    StartPosition,
    TopicPartition,
    Transport,
    TransportError,
)

GROUP_PREFIX = "exchange.subscription."
# How long opening a "latest" subscription may take to join its group and pin its start.
PIN_START_TIMEOUT_S = 20.0
_PIN_POLL_S = 0.2


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
    """The records of one pull and the cursor that acknowledges them (and earlier ones)."""

    messages: list[Message]
    cursor: Cursor


@dataclass
class _Member:
    """One subscription's consumer and what it delivered since the last acknowledgement."""

    spec: ConsumerSpec
    consumer: Consumer
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Partition -> offset after the last record delivered.
    delivered: dict[int, int] = field(default_factory=dict)
    # Partition -> first offset delivered but not acknowledged (everything before is).
    acknowledged: dict[int, int] = field(default_factory=dict)
    outstanding_since: float | None = None

    def outstanding_partitions(self) -> list[int]:
        return [
            partition
            for partition, offset in self.delivered.items()
            if offset > self.acknowledged.get(partition, offset)
        ]

    def partition(self, number: int) -> TopicPartition:
        return TopicPartition(self.spec.topic, number)


class SubscriptionConsumers:
    """Opens, polls, commits and closes the consumers of subscriptions; thread-safe."""

    def __init__(
        self,
        transport: Transport,
        redelivery_timeout_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._transport = transport
        self._redelivery_timeout_s = redelivery_timeout_s
        self._clock = clock
        self._members: dict[str, _Member] = {}
        self._lock = threading.Lock()

    def open(self, spec: ConsumerSpec) -> None:
        """Join the subscription's group now; for "latest", commit where it starts."""
        member = self._member(spec)
        if spec.start == "latest":
            with member.lock:
                self._pin_start(member)

    def pull(self, spec: ConsumerSpec, max_records: int, wait_s: float) -> Pulled:
        """Up to `max_records` records, waiting up to `wait_s` for the first one."""
        member = self._member(spec)
        with member.lock:
            self._redeliver_if_overdue(member)
            messages = member.consumer.poll(max_records, wait_s)
            for message in messages:
                member.acknowledged.setdefault(message.partition, message.offset)
                member.delivered[message.partition] = message.next_offset
            if messages and member.outstanding_since is None:
                member.outstanding_since = self._clock()
            return Pulled(messages, Cursor(spec.subscription_id, dict(member.delivered)))

    def acknowledge(self, spec: ConsumerSpec, cursor: Cursor) -> None:
        """Commit the cursor's offsets for the subscription's group (never moving back)."""
        member = self._member(spec)
        with member.lock:
            offsets = {
                partition: max(offset, member.acknowledged.get(partition, offset))
                for partition, offset in cursor.offsets.items()
            }
            member.consumer.commit(
                {member.partition(partition): offset for partition, offset in offsets.items()}
            )
            member.acknowledged.update(offsets)
            if not member.outstanding_partitions():
                member.outstanding_since = None

    def close(self) -> None:
        """Close every consumer (leaving its group without committing)."""
        with self._lock:
            members, self._members = list(self._members.values()), {}
        for member in members:
            with member.lock:
                member.consumer.close()

    def _member(self, spec: ConsumerSpec) -> _Member:
        with self._lock:
            member = self._members.get(spec.subscription_id)
            if member is None:
                consumer = self._transport.consumer(
                    group_for(spec.subscription_id), [spec.topic], spec.start
                )
                member = _Member(spec, consumer)
                self._members[spec.subscription_id] = member
            return member

    def _redeliver_if_overdue(self, member: _Member) -> None:
        since = member.outstanding_since
        if since is None or self._clock() - since < self._redelivery_timeout_s:
            return
        for number in member.outstanding_partitions():
            first_unacknowledged = member.acknowledged[number]
            try:
                member.consumer.seek(member.partition(number), first_unacknowledged)
            except PartitionNotAssignedError:
                continue  # another member owns it now and reads from the committed offset
            member.delivered[number] = first_unacknowledged
        member.outstanding_since = None

    def _pin_start(self, member: _Member) -> None:
        """Join the group and commit the current end of every partition, so the records
        produced from now on are the subscription's even if this process stops first."""
        partitions = self._transport.partition_count(member.spec.topic)
        deadline = time.monotonic() + PIN_START_TIMEOUT_S
        while time.monotonic() < deadline:
            first_offsets: dict[TopicPartition, int] = {}
            for message in member.consumer.poll(partitions, _PIN_POLL_S):
                first_offsets.setdefault(message.topic_partition, message.offset)
            for partition, offset in first_offsets.items():
                # Produced after we joined: it belongs to the subscription; read it again.
                member.consumer.seek(partition, offset)
            member.consumer.commit_consumed()
            if all(
                member.consumer.committed(member.partition(number)) is not None
                for number in range(partitions)
            ):
                return
        raise TransportError(
            f"could not join the consumer group of subscription {member.spec.subscription_id!r}"
        )
