"""What a running connector is given: its name, subject, the connector root, its offsets
and the subject's schema (`connectors.base.SourceContext` and `SinkContext`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from connectors.base import ConnectorEnvironment
from exchange.client import ExchangeClient
from exchange.errors import ConfigurationError
from exchange.identity.signatures import sign_request


@dataclass(frozen=True)
class RequestKey:
    """A private key and its key id, to sign requests with."""

    private_key: Ed25519PrivateKey
    key_id: str


class RuntimeContext:
    """A connector's context, over its department's client and the offsets loaded when it
    started (kept current as the runtime stores new ones)."""

    def __init__(
        self,
        name: str,
        subject: str,
        environment: ConnectorEnvironment,
        client: ExchangeClient,
        offsets: Mapping[str, Any],
        *,
        hub_key: RequestKey | None = None,
    ) -> None:
        self._name = name
        self._subject = subject
        self._environment = environment
        self._client = client
        self.offsets: dict[str, Any] = dict(offsets)
        self._schema: Mapping[str, Any] | None = None
        self._hub_key = hub_key

    @property
    def name(self) -> str:
        """The connector's name."""
        return self._name

    @property
    def subject(self) -> str:
        """The connector's subject."""
        return self._subject

    @property
    def environment(self) -> ConnectorEnvironment:
        """Where file paths must lie."""
        return self._environment

    def offset(self, partition: str) -> Any:
        """The stored offset of `partition`, or None."""
        return self.offsets.get(partition)

    def schema(self) -> Mapping[str, Any]:
        """The subject's latest schema, fetched once per run (as the department)."""
        if self._schema is None:
            version = self._client.get(
                f"/v1/subjects/{quote(self._subject, safe='')}/versions/latest"
            )
            self._schema = dict(version["schema"])
        return self._schema

    def sign_request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> dict[str, str]:
        """RFC 9421 headers signing the request with the hub's key."""
        if self._hub_key is None:
            raise ConfigurationError("this worker was given no hub key to sign requests with")
        return sign_request(
            method, url, headers, body, self._hub_key.private_key, self._hub_key.key_id
        )
