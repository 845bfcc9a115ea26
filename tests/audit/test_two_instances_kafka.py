"""One log from several hub instances, on a real Kafka broker: two instances produce under
load while the writer is stopped and restarted mid-way; every entry is stored exactly
once and the log verifies."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from exchange.audit.checkpoints import hub_public_keys
from exchange.audit.topic_sink import TopicAuditSink
from exchange.audit.verify import verify_log
from exchange.audit.writer import AuditWriter, CheckpointPolicy, run_writer
from exchange.store.repositories import AuditRepository
from exchange.transport.kafka import KafkaTransport
from tests.audit.support import event, hub_signer_in

pytestmark = pytest.mark.kafka

EVENTS_PER_INSTANCE = 150


def produce_as_instance(bootstrap, topic, name, errors):
    transport = KafkaTransport(bootstrap, client_id=f"hub-{name}")
    sink = TopicAuditSink(transport, topic=topic)
    try:
        for n in range(EVENTS_PER_INSTANCE):
            sink.append(event(n, request_id=f"{name}-{n}"))
    except Exception as error:  # reported to the test thread
        errors.append(error)
    finally:
        sink.close()
        transport.close()


class WriterProcess:
    """A writer on its own transport and thread, as `exchange audit writer` runs it."""

    def __init__(self, db, bootstrap, topic, group, signer):
        self.transport = KafkaTransport(bootstrap, client_id="audit-writer")
        self.writer = AuditWriter(
            db, self.transport, lambda: signer, topic=topic, group=group,
            policy=CheckpointPolicy(every_entries=25, every_seconds=3600),
        )  # fmt: skip
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=run_writer, args=(self.writer, self.stop_event, 0.2))
        self.thread.start()

    def stop(self):
        self.stop_event.set()
        self.thread.join(30)
        assert not self.thread.is_alive()
        self.writer.close()
        self.transport.close()


def wait_for_entries(db, count, timeout_s=60.0):
    repository = AuditRepository(db)
    deadline = time.monotonic() + timeout_s
    while repository.count() < count:
        assert time.monotonic() < deadline, f"only {repository.count()} of {count} entries"
        time.sleep(0.1)  # polling the store with a deadline: there is nothing to await


def test_two_instances_and_a_restarted_writer_yield_one_log_with_every_entry_once(
    db, kafka_bootstrap
):
    topic = f"test.audit.{uuid.uuid4().hex[:8]}"
    group = f"test.audit-writer.{uuid.uuid4().hex[:8]}"
    signer = hub_signer_in(db)
    errors: list[Exception] = []
    producers = [
        threading.Thread(target=produce_as_instance, args=(kafka_bootstrap, topic, name, errors))
        for name in ("hub-a", "hub-b")
    ]
    for thread in producers:
        thread.start()

    first = WriterProcess(db, kafka_bootstrap, topic, group, signer)
    wait_for_entries(db, 40)
    first.stop()
    second = WriterProcess(db, kafka_bootstrap, topic, group, signer)
    for thread in producers:
        thread.join(120)
    wait_for_entries(db, 2 * EVENTS_PER_INSTANCE)
    second.stop()

    assert errors == []
    stored = [str(entry.request_id) for entry in AuditRepository(db).scan(limit=10_000)]
    expected = {f"{name}-{n}" for name in ("hub-a", "hub-b") for n in range(EVENTS_PER_INSTANCE)}
    assert sorted(stored) == sorted(expected)
    report = verify_log(db, hub_public_keys(db))
    assert report.ok, report.findings
    assert report.entries == 2 * EVENTS_PER_INSTANCE
    assert report.unsigned_tail == 0
