"""What the connector fault tests share: departments' key files under the connector root,
`file` sources and sinks created through the API, and what a file sink wrote.

A file sink's output is read the way its consumer would: every segment (`*.jsonl`, and the
open `*.jsonl.part`) in the order they were written, one delivery per line.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import requests

from exchange.identity.keys import write_private_key
from tests.contract.signing_auth import SigningAuth
from tests.support.province import licence

SEGMENT = re.compile(r"^(?P<prefix>.+)-(?P<stamp>\d{8}T\d{6})-(?P<number>\d+)\.jsonl(\.part)?$")


def approved_grant(
    consumer: requests.Session, owner: requests.Session, url: str, subject: str
) -> str:
    """A grant on `subject` (whole payload) requested by `consumer`, approved by `owner`."""
    response = consumer.post(
        f"{url}/v1/grants", json={"subject": subject, "purpose": "fault test deliveries"}
    )
    assert response.status_code == 201, response.text
    grant_id = str(response.json()["id"])
    response = owner.post(f"{url}/v1/grants/{grant_id}/approve", json={})
    assert response.status_code == 200, response.text
    return grant_id


def write_key_file(session: requests.Session, root: Path, code: str) -> str:
    """Write the session's private key under the connector root; its path relative to it."""
    assert isinstance(session.auth, SigningAuth)
    relative = f"keys/{code}.pem"
    write_private_key(root / relative, session.auth.private_key)
    return relative


def create_connector(session: requests.Session, url: str, definition: dict[str, Any]) -> str:
    """POST a connector definition; its name."""
    response = session.post(f"{url}/v1/connectors", json=definition)
    assert response.status_code == 201, response.text
    return str(definition["name"])


def file_sink(
    name: str, subject: str, grant_id: str, directory: str, key_file: str
) -> dict[str, Any]:
    """A `file` sink definition writing the grant's deliveries under `directory`."""
    return {
        "name": name,
        "kind": "sink",
        "class": "file",
        "subject": subject,
        "grant_id": grant_id,
        "config": {"directory": directory, "key_file": key_file, "batch_size": 50},
    }


def file_source(name: str, subject: str, directory: str, key_file: str) -> dict[str, Any]:
    """A `file` source definition reading JSON Lines files from `directory`, 5 rows a batch
    (small batches: a worker killed mid-file has stored some offsets and not others)."""
    return {
        "name": name,
        "kind": "source",
        "class": "file",
        "subject": subject,
        "config": {"directory": directory, "key_file": key_file, "batch_size": 5},
    }


def connector_status(session: requests.Session, url: str, name: str) -> dict[str, Any]:
    """`GET /v1/connectors/{name}/status`."""
    response = session.get(f"{url}/v1/connectors/{name}/status", timeout=30)
    assert response.status_code == 200, response.text
    status: dict[str, Any] = response.json()
    return status


def drop_licences(directory: Path, name: str, numbers: range) -> None:
    """Hand a JSON Lines file of licences over the documented way: write it under a
    temporary name, then rename it into place (the source reads only final names)."""
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f"{name}.part"
    partial.write_text("".join(json.dumps(licence(n)) + "\n" for n in numbers), encoding="utf-8")
    partial.rename(directory / name)


def sink_deliveries(directory: Path) -> list[dict[str, Any]]:
    """Every delivery a file sink wrote, in writing order (a line cut short by a crash is
    left out: the sink drops it on restart and its record comes again)."""
    deliveries: list[dict[str, Any]] = []
    for segment in sorted(_segments(directory), key=_writing_order):
        for line in segment.read_text(encoding="utf-8").splitlines():
            try:
                deliveries.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return deliveries


def delivered_record_ids(directory: Path) -> set[str]:
    """The record ids a file sink wrote."""
    return {str(delivery["record_id"]) for delivery in sink_deliveries(directory)}


def written_twice(deliveries: list[dict[str, Any]]) -> list[str]:
    """Delivery ids that appear on more than one line."""
    return [
        delivery_id
        for delivery_id, n in Counter(d["delivery_id"] for d in deliveries).items()
        if n > 1
    ]


def deduplicated(deliveries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first delivery of each `delivery_id`, in writing order: what a consumer keeps."""
    seen: set[str] = set()
    kept = []
    for delivery in deliveries:
        if delivery["delivery_id"] not in seen:
            seen.add(delivery["delivery_id"])
            kept.append(delivery)
    return kept


def _segments(directory: Path) -> list[Path]:
    return [path for path in directory.glob("*.jsonl*") if SEGMENT.match(path.name)]


def _writing_order(segment: Path) -> tuple[str, int]:
    found = SEGMENT.match(segment.name)
    assert found is not None
    return found["stamp"], int(found["number"])
