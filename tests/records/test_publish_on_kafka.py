"""A publish the Kafka broker fails part-way through (issue 5: "transport failure answering
503 with nothing half-written"): the publisher gets a 503, and no subscriber, no lookup and
no audit entry ever sees a record of that batch, although the broker stored some of them
before it refused the last one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from exchange.audit.events import Decision
from exchange.audit.store_sink import StoreAuditSink
from exchange.config import load_settings
from exchange.records.envelope import topic_for
from exchange.records.view_builder import ViewBuilder
from exchange.store.repositories import AuditFilters, AuditRepository
from exchange.transport.partitioning import partition_for_key
from tests.fixtures.kafka import create_size_limited_topic
from tests.receive.support import LICENCE_SCHEMA, Deployment
from tests.support.province import licence
from tests.support.signed_client import onboard_department

pytestmark = pytest.mark.kafka

PARTITIONS = 3
# The subject's topic refuses a record batch over this many bytes (max.message.bytes): an
# ordinary licence fits, one with a long business scope does not.
TOPIC_MESSAGE_LIMIT = 6 * 1024
LONG_SCOPE = "经营范围" * 1000  # 4,000 characters, the schema's maximum
# Licence numbers by the partition of their key (the credit code) among three.
IN_PARTITION_0, IN_PARTITION_1, ALSO_IN_PARTITION_1, IN_PARTITION_2 = 2, 8, 23, 1


def _code(number: int) -> str:
    return str(licence(number)["unified_social_credit_code"])


@pytest.fixture
def deployment(tmp_path: Path, kafka_bootstrap: str) -> Iterator[Deployment]:
    """A hub on the test broker whose subject topic was created beforehand, small-limited
    (the hub's own `create_topic` leaves an existing topic as it is); the view builder runs
    as `exchange view build` would, and audit entries go straight to the store."""
    settings = load_settings(
        environ={},
        overrides={
            "data_dir": str(tmp_path / "var"),
            "transport": "kafka",
            "kafka_bootstrap_servers": kafka_bootstrap,
            "topic_partitions": PARTITIONS,
        },
    )
    suffix = "-" + uuid.uuid4().hex[:10]
    create_size_limited_topic(
        kafka_bootstrap, topic_for(LICENCE_SCHEMA + suffix), PARTITIONS, TOPIC_MESSAGE_LIMIT
    )
    view_group = f"exchange.view.test.{uuid.uuid4().hex}"

    def worker_side(hub):
        hub.audit = StoreAuditSink(hub.database)
        hub.view_builder = ViewBuilder(hub.transport, hub.database, group=view_group)
        hub.view_builder.start()

    opened = Deployment(settings, suffix, worker_side)
    yield opened
    opened.close()


def test_a_batch_the_broker_refuses_part_way_is_a_503_and_reaches_no_one(deployment):
    numbers = (IN_PARTITION_0, IN_PARTITION_1, ALSO_IN_PARTITION_1, IN_PARTITION_2)
    assert [partition_for_key(_code(n).encode(), PARTITIONS) for n in numbers] == [0, 1, 1, 2]
    market = deployment.register_licences()
    tax = onboard_department(deployment.admin, "tax")
    subscription = deployment.subscribe(tax, deployment.grant(tax, market, None))

    failed = deployment.signed(market).post(
        f"/v1/subjects/{deployment.subject}/records",
        json={
            "records": [
                {"payload": licence(IN_PARTITION_0, status="suspended")},
                {"payload": licence(IN_PARTITION_1)},  # a key published in this batch only
                {"payload": licence(IN_PARTITION_2, business_scope=LONG_SCOPE)},
            ]
        },
    )
    # The next batch writes after the failed one in every partition: once a reader has it,
    # it has gone past wherever the failed batch's records are.
    later = deployment.publish(
        market, licence(IN_PARTITION_0), licence(ALSO_IN_PARTITION_1), licence(IN_PARTITION_2)
    )

    assert failed.status_code == 503, failed.get_json()
    assert failed.mimetype == "application/problem+json"
    deliveries, _ = deployment.pull_until(tax, subscription, 3)
    assert sorted(d["record_id"] for d in deliveries) == sorted(later)
    assert all(d["payload"]["status"] == "active" for d in deliveries)
    for number, record_id in zip(
        (IN_PARTITION_0, ALSO_IN_PARTITION_1, IN_PARTITION_2), later, strict=True
    ):
        deployment.wait_for_view(_code(number), record_id)
    lookup = deployment.signed(tax).get(
        f"/v1/subjects/{deployment.subject}/records/{_code(IN_PARTITION_1)}"
    )
    assert lookup.status_code == 404
    [refused] = _publish_audit_entries(deployment, decision="error")
    assert (refused.status, refused.record_ids) == (503, ())
    assert [e.record_ids for e in _publish_audit_entries(deployment, "allow")] == [tuple(later)]


def _publish_audit_entries(deployment: Deployment, decision: Decision) -> list:
    entries = AuditRepository(deployment.hub.database).query(
        AuditFilters(actor="market-regulation", subject=deployment.subject, decision=decision),
        limit=100,
    )
    return [e for e in entries if e.action.startswith("POST") and e.action.endswith("/records")]
