"""Registering a subject on a hub whose transport is a real Kafka broker creates its topic
with the configured partitions and replication factor (the test broker is a single node)."""

from __future__ import annotations

import uuid

import pytest
from kafka import KafkaAdminClient

from exchange.api import create_app
from exchange.config import load_settings
from exchange.deployment import initialise
from exchange.hub import open_hub
from exchange.identity.keys import load_private_key
from tests.registry_api.conftest import register
from tests.support.signed_client import SignedClient, onboard_department

pytestmark = pytest.mark.kafka


@pytest.fixture
def replication_factor() -> int:
    """The hub's configured replication factor (overridden by a test's parameter)."""
    return 1


@pytest.fixture
def kafka_hub(tmp_path, kafka_bootstrap, replication_factor):
    settings = load_settings(
        environ={},
        overrides={
            "data_dir": str(tmp_path / "var"),
            "transport": "kafka",
            "kafka_bootstrap_servers": kafka_bootstrap,
            "topic_partitions": 2,
            "topic_replication_factor": replication_factor,
        },
    )
    initialise(settings)
    hub = open_hub(settings)
    yield hub
    hub.close()


@pytest.fixture
def fresh_department(kafka_hub) -> tuple[str, SignedClient]:
    """A department with a unique code: topics outlive the test on the shared broker."""
    admin = SignedClient(
        create_app(kafka_hub).test_client(),
        load_private_key(kafka_hub.settings.keys_dir / "admin.pem"),
        "admin",
    )
    code = f"dept-{uuid.uuid4().hex[:12]}"
    return code, onboard_department(admin, code)


def replica_counts(bootstrap: str, topic: str) -> list[int]:
    """How many replicas each partition of `topic` has, as the broker describes it."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","), client_id="exchange-tests")
    try:
        [described] = admin.describe_topics([topic])
    finally:
        admin.close()
    return [len(partition["replica_nodes"]) for partition in described["partitions"]]


def test_registering_a_subject_creates_its_topic_on_kafka(
    fresh_department, kafka_transport, kafka_bootstrap
):
    code, department = fresh_department

    response = register(department, f"{code}.business-licence")

    assert response.status_code == 201, response.get_json()
    topic = f"exchange.records.{code}.business-licence"
    assert response.get_json()["topic"] == topic
    assert topic in kafka_transport.list_topics()
    assert kafka_transport.partition_count(topic) == 2
    assert replica_counts(kafka_bootstrap, topic) == [1, 1]
    # Registering again is idempotent, on the topic too.
    assert register(department, f"{code}.business-licence").status_code == 200


@pytest.mark.parametrize("replication_factor", [3])
def test_a_replication_factor_beyond_the_brokers_is_refused_and_stores_nothing(
    fresh_department, kafka_transport
):
    code, department = fresh_department

    response = register(department, f"{code}.business-licence")

    assert response.status_code == 503
    problem = response.get_json()
    assert problem["type"].endswith("/transport-unavailable")
    # The broker's own reason reaches the caller: the factor and the brokers available.
    assert "replication factor of 3 cannot be reached" in problem["detail"]
    assert department.get(f"/v1/subjects/{code}.business-licence").status_code == 404
    assert f"exchange.records.{code}.business-licence" not in kafka_transport.list_topics()
