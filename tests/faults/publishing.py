"""What fault tests share: a department publishing licences over real HTTP, and the checks
of the end state (what is on the topic, what the audit log holds and whether it verifies).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests

from exchange.audit.checkpoints import hub_public_keys
from exchange.audit.verify import verify_log
from exchange.config import Settings, load_settings
from exchange.records.envelope import decode_envelope, topic_for
from exchange.store.database import Database
from exchange.store.repositories import AuditRepository
from exchange.transport import open_transport
from tests.contract.signing_auth import SigningAuth
from tests.support.province import LICENCE_SUBJECT, example_schema, licence
from tests.support.signed_client import new_key_pair

BATCH_SIZE = 20
STATE_DEADLINE_S = 60.0


def onboard_department(admin: requests.Session, url: str, code: str) -> requests.Session:
    """Register a department with a fresh key; a session signing as it (its `auth` holds
    the private key)."""
    response = admin.post(
        f"{url}/v1/departments",
        json={"code": code, "name": code.replace("-", " ").title(), "contact": f"x@{code}.gov"},
    )
    assert response.status_code == 201, response.text
    private_key, jwk = new_key_pair()
    response = admin.post(f"{url}/v1/departments/{code}/keys", json={"public_key": jwk})
    assert response.status_code == 201, response.text
    session = requests.Session()
    session.auth = SigningAuth(private_key)
    return session


def onboard_market(
    admin: requests.Session, url: str, subject: str = LICENCE_SUBJECT
) -> requests.Session:
    """Register market regulation and its licence subject; a session signing as it."""
    market = onboard_department(admin, url, "market-regulation")
    response = admin.post(
        f"{url}/v1/subjects",
        json={
            "subject": subject,
            "owner": "market-regulation",
            "key_field": "unified_social_credit_code",
            "schema": example_schema(LICENCE_SUBJECT),
        },
    )
    assert response.status_code == 201, response.text
    return market


def deployment_settings(env: Mapping[str, str], data_dir: Path) -> Settings:
    """The settings the processes of a deployment run with (from its `EXCHANGE_*`)."""
    return load_settings(
        environ={k: v for k, v in env.items() if k.startswith("EXCHANGE_")},
        overrides={"data_dir": str(data_dir)},
    )


def records_on_topic(
    settings: Settings, subject: str = LICENCE_SUBJECT, at_least: int = 0
) -> list[dict[str, Any]]:
    """Every envelope on the subject's topic: read until an empty poll once `at_least`
    have come (a Kafka consumer may poll empty while it joins its group)."""
    transport = open_transport(
        settings.transport,
        embedded_path=settings.embedded_transport_path,
        kafka_bootstrap_servers=settings.kafka_bootstrap_servers,
    )
    consumer = transport.consumer(
        f"fault-check-{uuid.uuid4()}", [topic_for(subject)], start="earliest"
    )
    deadline = time.monotonic() + STATE_DEADLINE_S
    try:
        found: list[dict[str, Any]] = []
        while True:
            batch = consumer.poll(1000, 1.0)
            found += [decode_envelope(m.value) for m in batch]
            if not batch and (len(found) >= at_least or time.monotonic() > deadline):
                return found
    finally:
        consumer.close()
        transport.close()


def assert_audit_log_verifies_and_holds(settings: Settings, record_ids: set[str]) -> None:
    """The audit log verifies and names every one of `record_ids` in an allowed entry."""
    database = Database(settings.effective_database_url)
    report = verify_log(database, hub_public_keys(database))
    assert not report.findings, report.findings
    audited = {
        record_id
        for entry in AuditRepository(database).scan(limit=1_000_000)
        if entry.decision == "allow"
        for record_id in entry.record_ids
    }
    missing = record_ids - audited
    assert not missing, f"{len(missing)} acknowledged records are not in the audit log"


class SteadyPublisher:
    """Publishes small batches until stopped; a refused batch is retried with its key."""

    def __init__(self, session: requests.Session, url: str, subject: str) -> None:
        self.session, self.url, self.subject = session, url, subject
        self.acknowledged: list[str] = []
        self.statuses: Counter[int | str] = Counter()
        self.stopping = threading.Event()
        self.failure: BaseException | None = None
        self._next = 0

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                self._publish_one_batch()
        except BaseException as error:  # reported by the test thread
            self.failure = error

    def _publish_one_batch(self) -> None:
        body = {"records": [{"payload": licence(self._next + i)} for i in range(BATCH_SIZE)]}
        self._next += BATCH_SIZE
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                response = self.session.post(
                    f"{self.url}/v1/subjects/{self.subject}/records",
                    json=body,
                    headers=headers,
                    timeout=60,
                )
            except requests.ConnectionError:
                self.statuses["connection-error"] += 1
                time.sleep(0.2)
                continue
            self.statuses[response.status_code] += 1
            if response.status_code == 201:
                self.acknowledged += [r["record_id"] for r in response.json()["records"]]
                return
            assert response.status_code in (409, 503), response.text
            time.sleep(0.2)  # refused while the store is away: try again shortly
        raise AssertionError("a batch was never acknowledged")


def wait_for_readiness(url: str, expected: int) -> None:
    """Poll the readiness probe until it answers `expected`."""
    deadline = time.monotonic() + STATE_DEADLINE_S
    while time.monotonic() < deadline:
        if requests.get(f"{url}/v1/ready", timeout=30).status_code == expected:
            return
        time.sleep(0.1)
    raise AssertionError(f"/v1/ready did not answer {expected} within {STATE_DEADLINE_S} s")


def wait_until(condition, deadline_s: float = STATE_DEADLINE_S) -> None:
    """Poll `condition` until it holds."""
    deadline = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < deadline, "the publisher made no progress"
        time.sleep(0.05)


def wait_for_audit(settings: Settings, record_ids: set[str]) -> None:
    """Wait until the audit writer has stored an entry naming each of `record_ids`."""
    database = Database(settings.effective_database_url)

    def all_audited() -> bool:
        entries = AuditRepository(database).scan(limit=1_000_000)
        return record_ids <= {rid for entry in entries for rid in entry.record_ids}

    wait_until(all_audited, deadline_s=120.0)


def doubled_after_deduplication(envelopes: list[dict[str, Any]]) -> list[str]:
    """Keys that carry more than one distinct record id: copies of one record (a retried
    produce repeats the same envelope, same record id) are dropped by consumers, so only
    these are real duplicates."""
    ids: dict[str, set[str]] = {}
    for envelope in envelopes:
        ids.setdefault(envelope["key"], set()).add(envelope["record_id"])
    return [key for key, records in ids.items() if len(records) > 1]
