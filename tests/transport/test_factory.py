"""Choosing the transport from configuration values."""

from __future__ import annotations

import pytest

from exchange.errors import ConfigurationError
from exchange.transport import open_transport
from exchange.transport.embedded import EmbeddedTransport
from exchange.transport.kafka import KafkaTransport


def test_embedded_kind_opens_the_log_at_the_given_path(tmp_path):
    transport = open_transport("embedded", embedded_path=tmp_path / "log.db")

    assert isinstance(transport, EmbeddedTransport)
    assert (tmp_path / "log.db").exists()
    transport.close()


def test_kafka_kind_connects_lazily_to_the_given_servers():
    transport = open_transport("kafka", kafka_bootstrap_servers="127.0.0.1:1")

    assert isinstance(transport, KafkaTransport)
    transport.close()


@pytest.mark.parametrize(
    ("kind", "settings"),
    [("embedded", {}), ("kafka", {}), ("rabbitmq", {"kafka_bootstrap_servers": "h:1"})],
)
def test_unknown_kind_or_missing_setting_is_a_configuration_error(kind, settings):
    with pytest.raises(ConfigurationError):
        open_transport(kind, **settings)
