"""Disk full under the embedded store (a small tmpfs): publishes are refused with clear 503s,
nothing is corrupted, and the hub recovers by itself once space returns."""

from __future__ import annotations

import errno
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from exchange.api import create_app
from exchange.config import load_settings
from exchange.deployment import initialise
from exchange.hub import Hub, open_hub
from exchange.identity.keys import load_private_key
from tests.faults.publishing import assert_audit_log_verifies_and_holds, records_on_topic
from tests.support.province import LICENCE_SUBJECT, licence, register_licence_subject
from tests.support.signed_client import SignedClient

pytestmark = [pytest.mark.faults, pytest.mark.slow]

DISK_SIZE = "48m"
ATTEMPTS_WHILE_FULL = 20
BATCH_SIZE = 20


@pytest.fixture
def small_disk() -> Iterator[Path]:
    mount_point = Path(tempfile.mkdtemp(prefix="exchange-disk-full-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_SIZE}", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        mount_point.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)
    shutil.rmtree(mount_point, ignore_errors=True)


@pytest.fixture
def hub(small_disk: Path) -> Iterator[Hub]:
    settings = load_settings(
        environ={},
        overrides={"data_dir": str(small_disk / "var"), "rate_limit_per_principal": ""},
    )
    initialise(settings)
    opened = open_hub(settings)
    yield opened
    opened.close()


def _fill(disk: Path) -> Path:
    """Write zeros until the disk is full; the file to delete to give the space back."""
    filler = disk / "filler"
    chunk = b"\0" * (256 * 1024)
    with filler.open("wb", buffering=0) as out:
        while True:
            try:
                out.write(chunk)
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
                return filler


class Publisher:
    def __init__(self, market: SignedClient) -> None:
        self.market = market
        self.acknowledged: list[str] = []
        self.statuses: Counter[int] = Counter()
        self.next_number = 0

    def batch(self) -> tuple[dict, str]:
        body = {"records": [{"payload": licence(self.next_number + i)} for i in range(BATCH_SIZE)]}
        self.next_number += BATCH_SIZE
        return body, str(uuid.uuid4())

    def send(self, body: dict, key: str) -> int:
        response = self.market.post(
            f"/v1/subjects/{LICENCE_SUBJECT}/records", json=body, headers={"Idempotency-Key": key}
        )
        self.statuses[response.status_code] += 1
        if response.status_code == 201:
            self.acknowledged += [r["record_id"] for r in response.get_json()["records"]]
        else:
            assert response.status_code == 503, response.get_json()
            assert response.mimetype == "application/problem+json"
        return response.status_code


def test_a_full_disk_gives_clear_503s_no_corruption_and_recovery(hub, small_disk):
    client = create_app(hub).test_client()
    admin = SignedClient(client, load_private_key(hub.settings.keys_dir / "admin.pem"), "admin")
    publisher = Publisher(register_licence_subject(admin))
    for _ in range(3):
        assert publisher.send(*publisher.batch()) == 201

    filler = _fill(small_disk)
    refused: list[tuple[dict, str]] = []
    for _ in range(ATTEMPTS_WHILE_FULL):
        body, key = publisher.batch()
        if publisher.send(body, key) == 503:
            refused.append((body, key))
    assert refused, f"the full disk refused nothing: {publisher.statuses}"

    filler.unlink()
    for body, key in refused:  # the same requests, retried once space is back
        assert publisher.send(body, key) == 201
    assert publisher.send(*publisher.batch()) == 201
    hub.close()

    for database in ("exchange.db", "transport.db"):
        with sqlite3.connect(small_disk / "var" / database) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    envelopes = records_on_topic(hub.settings)
    assert set(publisher.acknowledged) <= {e["record_id"] for e in envelopes}
    doubled = [key for key, n in Counter(e["key"] for e in envelopes).items() if n > 1]
    assert not doubled, f"{len(doubled)} records are on the topic twice"
    assert_audit_log_verifies_and_holds(hub.settings, set(publisher.acknowledged))
