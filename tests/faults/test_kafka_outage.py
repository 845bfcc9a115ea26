"""The Kafka broker stopped for 20 s under steady publishing, then restarted: publishes
during the outage are refused with 503 (after the hub's bounded produce timeout), the hub
reports not-ready, and every record acknowledged before, during and after is on the topic
once and in the audit log.

Runs its own broker (`scripts/kafka.sh` with `KAFKA_PORT`), never the shared one on 9092.
"""

from __future__ import annotations

import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from exchange.api import create_app
from exchange.config import load_settings
from exchange.deployment import initialise
from exchange.hub import Hub, open_hub
from exchange.identity.keys import load_private_key
from tests.contract.signing_auth import SigningAuth
from tests.faults.hub_process import AuditWriterProcess
from tests.faults.own_kafka import kafka_script
from tests.faults.publishing import (
    BATCH_SIZE,
    SteadyPublisher,
    assert_audit_log_verifies_and_holds,
    doubled_after_deduplication,
    onboard_market,
    records_on_topic,
    wait_for_audit,
    wait_for_readiness,
    wait_until,
)
from tests.support.live_server import serving
from tests.support.province import LICENCE_SUBJECT

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.kafka]

OUTAGE_S = 20.0


@pytest.fixture
def hub(faults_broker: str, tmp_path: Path) -> Iterator[Hub]:
    settings = load_settings(
        environ={},
        overrides={
            "data_dir": str(tmp_path / "var"),
            "transport": "kafka",
            "kafka_bootstrap_servers": faults_broker,
            "rate_limit_per_principal": "",
            "topic_partitions": 1,
        },
    )
    initialise(settings)
    opened = open_hub(settings)
    yield opened
    opened.close()


def test_a_broker_outage_is_refused_with_503_and_loses_nothing(hub, stop_afterwards, tmp_path):
    writer = AuditWriterProcess(
        {
            "EXCHANGE_DATA_DIR": str(hub.settings.data_dir),
            "EXCHANGE_TRANSPORT": "kafka",
            "EXCHANGE_KAFKA_BOOTSTRAP_SERVERS": hub.settings.kafka_bootstrap_servers,
        },
        tmp_path / "audit-writer.log",
    )
    stop_afterwards.append(writer)
    writer.start()
    subject = f"{LICENCE_SUBJECT}-{uuid.uuid4().hex[:10]}"
    with serving(create_app(hub)) as url:
        admin = requests.Session()
        admin.auth = SigningAuth(load_private_key(hub.settings.keys_dir / "admin.pem"))
        publisher = SteadyPublisher(onboard_market(admin, url, subject), url, subject)
        thread = threading.Thread(target=publisher.run)
        thread.start()
        try:
            wait_until(lambda: len(publisher.acknowledged) >= 3 * BATCH_SIZE)
            kafka_script("stop")
            wait_for_readiness(url, 503)
            time.sleep(OUTAGE_S)  # the outage itself, with publishing going on meanwhile
            kafka_script("start")
            wait_for_readiness(url, 200)
            recovered_at = len(publisher.acknowledged)
            wait_until(
                lambda: len(publisher.acknowledged) >= recovered_at + 3 * BATCH_SIZE,
                deadline_s=120,
            )
        finally:
            publisher.stopping.set()
            thread.join(timeout=300)
    assert publisher.failure is None, publisher.failure
    assert publisher.statuses[503] >= 1, publisher.statuses

    acknowledged = set(publisher.acknowledged)
    envelopes = records_on_topic(hub.settings, subject, at_least=len(acknowledged))
    assert acknowledged <= {e["record_id"] for e in envelopes}, "an acknowledged record is lost"
    wait_for_audit(hub.settings, acknowledged)
    writer.signal(signal.SIGTERM)  # a graceful stop signs the last checkpoint
    assert_audit_log_verifies_and_holds(hub.settings, acknowledged)
    doubled = doubled_after_deduplication(envelopes)
    assert not doubled, f"{len(doubled)} records were written twice ({publisher.statuses})"
