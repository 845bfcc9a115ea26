"""Receiving through the Python client: subscribe, pull, acknowledge and look up, with every
delivery's hub signature verified before it is handed over.

The hub's public keys come from `GET /v1/hub/keys`, fetched once and cached; a delivery
signed with a key id the cache does not know triggers one refetch (the hub rotated its
key). A whole-payload delivery is also checked end to end: its payload against the
producer's `payload_digest`, and the envelope it came from against the hub's signature
at acceptance. A delivery that fails any check raises `SignatureMismatch`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exchange.identity.keys import public_key_from_raw_b64
from exchange.records.delivery import envelope_of
from exchange.signing.canonical import digest_of_json
from exchange.signing.hub_signer import SignatureMismatch, verify_document

HUB_KEYS_PATH = "/v1/hub/keys"


class ProvenanceMismatch(SignatureMismatch):
    """A whole-payload delivery does not match the envelope the producer's record became."""

    type_slug = "provenance-mismatch"
    title = "Delivery does not match the accepted record"


@dataclass(frozen=True)
class PullResult:
    """Verified deliveries, the cursor that acknowledges them, and the lag: how many
    records of the subject lie beyond them, not delivered yet (approximate on Kafka; None
    from a hub that does not tell)."""

    records: list[dict[str, Any]]
    cursor: str
    lag: int | None = None


class HubKeyCache:
    """The hub's public keys by key id, fetched on first use and again for an unknown id."""

    def __init__(self, fetch_jwk_set: Callable[[], Any]) -> None:
        self._fetch = fetch_jwk_set
        self._keys: dict[str, Ed25519PublicKey] | None = None
        self._lock = threading.Lock()

    def keys_knowing(self, key_id: str) -> Mapping[str, Ed25519PublicKey]:
        """The cached keys, refreshed first when `key_id` is not among them."""
        with self._lock:
            if self._keys is None or key_id not in self._keys:
                self._keys = _keys_of(self._fetch())
            return dict(self._keys)


def verify_delivery(delivery: Mapping[str, Any], keys: HubKeyCache) -> None:
    """Check a delivery's hub signature and, for a whole payload, its provenance."""
    hub = delivery.get("hub")
    key_id = hub.get("key_id") if isinstance(hub, Mapping) else None
    verify_document(delivery, keys.keys_knowing(str(key_id)))
    envelope = envelope_of(delivery)
    if envelope is None:
        return
    if digest_of_json(delivery.get("payload")) != delivery.get("payload_digest"):
        raise ProvenanceMismatch("the payload does not match the producer's payload_digest")
    envelope_key_id = str(envelope["hub"].get("key_id"))
    try:
        verify_document(envelope, keys.keys_knowing(envelope_key_id))
    except SignatureMismatch as error:
        raise ProvenanceMismatch(
            f"the accepted envelope does not verify: {error.detail}"
        ) from error


class RecordsClient:
    """The receiving calls of one `ExchangeClient` (anything with its `get` and `post`)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.hub_keys = HubKeyCache(lambda: client.get(HUB_KEYS_PATH))

    def publish(
        self,
        subject: str,
        records: Sequence[Mapping[str, Any]],
        *,
        schema_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Publish a batch of `{"payload": ..., "key"?: ...}` records, all or none. Pass an
        `idempotency_key` to make retries safe after a broken connection or a 503."""
        body: dict[str, Any] = {"records": list(records)}
        if schema_version is not None:
            body["schema_version"] = schema_version
        headers = {} if idempotency_key is None else {"Idempotency-Key": idempotency_key}
        result: dict[str, Any] = self._client.post(
            f"/v1/subjects/{quote(subject, safe='')}/records", json=body, headers=headers
        )
        return result

    def subscribe(self, subject: str, grant_id: str, start: str = "latest") -> dict[str, Any]:
        """Subscribe to `subject` under `grant_id`, from "earliest" or "latest"."""
        body = {"subject": subject, "grant_id": grant_id, "from": start}
        subscription: dict[str, Any] = self._client.post("/v1/subscriptions", json=body)
        return subscription

    def pull(self, subscription_id: str, max_records: int = 100, wait_ms: int = 0) -> PullResult:
        """Pull deliveries, each verified (`SignatureMismatch` if any fails)."""
        answer = self._client.get(
            f"/v1/subscriptions/{subscription_id}/records",
            params={"max": max_records, "wait_ms": wait_ms},
        )
        for delivery in answer["records"]:
            verify_delivery(delivery, self.hub_keys)
        lag = answer.get("lag")
        return PullResult(
            list(answer["records"]), str(answer["cursor"]), lag if isinstance(lag, int) else None
        )

    def ack(self, subscription_id: str, cursor: str) -> None:
        """Acknowledge everything a pull's cursor covers."""
        self._client.post(f"/v1/subscriptions/{subscription_id}/ack", json={"cursor": cursor})

    def lookup(self, subject: str, key: str, grant_id: str | None = None) -> dict[str, Any]:
        """The latest record of `key`, verified; under `grant_id` or the caller's active grant."""
        params = {} if grant_id is None else {"grant_id": grant_id}
        delivery: dict[str, Any] = self._client.get(
            f"/v1/subjects/{quote(subject, safe='')}/records/{quote(key, safe='')}", params=params
        )
        verify_delivery(delivery, self.hub_keys)
        return delivery


def _keys_of(jwk_set: Any) -> dict[str, Ed25519PublicKey]:
    keys = jwk_set.get("keys", []) if isinstance(jwk_set, Mapping) else []
    return {
        str(jwk["kid"]): public_key_from_raw_b64(str(jwk["x"]))
        for jwk in keys
        if isinstance(jwk, Mapping) and jwk.get("crv") == "Ed25519" and "kid" in jwk
    }
