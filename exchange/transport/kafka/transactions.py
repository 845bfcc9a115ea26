"""Kafka transactions for batches: a pool of transactional producers, one per batch in flight.

A transactional producer runs one transaction at a time, and the hub produces from many
request threads; so each batch borrows an idle producer, runs its transaction and gives
the producer back. The pool grows lazily to the number of batches produced at once, up to
`MAX_PRODUCERS` (a batch beyond waits for one to come back), and never shrinks. Each
producer holds its own buffers, connections and sender thread: more of them let more
batches wait on the broker at once, but the hub's CPU, not the broker, bounds batched
publishing, and each one costs a worker several MiB (the bench's peak RSS rose by ~17 MiB
with up to eight).

Each producer of the pool holds a *slot*, and a slot keeps its transactional id for the
life of the process. A producer left in a state it cannot leave (fenced, fatal error, or a
transaction that could not be ended in time) is closed, and the slot's next producer takes
the same id: its `init_transactions` fences the old one and makes the coordinator abort
(or finish committing) whatever transaction the old one left open, so nothing it still
held can be written afterwards.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from kafka import KafkaProducer
from kafka.errors import KafkaError, KafkaTimeoutError
from kafka.producer.transaction_manager import TransactionState

logger = logging.getLogger(__name__)

# The coordinator aborts a transaction left open this long by a producer that died (a hub
# process killed mid-publish). Until then, read_committed readers of the partitions it
# touched wait at its first record; Kafka's default is a minute.
TRANSACTION_TIMEOUT_MS = 30_000
# Transactional producers per process at most (see the module's docstring).
MAX_PRODUCERS = 2


def transactional_id(prefix: str, slot: int) -> str:
    """The transactional id of `slot` in this process: unique per host, process and slot,
    so the hub's processes never fence one another."""
    return f"{prefix}-{socket.gethostname()}-{os.getpid()}-{slot}"


def end_transaction(producer: KafkaProducer, commit: bool, timeout_s: float) -> None:
    """Commit (or abort) the producer's transaction, waiting at most `timeout_s`.

    kafka-python's `commit_transaction` and `abort_transaction` wait without a bound
    (`TransactionalRequestResult.wait()`), which would hold a request thread for as long as
    the coordinator is unreachable. This does what they do (begin, wake the sender, wait)
    with a bound, through the producer's transaction manager. Raises `KafkaTimeoutError` if
    the coordinator did not answer in time: the transaction's outcome is then unknown, but
    whole (committed or aborted as one).
    """
    manager = producer._transaction_manager
    result = manager.begin_commit() if commit else manager.begin_abort()
    producer._sender.wakeup()
    if not result.wait(timeout_ms=int(timeout_s * 1000)):
        verb = "committing" if commit else "aborting"
        raise KafkaTimeoutError(f"{verb} the transaction took longer than {timeout_s:.1f} s")


@dataclass
class _Slot:
    transactional_id: str
    producer: KafkaProducer | None = None


class TransactionalProducers:
    """Idle transactional producers, lent one per batch; thread-safe.

    `make(transactional_id)` builds a `KafkaProducer` with that id (not yet initialised);
    the pool calls `init_transactions` on it before its first use.
    """

    def __init__(
        self,
        make: Callable[[str], KafkaProducer],
        id_prefix: str,
        close_timeout_s: float,
        max_producers: int = MAX_PRODUCERS,
    ) -> None:
        self._make = make
        self._id_prefix = id_prefix
        self._close_timeout_s = close_timeout_s
        self._max_producers = max_producers
        self._idle: list[_Slot] = []
        self._slots = 0
        self._closed = False
        self._lock = threading.Lock()
        self._returned = threading.Condition(self._lock)

    @contextmanager
    def borrowed(self) -> Iterator[KafkaProducer]:
        """An initialised transactional producer with no transaction open, for this caller
        alone. It goes back to the pool when the block ends, unless the block raised or
        left it with a transaction open: then it is closed, and its slot gets a new
        producer on next use. (Even after a clean abort: kafka-python 3.0.12 bumps the
        epoch after a refused batch and then numbers the next transaction's records out of
        sequence, which the broker refuses; a new producer starts with fresh numbers.)"""
        slot = self._take_slot()
        try:
            if slot.producer is None:
                slot.producer = self._started(slot.transactional_id)
            yield slot.producer
            if not _ready(slot.producer):
                self._discard(slot)
        except BaseException:
            self._discard(slot)
            raise
        finally:
            self._give_back(slot)

    def close(self) -> None:
        """Close the idle producers (a producer lent out is closed when given back)."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for slot in idle:
            if slot.producer is not None:
                with contextlib.suppress(KafkaError):
                    slot.producer.close(timeout=self._close_timeout_s)
                slot.producer = None

    def _take_slot(self) -> _Slot:
        with self._returned:
            # Every lent slot comes back (`borrowed` gives it back in `finally`), and each
            # transaction is bounded in time, so this wait ends.
            while not self._idle and self._slots >= self._max_producers:
                self._returned.wait()
            if self._idle:
                return self._idle.pop()
            self._slots += 1
            return _Slot(transactional_id(self._id_prefix, self._slots - 1))

    def _give_back(self, slot: _Slot) -> None:
        with self._returned:
            if not self._closed:
                self._idle.append(slot)
                self._returned.notify()
                return
            # Closed: the slot is discarded below, but a waiting batch may still take it.
            self._idle.append(_Slot(slot.transactional_id))
            self._returned.notify()
        self._discard(slot)

    def _started(self, transactional_id: str) -> KafkaProducer:
        producer = self._make(transactional_id)
        try:
            producer.init_transactions()
        except KafkaError:
            _close_in_background(producer, self._close_timeout_s)
            raise
        return producer

    def _discard(self, slot: _Slot) -> None:
        if slot.producer is not None:
            _close_in_background(slot.producer, self._close_timeout_s)
            slot.producer = None


def _ready(producer: KafkaProducer) -> bool:
    # Reusable only with no transaction open and no error recorded (an abortable error
    # not yet aborted, or a fatal one): kafka-python's state READY.
    state = producer._transaction_manager._current_state
    return bool(state == TransactionState.READY)


def _close_in_background(producer: KafkaProducer, timeout_s: float) -> None:
    """Close a producer without holding the caller: kafka-python's `close` first flushes,
    and a flush waits for batches the broker may never answer."""

    def close() -> None:
        try:
            producer.close(timeout=timeout_s)
        except KafkaError as error:
            logger.warning("closing a discarded transactional producer failed: %s", error)

    threading.Thread(target=close, name="kafka-producer-close", daemon=True).start()
