"""Registering a subject on a hub whose transport is a real Kafka broker creates its topic."""

from __future__ import annotations

import uuid

import pytest

from exchange.api import create_app
from exchange.config import load_settings
from exchange.deployment import initialise
from exchange.hub import open_hub
from exchange.identity.keys import load_private_key
from tests.registry_api.conftest import register
from tests.support.signed_client import SignedClient, onboard_department

pytestmark = pytest.mark.kafka


@pytest.fixture
def kafka_hub(tmp_path, kafka_bootstrap):
    settings = load_settings(
        environ={},
        overrides={
            "data_dir": str(tmp_path / "var"),
            "transport": "kafka",
            "kafka_bootstrap_servers": kafka_bootstrap,
            "topic_partitions": 2,
        },
    )
    initialise(settings)
    hub = open_hub(settings)
    yield hub
    hub.close()


def test_registering_a_subject_creates_its_topic_on_kafka(kafka_hub, kafka_transport):
    admin = SignedClient(
        create_app(kafka_hub).test_client(),
        load_private_key(kafka_hub.settings.keys_dir / "admin.pem"),
        "admin",
    )
    # Topics outlive the test on the shared broker: a fresh department keeps names unique.
    code = f"dept-{uuid.uuid4().hex[:12]}"
    department = onboard_department(admin, code)

    response = register(department, f"{code}.business-licence")

    assert response.status_code == 201, response.get_json()
    topic = f"exchange.records.{code}.business-licence"
    assert response.get_json()["topic"] == topic
    assert topic in kafka_transport.list_topics()
    assert kafka_transport.partition_count(topic) == 2
    # Registering again is idempotent, on the topic too.
    assert register(department, f"{code}.business-licence").status_code == 200
