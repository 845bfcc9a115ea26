"""A hub's request threads all check their topics as a worker starts: the transport's one
admin client must serve them one at a time (kafka-python's is not thread-safe)."""

from __future__ import annotations

import threading
import uuid

import pytest

from exchange.transport.kafka import KafkaTransport

THREADS = 16


@pytest.mark.kafka
def test_concurrent_first_topic_checks_all_succeed(kafka_bootstrap):
    topic = f"test.admin-concurrency.{uuid.uuid4().hex[:10]}"
    setup = KafkaTransport(kafka_bootstrap)
    try:
        setup.create_topic(topic, 3)
    finally:
        setup.close()
    fresh = KafkaTransport(kafka_bootstrap)
    start = threading.Barrier(THREADS)
    counts: list[int] = []
    failures: list[BaseException] = []

    def check() -> None:
        start.wait()
        try:
            counts.append(fresh.partition_count(topic))
        except Exception as error:  # collected and asserted on below
            failures.append(error)

    threads = [threading.Thread(target=check) for _ in range(THREADS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        fresh.close()
    assert failures == []
    assert counts == [3] * THREADS
