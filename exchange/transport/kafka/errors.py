"""One place where kafka-python's exceptions become the transport's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from kafka.errors import KafkaError

from exchange.transport.base import TransportError


@contextmanager
def kafka_errors_as_transport_errors(doing: str) -> Iterator[None]:
    """Re-raise kafka-python errors (unreachable, timeout, refusal) as `TransportError`."""
    try:
        yield
    except KafkaError as error:
        raise TransportError(f"Kafka: {doing} failed: {error}") from error
