"""The province's connector actors: an inspection subject with a flat schema (so CSV columns
map to it directly), departments with key files under the connector root, and grants."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from tests.support.signed_client import SignedClient, onboard_department

INSPECTION_SUBJECT = "market-regulation.inspection"
DEADLINE_S = 60.0

INSPECTION_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Inspection",
    "type": "object",
    "properties": {
        "inspection_id": {"type": "string", "minLength": 1, "maxLength": 40},
        "enterprise": {"type": "string", "minLength": 1, "maxLength": 200},
        "score": {"type": "integer", "minimum": 0, "maximum": 100},
        "passed": {"type": "boolean"},
        "fine": {"type": "number", "minimum": 0},
    },
    "required": ["inspection_id", "enterprise", "score", "passed"],
    "additionalProperties": False,
}


def register_inspections(admin: SignedClient, subject: str = INSPECTION_SUBJECT) -> SignedClient:
    """Onboard market regulation and register its inspection subject; return its client."""
    market = onboard_department(admin, "market-regulation")
    response = admin.post(
        "/v1/subjects",
        json={
            "subject": subject,
            "owner": "market-regulation",
            "title": "Inspections",
            "description": "Inspections of enterprises (fictional test data)",
            "sensitivity": "internal",
            "key_field": "inspection_id",
            "compatibility": "BACKWARD",
            "retention_days": 365,
            "schema": INSPECTION_SCHEMA,
        },
    )
    assert response.status_code == 201, response.get_json()
    return market


def grant(consumer: SignedClient, owner: SignedClient, subject: str) -> str:
    """A grant on `subject` requested by `consumer` and approved by `owner`."""
    response = consumer.post(
        "/v1/grants", json={"subject": subject, "purpose": "tax registration checks"}
    )
    assert response.status_code == 201, response.get_json()
    grant_id: str = response.get_json()["id"]
    response = owner.post(f"/v1/grants/{grant_id}/approve", json={})
    assert response.status_code == 200, response.get_json()
    return grant_id


def write_key_file(actor: SignedClient, root: Path) -> str:
    """Write `actor`'s private key under the connector root; its path relative to the root."""
    keys = root / "keys"
    keys.mkdir(parents=True, exist_ok=True)
    path = keys / f"{actor.name}.pem"
    path.write_bytes(
        actor.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return f"keys/{actor.name}.pem"


def drop_file(directory: Path, name: str, content: str) -> Path:
    """Hand a file over the documented way: write `<name>.part`, then rename into place."""
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f"{name}.part"
    partial.write_text(content, encoding="utf-8")
    final = directory / name
    partial.rename(final)
    return final


def wait_for(condition: Callable[[], Any], what: str, deadline_s: float = DEADLINE_S) -> Any:
    """Poll `condition` until it returns something truthy; fail after the deadline."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out after {deadline_s} s waiting for {what}")
