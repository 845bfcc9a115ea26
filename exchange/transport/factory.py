"""Choosing a transport from configuration values (the caller reads the configuration)."""

from __future__ import annotations

from pathlib import Path

from exchange.errors import ConfigurationError
from exchange.transport.base import Transport
from exchange.transport.embedded import EmbeddedTransport
from exchange.transport.kafka import KafkaTransport


def open_transport(
    kind: str,
    *,
    embedded_path: Path | None = None,
    kafka_bootstrap_servers: str | None = None,
    kafka_client_id: str = "exchange",
    kafka_request_timeout_s: float = 10.0,
) -> Transport:
    """The transport named by `kind`: "embedded" (needs `embedded_path`) or "kafka"
    (needs `kafka_bootstrap_servers`, comma-separated host:port). Raises
    `ConfigurationError` when the kind is unknown or its setting is missing.
    """
    if kind == "embedded":
        if embedded_path is None:
            raise ConfigurationError("the embedded transport needs a file path", key="path")
        return EmbeddedTransport(embedded_path)
    if kind == "kafka":
        if not kafka_bootstrap_servers:
            raise ConfigurationError(
                "the kafka transport needs bootstrap servers", key="bootstrap_servers"
            )
        return KafkaTransport(
            kafka_bootstrap_servers,
            client_id=kafka_client_id,
            request_timeout_s=kafka_request_timeout_s,
        )
    raise ConfigurationError(
        f"unknown transport {kind!r}: expected 'embedded' or 'kafka'", key="kind"
    )
