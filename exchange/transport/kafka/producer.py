"""The Kafka producer adapter: idempotent, `acks=all`, blocking until acknowledged."""

from __future__ import annotations

import selectors
import time
from collections.abc import Callable, Sequence
from typing import Any

from kafka import KafkaProducer

from exchange.transport.base import Acknowledged, OutgoingMessage, Producer, UnknownTopicError
from exchange.transport.kafka.errors import kafka_errors_as_transport_errors


class KafkaLogProducer(Producer):
    """Produces through one kafka-python `KafkaProducer`; may be shared by threads.

    kafka-python's default partitioner is Kafka's murmur2, so a key keeps its partition;
    idempotence with acks=all keeps each partition's order across retries.
    """

    def __init__(
        self,
        producer: KafkaProducer,
        topic_exists: Callable[[str], bool],
        close_timeout_s: float,
    ) -> None:
        self._producer = producer
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
            futures = [
                self._producer.send(
                    topic, value=message.value, key=message.key, headers=list(message.headers)
                )
                for message in messages
            ]
            acknowledged = []
            for future in futures:
                metadata = future.get(timeout=max(0.0, deadline - time.monotonic()))
                acknowledged.append(
                    Acknowledged(metadata.topic, metadata.partition, metadata.offset)
                )
        return acknowledged

    def close(self) -> None:
        """See `Producer.close`."""
        with kafka_errors_as_transport_errors("closing the producer"):
            self._producer.close(timeout=self._close_timeout_s)

    def _require_topic(self, topic: str) -> None:
        # Without this, sending to a missing topic blocks for max_block_ms and then
        # reports a bare timeout; asking once per topic gives a fast, named error.
        if topic in self._known_topics:
            return
        if not self._topic_exists(topic):
            raise UnknownTopicError(f"topic {topic!r} does not exist", topic=topic)
        self._known_topics.add(topic)


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
