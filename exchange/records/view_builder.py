"""The view builder: keeps the latest-record view (what lookups read) by consuming every
subject topic (`exchange.records.*`) in consumer group `exchange.view`.

How the view is fed:

- On the embedded default, `open_hub` runs a builder as a thread of the hub process.
- With Kafka, `exchange view build` runs one as a worker (several may run: the group
  shares the partitions among them).
- `exchange view rebuild` empties the view and reads every topic again from the start
  (in a fresh group), for a view lost or suspected wrong; the topics are the truth.

Each batch is upserted, newest offset per key winning, before its offsets are committed, so
a crash re-reads at most one batch and re-reading changes nothing (the upsert never
replaces a newer read). Subject topics created later are picked up within
`topic_refresh_s`.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from exchange.errors import ExchangeError
from exchange.records.envelope import TOPIC_PREFIX, decode_envelope
from exchange.store.database import Database
from exchange.store.repositories import LatestRecordRepository, LatestRecordRow
from exchange.transport import Consumer, Message, TopicPartition, Transport

logger = logging.getLogger(__name__)

VIEW_GROUP = "exchange.view"
TOPIC_REFRESH_S = 2.0
POLL_TIMEOUT_S = 0.5
BATCH_RECORDS = 500
# After a failure (store or transport down), wait this long before trying again.
RETRY_AFTER_S = 1.0


class ViewBuilder:
    """Consumes the subject topics into the latest-record view. Use from one thread, or
    let `start` run it in its own."""

    def __init__(
        self,
        transport: Transport,
        database: Database,
        group: str = VIEW_GROUP,
        topic_refresh_s: float = TOPIC_REFRESH_S,
    ) -> None:
        self._transport = transport
        self._view = LatestRecordRepository(database)
        self._group = group
        self._topic_refresh_s = topic_refresh_s
        self._consumer: Consumer | None = None
        self._topics: frozenset[str] = frozenset()
        self._topics_checked_at: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """Read one batch into the view and commit it; returns how many records were read."""
        consumer = self._current_consumer()
        if consumer is None:
            self._stop.wait(POLL_TIMEOUT_S)
            return 0
        messages = consumer.poll(BATCH_RECORDS, POLL_TIMEOUT_S)
        if messages:
            self._view.upsert_newer(list(_rows_of(messages)))
            consumer.commit(_next_offsets(messages))
        return len(messages)

    def run(self) -> None:
        """Consume until `stop`; failures are logged and retried, never fatal."""
        while not self._stop.is_set():
            try:
                self.run_once()
            except ExchangeError as error:
                logger.warning("view builder: %s; retrying", error.detail)
                self._drop_consumer()
                self._stop.wait(RETRY_AFTER_S)
            except Exception:  # a dead builder would silently freeze every lookup
                logger.exception("view builder failed; retrying")
                self._drop_consumer()
                self._stop.wait(RETRY_AFTER_S)
        self._drop_consumer()

    def start(self) -> None:
        """Run in a daemon thread until `stop`."""
        self._thread = threading.Thread(target=self.run, name="exchange-view-builder", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Make `run` leave the group and return (safe from a signal handler); waits for
        the thread when `start` made one."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def catch_up(self, idle_s: float = 2.0, timeout_s: float = 120.0) -> int:
        """Consume until nothing new came for `idle_s` (or `timeout_s` passed); returns how
        many records were read. For rebuilds and one-shot runs, not for the thread."""
        read, deadline = 0, time.monotonic() + timeout_s
        quiet_since = time.monotonic()
        while time.monotonic() < deadline and time.monotonic() - quiet_since < idle_s:
            count = self.run_once()
            if count:
                read += count
                quiet_since = time.monotonic()
        self._drop_consumer()
        return read

    def _current_consumer(self) -> Consumer | None:
        now = time.monotonic()
        due = self._topics_checked_at is None or now - self._topics_checked_at >= (
            self._topic_refresh_s
        )
        if due:
            self._topics_checked_at = now
            topics = self._subject_topics()
            if topics != self._topics:
                # A group member reads a fixed set of topics: a new subject means a new member.
                self._drop_consumer()
                self._topics = topics
        if self._consumer is None and self._topics:
            self._consumer = self._transport.consumer(self._group, sorted(self._topics), "earliest")
        return self._consumer

    def _subject_topics(self) -> frozenset[str]:
        return frozenset(
            topic for topic in self._transport.list_topics() if topic.startswith(TOPIC_PREFIX)
        )

    def _drop_consumer(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            try:
                consumer.close()
            except ExchangeError as error:
                logger.warning("view builder: closing its consumer: %s", error.detail)


def rebuild_view(transport: Transport, database: Database) -> int:
    """Empty the view and read every subject topic again from the start; returns how many
    records were read. The running builders carry on from their own offsets, and the
    upsert keeps the newest record whichever reads it first."""
    LatestRecordRepository(database).clear()
    builder = ViewBuilder(transport, database, group=f"{VIEW_GROUP}.rebuild.{uuid.uuid4().hex}")
    return builder.catch_up(idle_s=5.0)


def _rows_of(messages: Iterable[Message]) -> Iterable[LatestRecordRow]:
    now = datetime.now(UTC)
    for message in messages:
        try:
            envelope = decode_envelope(message.value)
            row = LatestRecordRow(
                subject=str(envelope["subject"]),
                key=str(envelope["key"]),
                record_id=str(envelope["record_id"]),
                envelope=message.value.decode("utf-8"),
                log_partition=message.partition,
                log_offset=message.offset,
                updated_at=now,
            )
        except (ValueError, KeyError) as error:
            # Only the hub writes these topics; a foreign message is skipped, not fatal.
            logger.warning(
                "view builder: skipping %s[%d]@%d: %s",
                message.topic,
                message.partition,
                message.offset,
                error,
            )
            continue
        yield row


def _next_offsets(messages: Iterable[Message]) -> dict[TopicPartition, int]:
    offsets: dict[TopicPartition, int] = {}
    for message in messages:
        offsets[message.topic_partition] = max(
            offsets.get(message.topic_partition, 0), message.next_offset
        )
    return offsets
