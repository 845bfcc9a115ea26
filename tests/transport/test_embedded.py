"""What only the embedded log promises: atomic produce calls, several processes, group sharing."""

from __future__ import annotations

import multiprocessing
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from exchange.transport import Message, OutgoingMessage, TransportError
from exchange.transport.embedded import EmbeddedTransport, clock

TOPIC = "records"
PROCESSES = 3
CALLS_PER_PROCESS = 20


@pytest.fixture
def transport(tmp_path: Path):
    opened = EmbeddedTransport(tmp_path / "log.db")
    yield opened
    opened.close()


def drain(consumer, idle_s: float = 0.3) -> list[Message]:
    """Everything the consumer can read now: poll until a poll comes back empty."""
    received: list[Message] = []
    while batch := consumer.poll(1000, timeout_s=idle_s):
        received.extend(batch)
    return received


def _produce_from_another_process(path: str, writer: int) -> None:
    transport = EmbeddedTransport(path)
    producer = transport.producer()
    for call in range(CALLS_PER_PROCESS):
        key = f"writer-{writer}".encode()
        producer.produce(TOPIC, [OutgoingMessage(f"{call}-a".encode(), key=key)] * 2)
    transport.close()


def test_a_failing_produce_call_stores_none_of_its_messages(transport):
    transport.create_topic(TOPIC, 1)
    producer = transport.producer()
    not_bytes = OutgoingMessage(value=None)  # type: ignore[arg-type]

    with pytest.raises(TransportError):
        producer.produce(TOPIC, [OutgoingMessage(b"fine"), not_bytes])

    assert drain(transport.consumer("group", [TOPIC])) == []


def test_processes_appending_at_once_get_distinct_gapless_offsets(transport, tmp_path):
    transport.create_topic(TOPIC, 2)
    context = multiprocessing.get_context("spawn")
    writers = [
        context.Process(target=_produce_from_another_process, args=(str(tmp_path / "log.db"), n))
        for n in range(PROCESSES)
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=60)
        assert writer.exitcode == 0

    received = drain(transport.consumer("group", [TOPIC]))

    assert len(received) == PROCESSES * CALLS_PER_PROCESS * 2
    offsets = defaultdict(list)
    for message in received:
        offsets[message.partition].append(message.offset)
    for partition_offsets in offsets.values():
        assert partition_offsets == list(range(len(partition_offsets)))


def test_threads_sharing_one_producer_get_distinct_gapless_offsets(transport):
    transport.create_topic(TOPIC, 1)
    producer = transport.producer()

    def produce_batch(n: int) -> list[int]:
        acks = producer.produce(TOPIC, [OutgoingMessage(f"{n}".encode())] * 3)
        return [ack.offset for ack in acks]

    with ThreadPoolExecutor(max_workers=4) as pool:
        batches = list(pool.map(produce_batch, range(40)))

    assert sorted(offset for batch in batches for offset in batch) == list(range(120))
    assert all(batch == list(range(batch[0], batch[0] + 3)) for batch in batches)


def test_members_of_one_group_read_disjoint_partitions(transport):
    transport.create_topic(TOPIC, 4)
    group = uuid.uuid4().hex
    first, second = transport.consumer(group, [TOPIC]), transport.consumer(group, [TOPIC])
    assert first.poll(10, timeout_s=0) == []
    assert second.poll(10, timeout_s=0) == []
    produce_keyed(transport, count=40)

    read_by_first, read_by_second = drain(first), drain(second)

    assert len(read_by_first) + len(read_by_second) == 40
    assert read_by_first
    assert read_by_second
    assert {m.partition for m in read_by_first}.isdisjoint({m.partition for m in read_by_second})


def test_a_leaving_member_hands_its_partitions_to_the_rest_of_the_group(transport):
    transport.create_topic(TOPIC, 4)
    group = uuid.uuid4().hex
    staying, leaving = transport.consumer(group, [TOPIC]), transport.consumer(group, [TOPIC])
    staying.poll(10, timeout_s=0)
    leaving.poll(10, timeout_s=0)
    produce_keyed(transport, count=20)
    drain(staying)
    drain(leaving)
    staying.commit_consumed()
    leaving.commit_consumed()

    leaving.close()
    produce_keyed(transport, count=20)

    assert len(drain(staying)) == 20


def test_a_silent_member_is_dropped_after_the_session_timeout(transport, monkeypatch):
    transport.create_topic(TOPIC, 2)
    group = uuid.uuid4().hex
    alive, silent = transport.consumer(group, [TOPIC]), transport.consumer(group, [TOPIC])
    alive.poll(10, timeout_s=0)
    silent.poll(10, timeout_s=0)
    produce_keyed(transport, count=10)
    a_minute_later = clock.now_ms() + 60_000
    monkeypatch.setattr(clock, "now_ms", lambda: a_minute_later)

    assert len(drain(alive)) == 10


def produce_keyed(transport: EmbeddedTransport, count: int) -> None:
    producer = transport.producer()
    producer.produce(TOPIC, [OutgoingMessage(b"v", key=f"key-{n}".encode()) for n in range(count)])
