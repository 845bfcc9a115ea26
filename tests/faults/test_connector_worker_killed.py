"""A connector worker (`exchange connect`) killed with SIGKILL mid-stream and a new one
started: nothing the hub acknowledged is lost on the way to the sink, nothing is doubled,
and the audit log verifies.

The killed worker runs both ends of a pipeline beside a hub on PostgreSQL and the faults
broker: a `file` source publishing a JSON Lines file of licences (5 rows a batch), and a
`file` sink writing tax's deliveries, while market regulation also publishes over HTTP.
It is killed at the hardest moment: part-way through the file, and after the hub answered
a pull that the sink has not yet written (found by freezing the worker with SIGSTOP and
comparing the audit log's deliveries to tax with the sink's files). A second worker takes
both connectors over when the dead worker's leases expire.

What "exactly once" means here: the hub delivers at least once, each delivery with a
`delivery_id` that is stable across redeliveries on one subscription (a UUIDv5 of the
subscription and the record id; the sink's subscription survives the restart, stored as
its offset), and that is the id a consumer is told to drop repeats by. So the sink's
output, deduplicated by `delivery_id`, must hold every acknowledged record once, and no
licence under two record ids (a row published again under a new id would be a real
duplicate, which no consumer could recognise). The file sink promises more (it recognises
a redelivery by record id in its open segment and never writes it twice): checked too.

The records in flight at the kill reach the sink because every pull begins at the first
unacknowledged record: the second worker's first pull returns them again, so its cursor
never acknowledges them unseen (exchange/records/consumers.py).
"""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

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
    drop_licences,
    file_sink,
    file_source,
    sink_deliveries,
    write_key_file,
    written_twice,
)
from tests.faults.hub_process import AuditWriterProcess, ConnectorWorkerProcess, HubProcess
from tests.faults.publishing import (
    BATCH_SIZE,
    SteadyPublisher,
    assert_audit_log_verifies_and_holds,
    deployment_settings,
    doubled_after_deduplication,
    onboard_department,
    onboard_market,
    records_on_topic,
    wait_for_audit,
    wait_until,
)
from tests.support.province import LICENCE_SUBJECT, licence

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.kafka, pytest.mark.postgres]

# A dead worker's connectors are taken over once its leases expire: short here, to keep the
# test short (the live worker renews its leases every tick, 50 ms).
FAST_RECOVERY = {"EXCHANGE_CONNECTOR_LEASE_S": "3"}
SOURCE_FILE = "licences-0001.jsonl"
SOURCE_ROWS = range(500_000, 500_300)  # keys apart from the HTTP publisher's (0, 1, ...)
SOURCE_PUBLISHED_BEFORE_KILL = 20
KILL_ATTEMPTS = 20
# How long a frozen worker's last pull may take to be answered and its audit entry stored.
SETTLE_S = 1.5


@dataclass(frozen=True)
class Pipeline:
    """market regulation -> file source -> hub -> grant -> file sink -> tax."""

    url: str
    market: requests.Session
    tax: requests.Session
    source: str
    sink: str
    inbox: Path
    outbox: Path

    def source_published(self) -> int:
        return int(connector_status(self.market, self.url, self.source)["records_out"])

    def source_mid_file(self) -> bool:
        return (
            self.source_published() >= SOURCE_PUBLISHED_BEFORE_KILL
            and not (self.inbox / "done" / SOURCE_FILE).exists()
        )

    def held_by(self, worker_id: str) -> bool:
        return (
            connector_status(self.tax, self.url, self.sink)["worker_id"] == worker_id
            and connector_status(self.market, self.url, self.source)["worker_id"] == worker_id
        )


def _pipeline(hub: HubProcess, admin_key: Path, root: Path) -> Pipeline:
    """Onboard both departments, grant tax the licences, and create both connectors."""
    admin = requests.Session()
    admin.auth = SigningAuth(load_private_key(admin_key))
    market = onboard_market(admin, hub.url)
    tax = onboard_department(admin, hub.url, "tax")
    grant_id = approved_grant(tax, market, hub.url, LICENCE_SUBJECT)
    source = file_source(
        "licences-in", LICENCE_SUBJECT, "inbox", write_key_file(market, root, "market-regulation")
    )
    sink = file_sink(
        "licences-to-tax", LICENCE_SUBJECT, grant_id, "outbox", write_key_file(tax, root, "tax")
    )
    return Pipeline(
        hub.url,
        market,
        tax,
        create_connector(market, hub.url, source),
        create_connector(tax, hub.url, sink),
        root / "inbox",
        root / "outbox",
    )


def _pulled_but_not_written(database: Database, outbox: Path) -> set[str]:
    """Records the hub handed to tax's sink (its pulls are audited before they are
    answered) that are not in the sink's files."""
    pulled = {
        record_id
        for entry in AuditRepository(database).scan(limit=1_000_000)
        if entry.actor == "tax" and entry.decision == "allow"
        for record_id in entry.record_ids
    }
    return pulled - delivered_record_ids(outbox)


def _kill_with_a_pull_unwritten(
    worker: ConnectorWorkerProcess, pipeline: Pipeline, database: Database
) -> set[str]:
    """SIGKILL the worker at the hardest moment: mid-file for its source, and for its
    sink after the hub answered a pull and before the sink wrote it. Freeze the worker
    (SIGSTOP), look, and kill it or let it go on and look again; the records in flight."""
    wait_for(pipeline.source_mid_file, "the worker to be part-way through the file")
    for _ in range(KILL_ATTEMPTS):
        worker.freeze()
        deadline = time.monotonic() + SETTLE_S
        while time.monotonic() < deadline:
            in_flight = _pulled_but_not_written(database, pipeline.outbox)
            if in_flight and pipeline.source_mid_file():
                worker.signal(signal.SIGKILL)  # no handler runs, no lease is let go
                return in_flight
            time.sleep(0.1)
        worker.thaw()
        time.sleep(0.3)  # pacing: let the worker move on before looking again
    raise AssertionError(f"no moment with a pull in flight in {KILL_ATTEMPTS} attempts")


def test_a_connector_worker_killed_mid_stream_loses_and_doubles_nothing(
    deployment, stop_afterwards, tmp_path
):
    env = deployment | FAST_RECOVERY
    data_dir = tmp_path / "var"
    hub = HubProcess(data_dir, env)
    hub.init()
    settings = deployment_settings(env, data_dir)
    writer = AuditWriterProcess(hub.env, tmp_path / "audit-writer.log")
    log = tmp_path / "connect.log"
    first, second = (ConnectorWorkerProcess(hub.env, log, hub.url, n) for n in ("first", "second"))
    stop_afterwards += [writer, hub, first, second]
    writer.start()
    hub.start()
    database = Database(settings.effective_database_url)
    try:
        pipeline = _pipeline(hub, data_dir / "keys" / "admin.pem", settings.connector_root)
        publisher = SteadyPublisher(pipeline.market, hub.url, LICENCE_SUBJECT)
        publishing = threading.Thread(target=publisher.run)
        publishing.start()
        try:
            drop_licences(pipeline.inbox, SOURCE_FILE, SOURCE_ROWS)
            first.start()
            in_flight = _kill_with_a_pull_unwritten(first, pipeline, database)
            second.start()
            wait_for(lambda: pipeline.held_by("second"), "the second worker to take over")
            resumed_at = len(publisher.acknowledged)
            wait_until(lambda: len(publisher.acknowledged) >= resumed_at + 3 * BATCH_SIZE)
        finally:
            publisher.stopping.set()
            publishing.join(timeout=300)
        assert publisher.failure is None, publisher.failure

        wait_for((pipeline.inbox / "done" / SOURCE_FILE).exists, "the source file done")
        expected = len(publisher.acknowledged) + len(SOURCE_ROWS)
        envelopes = records_on_topic(settings, at_least=expected)
        topic_ids = {e["record_id"] for e in envelopes}
        wait_for(
            lambda: topic_ids - in_flight <= delivered_record_ids(pipeline.outbox),
            "every record on the topic but those in flight in the sink",
        )
        wait_for(
            lambda: in_flight <= delivered_record_ids(pipeline.outbox),
            "the records in flight at the kill delivered again",
        )
    finally:
        for process in (first, second, hub):
            process.stop()
        database.close()
    _assert_nothing_doubled_nor_lost(pipeline, publisher, envelopes)
    wait_for_audit(settings, topic_ids)
    writer.signal(signal.SIGTERM)  # a graceful stop signs the last checkpoint
    assert_audit_log_verifies_and_holds(settings, topic_ids)


def _assert_nothing_doubled_nor_lost(
    pipeline: Pipeline, publisher: SteadyPublisher, envelopes: list[dict[str, Any]]
) -> None:
    """Every row of the file published once, and the sink's output, deduplicated by
    `delivery_id`, holding every record on the topic once (every acknowledged record is
    on it), each licence under one record id."""
    topic_ids = {e["record_id"] for e in envelopes}
    source_keys = {licence(n)["unified_social_credit_code"] for n in SOURCE_ROWS}
    assert source_keys <= {e["key"] for e in envelopes}, "a row of the file was not published"
    doubled = doubled_after_deduplication(envelopes)
    assert not doubled, f"{len(doubled)} licences were published under two record ids"
    deliveries = sink_deliveries(pipeline.outbox)
    assert not written_twice(deliveries), "the file sink wrote a redelivery again"
    kept = deduplicated(deliveries)
    delivered = {d["record_id"] for d in kept}
    assert delivered <= topic_ids, "the sink holds records that are not on the topic"
    assert not doubled_after_deduplication(kept), "a licence arrived under two record ids"
    lost = topic_ids - delivered
    assert not lost, f"{len(lost)} records never reached the sink"
    assert set(publisher.acknowledged) <= topic_ids, "an acknowledged record is not on the topic"
