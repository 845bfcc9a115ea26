"""The audit writer as a thread of a hub process: how the embedded default runs the same
topic-and-writer path as a multi-instance deployment, on one machine.

Requests wait (briefly) until the writer has stored their event, so on one machine the
audit log reads back every request already answered.
"""

from __future__ import annotations

import logging
import threading
import time

from exchange.audit.writer import AuditWriter, run_writer
from exchange.store.database import Database
from exchange.store.repositories import AuditRepository
from exchange.transport import Acknowledged, TopicPartition

logger = logging.getLogger(__name__)

IDLE_WAIT_S = 0.05
RETRY_AFTER_FAILURE_S = 1.0


class InProcessAuditWriter:
    """Runs an `AuditWriter` on a daemon thread until `stop`."""

    def __init__(self, writer: AuditWriter, database: Database) -> None:
        self._writer = writer
        self._entries = AuditRepository(database)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._progress = threading.Condition()
        self._checkpoint_wanted = threading.Event()
        self._checkpoint_done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def notify(self) -> None:
        """Wake the writer: a message was just produced."""
        self._wake.set()

    def wait_until_stored(
        self, event_id: str, acknowledged: Acknowledged, timeout_s: float
    ) -> bool:
        """Block until the event is in the store (written by this writer or by whichever
        writer holds the audit partition); False if `timeout_s` passed first."""
        self.notify()
        partition = TopicPartition(acknowledged.topic, acknowledged.partition)
        deadline = time.monotonic() + timeout_s
        while not self._stored_past(partition, acknowledged.offset):
            with self._progress:
                notified = self._progress.wait(IDLE_WAIT_S)
            # Another process's writer may hold the partition: then only the store knows.
            if not notified and self._entries.has_event(event_id):
                return True
            if time.monotonic() >= deadline:
                return False
        return True

    def _stored_past(self, partition: TopicPartition, offset: int) -> bool:
        return self._writer.next_offset(partition) > offset

    def checkpoint_now(self, timeout_s: float = 10.0) -> bool:
        """Have the writer thread sign a checkpoint of everything stored so far (if the
        tree grew); False if it did not within `timeout_s`."""
        self._checkpoint_done.clear()
        self._checkpoint_wanted.set()
        self._wake.set()
        return self._checkpoint_done.wait(timeout_s)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask the thread to finish its batch, sign the shutdown checkpoint and leave the
        group; wait up to `timeout_s` for it."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    run_writer(self._writer, self._stop, poll_timeout_s=0.0, idle=self._idle)
                except Exception:  # the thread must outlive a store or transport outage
                    logger.exception("audit writer failed; retrying")
                    self._stop.wait(RETRY_AFTER_FAILURE_S)
        finally:
            self._writer.close()

    def _idle(self, read: int) -> None:
        with self._progress:
            self._progress.notify_all()
        if self._checkpoint_wanted.is_set():
            self._checkpoint_wanted.clear()
            self._writer.checkpoint()
            self._checkpoint_done.set()
        if read == 0:
            self._wake.wait(IDLE_WAIT_S)
        self._wake.clear()
