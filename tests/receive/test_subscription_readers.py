"""The subscription pool (here on one embedded log): every pull sees every partition and
begins at the first unacknowledged record, so a cursor never acknowledges a record its
consumer did not receive; with several hub processes (two pools on one log), what one
process's acknowledgement covered is not delivered again by another."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from exchange.records.consumers import ConsumerSpec, SubscriptionConsumers
from exchange.transport import GroupReader, OutgoingMessage, StartPosition, TopicPartition
from exchange.transport.embedded import EmbeddedTransport

TOPIC = "exchange.records.market-regulation.business-licence"
SPEC = ConsumerSpec("subscription-1", TOPIC, "earliest")
EVERY_RECORD = [b"%d" % n for n in range(9)]


class SeekCountingTransport(EmbeddedTransport):
    """The embedded log, counting the seeks of the readers it opens."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.seeks = 0

    def group_reader(
        self, group: str, topic: str, start: StartPosition = "earliest"
    ) -> GroupReader:
        reader = super().group_reader(group, topic, start)
        seek = reader.seek

        def counting_seek(partition: TopicPartition, offset: int) -> None:
            self.seeks += 1
            seek(partition, offset)

        reader.seek = counting_seek  # type: ignore[method-assign]
        return reader


@pytest.fixture
def transport(tmp_path: Path) -> Iterator[SeekCountingTransport]:
    log = SeekCountingTransport(tmp_path / "log.db")
    log.create_topic(TOPIC, 3)
    producer = log.producer()
    producer.produce(TOPIC, [OutgoingMessage(value, key=b"key-" + value) for value in EVERY_RECORD])
    producer.close()
    yield log
    log.close()


@pytest.fixture
def processes(transport) -> Iterator[tuple[SubscriptionConsumers, SubscriptionConsumers]]:
    first = SubscriptionConsumers(transport)
    second = SubscriptionConsumers(transport)
    yield first, second
    first.close()
    second.close()


def _values(*pulls) -> list[bytes]:
    return sorted(message.value for pulled in pulls for message in pulled.messages)


def test_one_process_pulls_every_partition(processes):
    first, _ = processes

    pulled = first.pull(SPEC, 100, wait_s=0)

    assert _values(pulled) == EVERY_RECORD
    assert len({message.partition for message in pulled.messages}) == 3


def test_what_another_process_acknowledged_is_not_delivered_again(processes):
    first, second = processes
    pulls = []
    # Each process pulls and acknowledges in turn: the second moves past what the first
    # delivered since its own last pull.
    for process in (second, first, second):
        pulled = process.pull(SPEC, 3, wait_s=0)
        process.acknowledge(SPEC, pulled.cursor)
        pulls.append(pulled)

    assert _values(*pulls) == EVERY_RECORD


def test_an_acknowledgement_through_another_process_counts_for_the_next_pull(processes):
    first, second = processes
    taken = first.pull(SPEC, 100, wait_s=0)
    second.acknowledge(SPEC, taken.cursor)

    assert first.pull(SPEC, 100, wait_s=0).messages == []


def test_what_nobody_acknowledged_comes_again_on_the_next_pull(processes):
    first, _ = processes
    taken = first.pull(SPEC, 4, wait_s=0)

    again = first.pull(SPEC, 4, wait_s=0)

    assert [(m.partition, m.offset) for m in again.messages] == [
        (m.partition, m.offset) for m in taken.messages
    ]


def test_a_later_cursor_never_acknowledges_an_unacknowledged_pulls_records(transport):
    # A consumer pulls and dies before acknowledging; restarted, it pulls, acknowledges
    # that pull's cursor, and after a hub restart pulls the rest: it received everything.
    pool = SubscriptionConsumers(transport)
    pool.pull(SPEC, 3, wait_s=0)  # answered to the consumer that died
    after_its_restart = pool.pull(SPEC, 3, wait_s=0)
    pool.acknowledge(SPEC, after_its_restart.cursor)
    pool.close()
    restarted_hub = SubscriptionConsumers(transport)

    the_rest = restarted_hub.pull(SPEC, 100, wait_s=0)
    restarted_hub.close()

    assert _values(after_its_restart, the_rest) == EVERY_RECORD


def test_a_pull_after_an_acknowledged_one_does_not_move_the_reader(transport, processes):
    # A seek makes the Kafka client drop what it fetched ahead: only a pull that must go
    # back to an unacknowledged record pays for one.
    first, _ = processes
    for _ in range(3):
        pulled = first.pull(SPEC, 3, wait_s=0)
        first.acknowledge(SPEC, pulled.cursor)

    assert transport.seeks == 0
