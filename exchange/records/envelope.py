"""The record envelope (DESIGN section 3): what the hub puts on a subject's topic.

`{record_id, subject, schema_version, producer, key, payload, produced_at, payload_digest,
hub: {accepted_at, key_id, signature}}`; the hub's signature covers the JCS form of the
envelope without `hub.signature`. Kafka headers repeat `record_id`, `subject` and
`schema_version` so routers need not parse the value.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from exchange.signing.canonical import DIGEST_PREFIX, canonical_json, sha256_hex
from exchange.signing.hub_signer import HubSigner
from exchange.transport import OutgoingMessage

TOPIC_PREFIX = "exchange.records."


def topic_for(subject: str) -> str:
    """The topic that carries a subject's records."""
    return TOPIC_PREFIX + subject


def uuid7() -> str:
    """A time-ordered UUID (RFC 9562 version 7): 48-bit Unix milliseconds, then randomness."""
    millis = time.time_ns() // 1_000_000
    value = (millis & ((1 << 48) - 1)) << 80
    value |= int.from_bytes(os.urandom(10), "big") & ((1 << 80) - 1)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 9562 variant
    return str(uuid.UUID(int=value))


def timestamp(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds, as every time in an envelope or delivery is written."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class SignedEnvelope:
    """An envelope and the transport message that carries it."""

    envelope: dict[str, Any]
    message: OutgoingMessage


def build_envelope(
    signer: HubSigner,
    *,
    subject: str,
    schema_version: int,
    producer: str,
    key: str,
    payload: Any,
    produced_at: datetime,
    accepted_at: datetime,
) -> dict[str, Any]:
    """Wrap one validated payload and sign it as the hub."""
    return sign_envelope(
        signer,
        subject=subject,
        schema_version=schema_version,
        producer=producer,
        key=key,
        payload=payload,
        produced_at=timestamp(produced_at),
        accepted_at=timestamp(accepted_at),
    ).envelope


def sign_envelope(
    signer: HubSigner,
    *,
    subject: str,
    schema_version: int,
    producer: str,
    key: str,
    payload: Any,
    produced_at: str,
    accepted_at: str,
) -> SignedEnvelope:
    """`build_envelope` for the publish path: the times come formatted (`timestamp`, once
    per batch), and the message is made too. The payload is serialised once (RFC 8785):
    those bytes give its digest, the signed form and the message value."""
    payload_bytes = canonical_json(payload)
    envelope = {
        "record_id": uuid7(),
        "subject": subject,
        "schema_version": schema_version,
        "producer": producer,
        "key": key,
        "payload": payload,
        "produced_at": produced_at,
        "payload_digest": DIGEST_PREFIX + sha256_hex(payload_bytes),
        "hub": {"accepted_at": accepted_at},
    }
    signed = signer.sign_document_canonical(envelope, {"payload": payload_bytes})
    return SignedEnvelope(signed.document, _message(signed.document, signed.canonical))


def to_message(envelope: Mapping[str, Any]) -> OutgoingMessage:
    """The transport message of an envelope: keyed by the record key, so one entity's records
    stay in one partition and in order."""
    return _message(envelope, canonical_json(envelope))


def _message(envelope: Mapping[str, Any], value: bytes) -> OutgoingMessage:
    return OutgoingMessage(
        value=value,
        key=str(envelope["key"]).encode("utf-8"),
        headers=(
            ("record_id", str(envelope["record_id"]).encode()),
            ("subject", str(envelope["subject"]).encode()),
            ("schema_version", str(envelope["schema_version"]).encode()),
        ),
    )


def decode_envelope(value: bytes) -> dict[str, Any]:
    """Read an envelope back from a message value."""
    decoded = json.loads(value)
    if not isinstance(decoded, dict):
        raise ValueError("an envelope is a JSON object")
    return decoded
