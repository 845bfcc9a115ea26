"""The actors and the subject of a run, set up through the API like any deployment's: a
producing department that owns a subject of ~1 KiB records, and a consuming department
holding an approved grant on it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exchange.client import ExchangeClient
from exchange.identity.keys import generate_private_key, public_key_to_jwk

PRODUCER = "bench-producer"
CONSUMER = "bench-consumer"
RECORD_BYTES = 1024
_FILLER = "Fictional benchmark record for load measurements only; no person is named. "

RECORD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Benchmark record",
    "type": "object",
    "properties": {
        "record_number": {"type": "string", "pattern": "^[0-9]{12}$"},
        "category": {"type": "string", "enum": ["alpha", "beta", "gamma"]},
        "amount": {"type": "integer", "minimum": 0},
        "issued_on": {"type": "string", "format": "date"},
        "notes": {"type": "string", "maxLength": 4096},
    },
    "required": ["record_number", "category", "amount", "issued_on", "notes"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Province:
    """Who publishes and who receives in a run, and on which subject."""

    url: str
    subject: str
    producer_key: Ed25519PrivateKey
    consumer_key: Ed25519PrivateKey
    grant_id: str

    def producer(self) -> ExchangeClient:
        """A new client signing as the producing department (one per thread)."""
        return ExchangeClient(self.url, private_key=self.producer_key)

    def consumer(self) -> ExchangeClient:
        """A new client signing as the consuming department."""
        return ExchangeClient(self.url, private_key=self.consumer_key)


def set_up_province(url: str, admin_key_file: Path) -> Province:
    """Onboard both departments, register a fresh subject, and grant it to the consumer."""
    admin = ExchangeClient(url, key_file=admin_key_file)
    try:
        producer_key = _onboard(admin, PRODUCER)
        consumer_key = _onboard(admin, CONSUMER)
        subject = f"{PRODUCER}.load-{uuid.uuid4().hex[:10]}"
        admin.post("/v1/subjects", json=_registration(subject))
    finally:
        admin.close()
    grant_id = _approved_grant(url, subject, producer_key, consumer_key)
    return Province(url, subject, producer_key, consumer_key, grant_id)


def record_payload(number: int) -> dict[str, Any]:
    """A valid record of about `RECORD_BYTES` bytes of JSON, distinct per `number`."""
    head = {
        "record_number": f"{number:012d}",
        "category": ("alpha", "beta", "gamma")[number % 3],
        "amount": number * 7 % 100_000,
        "issued_on": "2026-11-27",
    }
    room = RECORD_BYTES - len(str(head)) - 20
    return {**head, "notes": (_FILLER * (room // len(_FILLER) + 1))[:room]}


def _onboard(admin: ExchangeClient, code: str) -> Ed25519PrivateKey:
    admin.post(
        "/v1/departments",
        json={"code": code, "name": code.replace("-", " ").title(), "contact": "bench@example.gov"},
    )
    private_key = generate_private_key()
    admin.post(
        f"/v1/departments/{code}/keys",
        json={"public_key": public_key_to_jwk(private_key.public_key())},
    )
    return private_key


def _registration(subject: str) -> dict[str, Any]:
    return {
        "subject": subject,
        "owner": PRODUCER,
        "title": "Benchmark records",
        "description": "Synthetic ~1 KiB records for the benchmark harness",
        "sensitivity": "internal",
        "key_field": "record_number",
        "compatibility": "BACKWARD",
        "retention_days": 1,
        "schema": RECORD_SCHEMA,
    }


def _approved_grant(
    url: str, subject: str, producer_key: Ed25519PrivateKey, consumer_key: Ed25519PrivateKey
) -> str:
    consumer = ExchangeClient(url, private_key=consumer_key)
    producer = ExchangeClient(url, private_key=producer_key)
    try:
        requested = consumer.post(
            "/v1/grants", json={"subject": subject, "purpose": "benchmark latency"}
        )
        grant_id = str(requested["id"])
        producer.post(f"/v1/grants/{grant_id}/approve", json={})
    finally:
        consumer.close()
        producer.close()
    return grant_id
