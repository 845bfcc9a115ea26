"""Two hub processes on one PostgreSQL store and one Kafka cluster under concurrent load,
with the audit writer killed (SIGKILL) and restarted meanwhile: no record id twice, each
key's records in the order they were published, and one audit log that verifies and names
every acknowledged record."""

from __future__ import annotations

import signal
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from exchange.config import Settings, load_settings
from exchange.identity.keys import load_private_key
from exchange.store.database import Database
from exchange.store.repositories import AuditRepository
from tests.contract.signing_auth import SigningAuth
from tests.faults.hub_process import AuditWriterProcess, HubProcess
from tests.faults.publishing import (
    assert_audit_log_verifies_and_holds,
    onboard_market,
    records_on_topic,
    wait_for_audit,
    wait_until,
)
from tests.fixtures.database import fresh_postgres_database
from tests.support.province import LICENCE_SUBJECT, licence

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.kafka, pytest.mark.postgres]

PUBLISHERS = 2
VERSIONS = 12
KEYS_PER_PUBLISHER = 5


@pytest.fixture
def deployment(faults_broker: str, postgres_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    with fresh_postgres_database(postgres_url) as url:
        yield {
            "EXCHANGE_DATABASE_URL": url,
            "EXCHANGE_TRANSPORT": "kafka",
            "EXCHANGE_KAFKA_BOOTSTRAP_SERVERS": faults_broker,
            "EXCHANGE_RATE_LIMIT_PER_PRINCIPAL": "",
            "EXCHANGE_TOPIC_PARTITIONS": "3",
            "EXCHANGE_AUDIT_CHECKPOINT_EVERY": "50",
        }


def _publish_versions(session: requests.Session, urls: list[str], keys: list[int]) -> list[Any]:
    """Publish VERSIONS successive versions of each key, one batch per version, sending
    each batch to the next hub in turn; the acknowledged records, in publishing order."""
    acknowledged: list[Any] = []
    for version in range(VERSIONS):
        body = {
            "records": [
                {"payload": licence(key, enterprise_name=f"Version {version} of {key}")}
                for key in keys
            ]
        }
        url = urls[version % len(urls)]
        response = session.post(
            f"{url}/v1/subjects/{LICENCE_SUBJECT}/records",
            json=body,
            headers={"Idempotency-Key": str(uuid.uuid4())},
            timeout=60,
        )
        assert response.status_code == 201, response.text
        acknowledged += response.json()["records"]
    return acknowledged


def _settings(env: dict[str, str], data_dir: Path) -> Settings:
    return load_settings(
        environ={k: v for k, v in env.items() if k.startswith("EXCHANGE_")},
        overrides={"data_dir": str(data_dir)},
    )


def test_two_hubs_keep_ids_unique_order_per_key_and_one_audit_log(deployment, tmp_path):
    data_dir = tmp_path / "var"
    hubs = [HubProcess(data_dir, deployment) for _ in range(2)]
    hubs[0].init()
    writer = AuditWriterProcess(hubs[0].env, tmp_path / "audit-writer.log")
    writer.start()
    for hub in hubs:
        hub.start()
    results: list[list[Any]] = [[] for _ in range(PUBLISHERS)]
    failures: list[BaseException] = []
    try:
        admin = requests.Session()
        admin.auth = SigningAuth(load_private_key(data_dir / "keys" / "admin.pem"))
        market = onboard_market(admin, hubs[0].url)
        urls = [hub.url for hub in hubs]

        def publish(index: int) -> None:
            keys = [index * 1000 + k for k in range(KEYS_PER_PUBLISHER)]
            try:
                results[index] = _publish_versions(market, urls[index:] + urls[:index], keys)
            except BaseException as error:  # reported by the test thread
                failures.append(error)

        threads = [threading.Thread(target=publish, args=(i,)) for i in range(PUBLISHERS)]
        for thread in threads:
            thread.start()
        wait_until(lambda: any(results) or bool(failures) or _audited(data_dir, deployment) > 20)
        writer.signal(signal.SIGKILL)  # mid-load: its unstored events wait in the topic
        writer.start()
        for thread in threads:
            thread.join(timeout=300)
    finally:
        for hub in hubs:
            hub.stop()
    assert not failures, failures
    acknowledged = [record for batch in results for record in batch]
    assert len(acknowledged) == PUBLISHERS * VERSIONS * KEYS_PER_PUBLISHER

    settings = _settings(deployment, data_dir)
    record_ids = {record["record_id"] for record in acknowledged}
    wait_for_audit(settings, record_ids)
    writer.signal(signal.SIGTERM)  # a graceful stop signs the last checkpoint

    envelopes = records_on_topic(settings, at_least=len(record_ids))
    ids = [e["record_id"] for e in envelopes]
    assert len(ids) == len(set(ids)), "a record id is on the topic twice"
    assert record_ids == set(ids)
    for key, versions in _versions_by_key(envelopes).items():
        assert versions == sorted(versions), f"records of {key} out of order: {versions}"
    assert_audit_log_verifies_and_holds(settings, record_ids)


def _audited(data_dir: Path, env: dict[str, str]) -> int:
    return AuditRepository(Database(_settings(env, data_dir).effective_database_url)).count()


def _versions_by_key(envelopes: list[dict[str, Any]]) -> dict[str, list[int]]:
    """Each key's versions in topic order (one key lives on one partition)."""
    found: dict[str, list[int]] = {}
    for envelope in envelopes:
        name = envelope["payload"]["enterprise_name"]
        found.setdefault(envelope["key"], []).append(int(name.split()[1]))
    return found
