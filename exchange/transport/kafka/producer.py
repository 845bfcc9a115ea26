"""The Kafka producer adapter: `acks=all`, blocking until acknowledged, a batch of several
messages in one Kafka transaction."""

from __future__ import annotations

import contextlib
import selectors
import time
from collections.abc import Callable, Sequence
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError
from kafka.producer.future import FutureRecordMetadata

from exchange.transport.base import Acknowledged, OutgoingMessage, Producer, UnknownTopicError
from exchange.transport.kafka.errors import kafka_errors_as_transport_errors
from exchange.transport.kafka.transactions import TransactionalProducers, end_transaction

# Ending a transaction gets at least this long, even when acknowledging its messages used
# up the caller's timeout: giving up on a batch the broker has just stored would be a
# needless failure.
END_TRANSACTION_MIN_S = 1.0
# A failed batch's transaction is aborted within this long, or its producer is discarded
# (the slot's next producer fences it, which aborts the transaction all the same).
ABORT_TIMEOUT_S = 2.0


class KafkaLogProducer(Producer):
    """Produces through kafka-python; may be shared by threads.

    A call with one message goes through one idempotent producer: one message is stored
    whole or not at all, so a transaction would add two round trips and nothing else. A
    call with several goes through a transaction on a producer borrowed from a pool
    (`TransactionalProducers`): begin, send all, wait for every acknowledgement, commit; on
    any failure, abort. Readers read committed records only, so they see the whole batch
    or none of it, and an aborted batch's records that reached the log are skipped.

    kafka-python's default partitioner is Kafka's murmur2, so a key keeps its partition;
    idempotence with acks=all keeps each partition's order across retries.
    """

    def __init__(
        self,
        producer: KafkaProducer,
        transactional: TransactionalProducers,
        topic_exists: Callable[[str], bool],
        close_timeout_s: float,
    ) -> None:
        self._producer = producer
        self._transactional = transactional
        self._topic_exists = topic_exists
        self._close_timeout_s = close_timeout_s
        self._known_topics: set[str] = set()

    def produce(
        self, topic: str, messages: Sequence[OutgoingMessage], timeout_s: float = 10.0
    ) -> list[Acknowledged]:
        """See `Producer.produce`."""
        self._require_topic(topic)
        deadline = time.monotonic() + timeout_s
        with kafka_errors_as_transport_errors(f"producing to {topic!r}"):
            if len(messages) == 1:
                return _acknowledged(_send_all(self._producer, topic, messages), deadline)
            return self._produce_in_transaction(topic, messages, deadline)

    def close(self) -> None:
        """See `Producer.close`."""
        with kafka_errors_as_transport_errors("closing the producer"):
            self._transactional.close()
            self._producer.close(timeout=self._close_timeout_s)

    def _produce_in_transaction(
        self, topic: str, messages: Sequence[OutgoingMessage], deadline: float
    ) -> list[Acknowledged]:
        with self._transactional.borrowed() as producer:
            producer.begin_transaction()
            try:
                acknowledged = _acknowledged(_send_all(producer, topic, messages), deadline)
                end_transaction(producer, commit=True, timeout_s=_remaining(deadline))
            except Exception:
                _abort_quietly(producer)
                raise
            return acknowledged

    def _require_topic(self, topic: str) -> None:
        # Without this, sending to a missing topic blocks for max_block_ms and then
        # reports a bare timeout; asking once per topic gives a fast, named error.
        if topic in self._known_topics:
            return
        if not self._topic_exists(topic):
            raise UnknownTopicError(f"topic {topic!r} does not exist", topic=topic)
        self._known_topics.add(topic)


def _send_all(
    producer: KafkaProducer, topic: str, messages: Sequence[OutgoingMessage]
) -> list[FutureRecordMetadata]:
    return [
        producer.send(topic, value=message.value, key=message.key, headers=list(message.headers))
        for message in messages
    ]


def _acknowledged(futures: list[FutureRecordMetadata], deadline: float) -> list[Acknowledged]:
    acknowledged = []
    for future in futures:
        metadata = future.get(timeout=max(0.0, deadline - time.monotonic()))
        acknowledged.append(Acknowledged(metadata.topic, metadata.partition, metadata.offset))
    return acknowledged


def _remaining(deadline: float) -> float:
    return max(END_TRANSACTION_MIN_S, deadline - time.monotonic())


def _abort_quietly(producer: KafkaProducer) -> None:
    # Best effort: the error that failed the batch is the one to report. A producer whose
    # abort failed is left with its transaction open, and the pool replaces it.
    with contextlib.suppress(KafkaError):
        end_transaction(producer, commit=False, timeout_s=ABORT_TIMEOUT_S)


class QuietSelector(selectors.DefaultSelector):
    """The default selector, minus a cost kafka-python pays on every request it sends.

    kafka-python asks `get_key` whether a socket is registered and takes a `KeyError` for
    no. The standard selector builds that error's message from `repr(socket)` (two system
    calls and enum lookups), a fifth of a producer's network thread; this one raises the
    same error without the message. Give it to a client as its `selector`.
    """

    def get_key(self, fileobj: Any) -> selectors.SelectorKey:
        """See `selectors.BaseSelector.get_key`."""
        if self.get_map() is None:
            raise RuntimeError("Selector is closed")
        try:
            return self._key_by_fd[self._fileobj_lookup(fileobj)]  # type: ignore[attr-defined]
        except KeyError:
            raise KeyError(fileobj) from None

    @property
    def _key_by_fd(self) -> dict[int, selectors.SelectorKey]:
        # The standard selectors' own index (CPython's `_BaseSelectorImpl._fd_to_key`).
        index: dict[int, selectors.SelectorKey] = self._fd_to_key  # type: ignore[attr-defined]
        return index
