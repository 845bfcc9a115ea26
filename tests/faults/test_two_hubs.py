"""Two hub processes and two connector workers on one PostgreSQL store and one Kafka
cluster under concurrent load, with the audit writer killed (SIGKILL) and restarted
meanwhile: no record id twice, each key's records in the order they were published (on
the topic and in each sink), and one audit log that verifies, names every acknowledged
record and holds every answered request exactly once.

Each connector worker calls its own hub and runs one `file` sink: tax's through the first
hub, social insurance's through the second. Workers share connectors by lease, each up to
its fair share; to pin which worker runs which sink, the second sink is created while the
first worker is frozen (SIGSTOP, shorter than its lease): each worker then holds one.
"""

from __future__ import annotations

import functools
import signal
import threading
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests

from exchange.config import Settings
from exchange.identity.keys import load_private_key
from exchange.store.database import Database
from exchange.store.repositories import AuditRepository
from tests.connectors.support import wait_for
from tests.contract.signing_auth import SigningAuth
from tests.faults.connector_pipeline import (
    approved_grant,
    connector_status,
    create_connector,
    deduplicated,
    delivered_record_ids,
    file_sink,
    sink_deliveries,
    write_key_file,
    written_twice,
)
from tests.faults.hub_process import AuditWriterProcess, ConnectorWorkerProcess, HubProcess
from tests.faults.publishing import (
    assert_audit_log_verifies_and_holds,
    deployment_settings,
    onboard_department,
    onboard_market,
    records_on_topic,
    wait_for_audit,
    wait_until,
)
from tests.support.province import LICENCE_SUBJECT, licence

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.kafka, pytest.mark.postgres]

PUBLISHERS = 2
VERSIONS = 12
KEYS_PER_PUBLISHER = 5
# One sink per consuming department, each run by its own worker through its own hub.
CONSUMERS = ("tax", "social-insurance")
# Longer than a worker takes to start: the frozen first worker keeps its sink meanwhile.
LEASE_S = "30"


def _publish_versions(
    session: requests.Session, urls: list[str], keys: list[int], request_ids: list[str]
) -> list[Any]:
    """Publish VERSIONS successive versions of each key, one batch per version, sending
    each batch to the next hub in turn; the acknowledged records, in publishing order.
    Each answer's request id is added to `request_ids`."""
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
        request_ids.append(response.headers["X-Request-Id"])
        acknowledged += response.json()["records"]
    return acknowledged


def _start_workers_one_sink_each(
    workers: list[ConnectorWorkerProcess],
    hubs: list[HubProcess],
    market: requests.Session,
    admin: requests.Session,
) -> dict[str, Path]:
    """Start the workers (one per hub), each holding one consumer's file sink; the sinks'
    outboxes."""
    root = Path(hubs[0].env["EXCHANGE_CONNECTOR_ROOT"])
    outboxes: dict[str, Path] = {}
    for consumer, worker in zip(CONSUMERS, workers, strict=True):
        session = onboard_department(admin, hubs[0].url, consumer)
        grant_id = approved_grant(session, market, hubs[0].url, LICENCE_SUBJECT)
        key_file = write_key_file(session, root, consumer)
        sink = file_sink(
            f"licences-to-{consumer}", LICENCE_SUBJECT, grant_id, f"outbox/{consumer}", key_file
        )
        _run_sink(worker, session, hubs[0].url, sink)
        outboxes[consumer] = root / "outbox" / consumer
        # Frozen, this worker cannot claim the next sink; it keeps its own by lease.
        worker.freeze()
    for worker in workers:
        worker.thaw()
    return outboxes


def _run_sink(
    worker: ConnectorWorkerProcess, session: requests.Session, url: str, sink: dict[str, Any]
) -> None:
    """Create the sink and start the worker; wait until the worker holds it."""
    name = create_connector(session, url, sink)
    worker.start()
    wait_for(
        lambda: connector_status(session, url, name)["worker_id"] == worker.worker_id,
        f"{worker.worker_id} to run {name}",
    )


def _wait_for_sinks(outboxes: dict[str, Path], record_ids: set[str]) -> None:
    for consumer, outbox in outboxes.items():
        wait_for(
            functools.partial(_holds_all, outbox, record_ids), f"every record in {consumer}'s sink"
        )


def _holds_all(outbox: Path, record_ids: set[str]) -> bool:
    return record_ids <= delivered_record_ids(outbox)


def test_two_hubs_and_two_workers_keep_ids_unique_order_per_key_and_one_audit_log(
    deployment, stop_afterwards, tmp_path
):
    env = deployment | {"EXCHANGE_CONNECTOR_LEASE_S": LEASE_S}
    data_dir = tmp_path / "var"
    hubs = [HubProcess(data_dir, env) for _ in range(2)]
    hubs[0].init()
    settings = deployment_settings(env, data_dir)
    writer = AuditWriterProcess(hubs[0].env, tmp_path / "audit-writer.log")
    log = tmp_path / "connect.log"
    workers = [
        ConnectorWorkerProcess(hub.env, log, hub.url, f"worker-{n}")
        for n, hub in enumerate(hubs, start=1)
    ]
    stop_afterwards += [writer, *hubs, *workers]
    writer.start()
    for hub in hubs:
        hub.start()
    results: list[list[Any]] = [[] for _ in range(PUBLISHERS)]
    failures: list[BaseException] = []
    answered: list[str] = []
    try:
        admin = requests.Session()
        admin.auth = SigningAuth(load_private_key(data_dir / "keys" / "admin.pem"))
        market = onboard_market(admin, hubs[0].url)
        outboxes = _start_workers_one_sink_each(workers, hubs, market, admin)
        urls = [hub.url for hub in hubs]

        def publish(index: int) -> None:
            keys = [index * 1000 + k for k in range(KEYS_PER_PUBLISHER)]
            try:
                results[index] = _publish_versions(
                    market, urls[index:] + urls[:index], keys, answered
                )
            except BaseException as error:  # reported by the test thread
                failures.append(error)

        threads = [threading.Thread(target=publish, args=(i,)) for i in range(PUBLISHERS)]
        for thread in threads:
            thread.start()
        wait_until(lambda: any(results) or bool(failures) or _audited(settings) > 20)
        writer.signal(signal.SIGKILL)  # mid-load: its unstored events wait in the topic
        writer.start()
        for thread in threads:
            thread.join(timeout=300)
        assert not failures, failures
        record_ids = {record["record_id"] for batch in results for record in batch}
        assert len(record_ids) == PUBLISHERS * VERSIONS * KEYS_PER_PUBLISHER
        _wait_for_sinks(outboxes, record_ids)
    finally:
        for worker in workers:
            worker.stop()
        for hub in hubs:
            hub.stop()
    wait_for_audit(settings, record_ids)
    writer.signal(signal.SIGTERM)  # a graceful stop signs the last checkpoint
    _assert_once_each_and_in_order(settings, record_ids, outboxes)
    assert_audit_log_verifies_and_holds(settings, record_ids)
    _assert_each_request_once_in_the_log(settings, answered)


def _assert_once_each_and_in_order(
    settings: Settings, record_ids: set[str], outboxes: dict[str, Path]
) -> None:
    """On the topic and in each sink: every acknowledged record once, in order per key."""
    envelopes = records_on_topic(settings, at_least=len(record_ids))
    ids = [e["record_id"] for e in envelopes]
    assert len(ids) == len(set(ids)), "a record id is on the topic twice"
    assert record_ids == set(ids)
    _assert_in_order_per_key(envelopes, "the topic")
    for consumer, outbox in outboxes.items():
        deliveries = sink_deliveries(outbox)
        assert not written_twice(deliveries), f"{consumer}'s sink wrote a delivery twice"
        assert {d["record_id"] for d in deliveries} == record_ids
        _assert_in_order_per_key(deduplicated(deliveries), f"{consumer}'s sink")


def _assert_each_request_once_in_the_log(settings: Settings, answered: list[str]) -> None:
    """No request id twice in the log (the killed writer stored no event again) and every
    publish the hubs answered in it (none lost)."""
    database = Database(settings.effective_database_url)
    try:
        logged = Counter(e.request_id for e in AuditRepository(database).scan(limit=1_000_000))
    finally:
        database.close()
    twice = [request_id for request_id, count in logged.items() if count > 1]
    assert not twice, f"{len(twice)} requests are in the audit log more than once: {twice[:5]}"
    assert len(answered) == PUBLISHERS * VERSIONS
    assert set(answered) <= set(logged)


def _audited(settings: Settings) -> int:
    database = Database(settings.effective_database_url)
    try:
        return AuditRepository(database).count()
    finally:
        database.close()


def _assert_in_order_per_key(records: list[dict[str, Any]], where: str) -> None:
    """Each key's versions, in the order `records` hold them (envelopes or deliveries),
    are the order they were published in."""
    found: dict[str, list[int]] = {}
    for record in records:
        name = record["payload"]["enterprise_name"]
        found.setdefault(record["key"], []).append(int(name.split()[1]))
    for key, versions in found.items():
        assert versions == sorted(versions), f"records of {key} out of order in {where}: {versions}"
