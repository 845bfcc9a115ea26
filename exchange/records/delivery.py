"""A delivery: one record as the hub hands it to one consumer under one grant.

`{delivery_id, record_id, subject, schema_version, producer, key, payload, produced_at,
consumer, grant_id, purpose, hub: {delivered_at, key_id, signature}}`, where `payload` is
the envelope's payload projected to the grant's fields, and the hub's signature (as for
an envelope: Ed25519 over the JCS form without `hub.signature`) binds the projected
record to the consumer, the grant and the purpose.

When the grant covers the whole payload, the delivery also carries the envelope's
`payload_digest` and `envelope_signature` (the envelope's own `hub` member: `accepted_at`,
`key_id`, `signature`), so a consumer can rebuild the envelope exactly as the hub accepted
it (`envelope_of`) and check end-to-end provenance. A projected payload cannot be checked
against the producer's digest, so neither is included then.

`delivery_id` is a UUIDv5 of the channel (a subscription id, or the grant id for a
lookup) and the record id: a redelivery of the same record on the same channel has the
same id, so consumers can dedupe.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from exchange.policy.projection import project
from exchange.records.envelope import timestamp
from exchange.signing.hub_signer import HubSigner

# A fixed namespace, so delivery ids are the same on every hub instance and restart.
DELIVERY_NAMESPACE = uuid.UUID("6f1d2c1e-5b7a-4c1e-9a53-3c0f4d1e8b20")
ENVELOPE_MEMBERS = ("record_id", "subject", "schema_version", "producer", "key", "produced_at")


def delivery_id_for(channel_id: str, record_id: str) -> str:
    """The stable id of `record_id` delivered on `channel_id` (subscription or lookup grant)."""
    return str(uuid.uuid5(DELIVERY_NAMESPACE, f"{channel_id}/{record_id}"))


def build_delivery(
    signer: HubSigner,
    envelope: Mapping[str, Any],
    *,
    channel_id: str,
    consumer: str,
    grant_id: str,
    purpose: str,
    fields: Sequence[str] | None,
    delivered_at: datetime,
) -> dict[str, Any]:
    """Project `envelope` to `fields` (None: the whole payload) and sign it for `consumer`."""
    delivery: dict[str, Any] = {
        "delivery_id": delivery_id_for(channel_id, str(envelope["record_id"])),
        **{member: envelope[member] for member in ENVELOPE_MEMBERS},
        "payload": envelope["payload"] if fields is None else project(envelope["payload"], fields),
        "consumer": consumer,
        "grant_id": grant_id,
        "purpose": purpose,
    }
    if fields is None:
        delivery["payload_digest"] = envelope["payload_digest"]
        delivery["envelope_signature"] = dict(envelope["hub"])
    delivery["hub"] = {"delivered_at": timestamp(delivered_at)}
    return signer.sign_document(delivery)


def envelope_of(delivery: Mapping[str, Any]) -> dict[str, Any] | None:
    """The envelope a whole-payload delivery came from, exactly as the hub signed it, or
    None for a projected delivery (which carries no `envelope_signature`)."""
    envelope_hub = delivery.get("envelope_signature")
    if not isinstance(envelope_hub, Mapping):
        return None
    return {
        **{member: delivery.get(member) for member in ENVELOPE_MEMBERS},
        "payload": delivery.get("payload"),
        "payload_digest": delivery.get("payload_digest"),
        "hub": dict(envelope_hub),
    }
