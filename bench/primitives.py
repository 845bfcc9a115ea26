"""The bare primitives a published record costs, measured on the run's own record: the
reference for the per-record breakdown of the hub's publish path."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jsonschema import Draft202012Validator, FormatChecker

from bench.province import RECORD_SCHEMA, record_payload
from bench.stats import per_call_seconds
from exchange.identity.keys import key_id_of
from exchange.records.envelope import sign_envelope, timestamp
from exchange.registry.validation import RecordValidator
from exchange.signing import HubSigner

MICROSECONDS = 1_000_000


def measure_primitives(repeat: int) -> dict[str, float]:
    """Microseconds per call of each bare primitive on one ~1 KiB record and its envelope."""
    payload = record_payload(42)
    private_key = Ed25519PrivateKey.generate()
    signer = HubSigner(private_key, key_id_of(private_key.public_key()))
    envelope = _envelope(signer, payload)
    envelope_bytes = rfc8785.dumps(envelope)
    payload_bytes = json.dumps(payload).encode()
    signature = private_key.sign(envelope_bytes)
    public_key = private_key.public_key()
    raw_validator = Draft202012Validator(RECORD_SCHEMA, format_checker=FormatChecker())
    return {
        name: per_call_seconds(action, repeat) * MICROSECONDS
        for name, action in {
            "ed25519_sign_us": lambda: private_key.sign(envelope_bytes),
            "ed25519_verify_us": lambda: public_key.verify(signature, envelope_bytes),
            "sha256_1kib_us": lambda: hashlib.sha256(payload_bytes).digest(),
            "jcs_envelope_us": lambda: rfc8785.dumps(envelope),
            "json_parse_1kib_us": lambda: json.loads(payload_bytes),
            "jsonschema_validate_us": lambda: list(raw_validator.iter_errors(payload)),
        }.items()
    }


def measure_hub_steps(repeat: int) -> dict[str, float]:
    """Microseconds per call of the hub's own per-record steps outside any server: the
    validator it compiles and the envelope it builds and signs."""
    payload = record_payload(42)
    private_key = Ed25519PrivateKey.generate()
    signer = HubSigner(private_key, key_id_of(private_key.public_key()))
    validator = RecordValidator(RECORD_SCHEMA)
    return {
        "hub_validate_us": per_call_seconds(lambda: validator.errors_for(payload), repeat)
        * MICROSECONDS,
        "hub_build_and_sign_envelope_us": per_call_seconds(
            lambda: _envelope(signer, payload), repeat
        )
        * MICROSECONDS,
    }


def _envelope(signer: HubSigner, payload: dict[str, Any]) -> dict[str, Any]:
    """The envelope the hub builds and signs for `payload` (with its message value, which
    the hub makes in the same step)."""
    now = timestamp(datetime.now(UTC))
    return sign_envelope(
        signer,
        subject="bench-producer.load",
        schema_version=1,
        producer="bench-producer",
        key=str(payload["record_number"]),
        payload=payload,
        produced_at=now,
        accepted_at=now,
    ).envelope
