"""A hub process killed with SIGKILL in the middle of a batch: the client sees a broken
connection, retries with its Idempotency-Key, and in the end each record is on the topic
exactly once, and the audit log verifies."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from exchange.config import load_settings
from exchange.identity.keys import load_private_key
from tests.contract.signing_auth import SigningAuth
from tests.faults.hub_process import HubProcess
from tests.faults.publishing import (
    assert_audit_log_verifies_and_holds,
    doubled_after_deduplication,
    onboard_market,
    records_on_topic,
)
from tests.support.province import LICENCE_SUBJECT, licence

pytestmark = [pytest.mark.faults, pytest.mark.slow]

BATCHES = 6
BATCH_SIZE = 300
# A claim left by a killed process is taken over after the repository's STALE_CLAIM (60 s).
RETRY_DEADLINE_S = 180.0


@pytest.fixture
def hub_process(tmp_path: Path) -> Iterator[HubProcess]:
    process = HubProcess(tmp_path / "var")
    process.init()
    process.start()
    yield process
    process.stop()


def _market(hub: HubProcess, data_dir: Path) -> requests.Session:
    admin = requests.Session()
    admin.auth = SigningAuth(load_private_key(data_dir / "keys" / "admin.pem"))
    return onboard_market(admin, hub.url)


class RetryingPublisher:
    """Publishes batches one after another; each batch is retried with its key until 201."""

    def __init__(self, session: requests.Session, url: str) -> None:
        self.session = session
        self.url = url
        self.acknowledged: dict[int, list[str]] = {}
        self.broken_connections = 0
        self.failure: BaseException | None = None

    def publish_all(self) -> None:
        try:
            for batch in range(BATCHES):
                self._publish(batch)
        except BaseException as error:  # reported by the test thread
            self.failure = error

    def _publish(self, batch: int) -> None:
        body = {
            "records": [{"payload": licence(batch * BATCH_SIZE + i)} for i in range(BATCH_SIZE)]
        }
        headers = {"Idempotency-Key": f"batch-{batch}-{uuid.uuid4()}"}
        deadline = time.monotonic() + RETRY_DEADLINE_S
        while time.monotonic() < deadline:
            try:
                response = self.session.post(
                    f"{self.url}/v1/subjects/{LICENCE_SUBJECT}/records",
                    json=body,
                    headers=headers,
                    timeout=60,
                )
            except requests.ConnectionError:
                self.broken_connections += 1
                time.sleep(0.2)  # the hub is down: try again shortly
                continue
            if response.status_code == 201:
                self.acknowledged[batch] = [r["record_id"] for r in response.json()["records"]]
                return
            assert response.status_code in (409, 503), response.text
            time.sleep(0.5)  # the killed request's claim is still held: back off
        raise AssertionError(f"batch {batch} was never acknowledged")


def test_a_hub_killed_mid_batch_loses_and_doubles_nothing(hub_process, tmp_path):
    data_dir = tmp_path / "var"
    publisher = RetryingPublisher(_market(hub_process, data_dir), hub_process.url)
    thread = threading.Thread(target=publisher.publish_all)
    thread.start()
    # Kill while the second batch is on the wire or being produced.
    deadline = time.monotonic() + 60
    while len(publisher.acknowledged) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
    hub_process.kill()
    hub_process.start()
    thread.join(timeout=RETRY_DEADLINE_S * BATCHES)
    assert not thread.is_alive()
    assert publisher.failure is None, publisher.failure
    hub_process.stop()

    assert publisher.broken_connections >= 1
    settings = load_settings(environ={}, overrides={"data_dir": str(data_dir)})
    envelopes = records_on_topic(settings)
    acknowledged = {rid for ids in publisher.acknowledged.values() for rid in ids}
    assert acknowledged <= {e["record_id"] for e in envelopes}, "an acknowledged record is lost"
    keys = Counter(e["key"] for e in envelopes)
    assert len(keys) == BATCHES * BATCH_SIZE
    assert_audit_log_verifies_and_holds(settings, acknowledged)
    doubled = doubled_after_deduplication(envelopes)
    assert not doubled, f"{len(doubled)} records were produced twice across the crash"
