"""The Kafka adapter when no broker answers: fail fast with TransportError, never hang."""

from __future__ import annotations

import time

import pytest

from exchange.transport import TransportError
from exchange.transport.kafka import KafkaTransport

NOBODY_LISTENS = "127.0.0.1:1"


def test_check_raises_transport_error_within_the_request_timeout():
    transport = KafkaTransport(NOBODY_LISTENS, request_timeout_s=2)
    started = time.monotonic()

    with pytest.raises(TransportError) as raised:
        transport.check()

    assert time.monotonic() - started < 10
    assert raised.value.status == 503
    transport.close()


def test_creating_a_producer_without_a_broker_raises_transport_error():
    transport = KafkaTransport(NOBODY_LISTENS, request_timeout_s=1)

    with pytest.raises(TransportError):
        transport.producer()
