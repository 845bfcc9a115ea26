"""`/metrics`: for operators by default, public only where the deployment says so, and its
transport counters move with what the hub produces and reads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from exchange.config import load_settings
from exchange.store.repositories import AuditRepository
from tests.receive.support import Deployment
from tests.support.province import licence
from tests.support.signed_client import SignedClient, onboard_department, onboard_operator

PROBLEM = "application/problem+json"


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition `text` (0 when it is absent)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


def test_unsigned_metrics_are_refused_401_and_the_refusal_is_audited(client, hub):
    response = client.get("/metrics", headers={"X-Request-Id": "req-metrics-unsigned"})
    assert response.status_code == 401
    assert response.mimetype == PROBLEM
    assert b"exchange_http_requests" not in response.data
    entries = [
        e for e in AuditRepository(hub.database).scan() if e.request_id == "req-metrics-unsigned"
    ]
    assert [(e.status, e.decision) for e in entries] == [(401, "deny")]


def test_operators_read_metrics_and_a_department_is_refused_403(admin):
    assert admin.get("/metrics").status_code == 200
    auditor = onboard_operator(admin, "inspector", "auditor")
    assert auditor.get("/metrics").status_code == 200
    department = onboard_department(admin, "tax")
    response = department.get("/metrics")
    assert response.status_code == 403
    assert response.mimetype == PROBLEM
    assert response.get_json()["type"].endswith("/role-forbidden")


@pytest.fixture
def public_metrics(tmp_path: Path) -> Iterator[Deployment]:
    settings = load_settings(
        environ={}, overrides={"data_dir": str(tmp_path / "var"), "metrics_public": True}
    )
    opened = Deployment(settings, "", None)
    yield opened
    opened.close()


def test_metrics_public_answers_unsigned_scrapes_without_auditing_them(public_metrics):
    audit = AuditRepository(public_metrics.hub.database)
    response = public_metrics.client.get("/metrics", headers={"X-Request-Id": "req-scrape"})
    assert response.status_code == 200
    assert b"exchange_http_requests_total" in response.data
    assert [e for e in audit.scan() if e.request_id == "req-scrape"] == []


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    settings = load_settings(environ={}, overrides={"data_dir": str(tmp_path / "var")})
    opened = Deployment(settings, "", None)
    yield opened
    opened.close()


def _scrape(admin: SignedClient) -> str:
    response = admin.get("/metrics")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_publish_and_pull_move_the_transport_counters(deployment):
    market = deployment.register_licences()
    tax = onboard_department(deployment.admin, "tax")
    grant_id = deployment.grant(tax, market, None)
    subscription_id = deployment.subscribe(tax, grant_id)
    before = _scrape(deployment.admin)

    deployment.publish(market, licence(1), licence(2))
    pulled = [_pull(deployment, tax, subscription_id)]
    while sum(pulled) < 2 and len(pulled) < 20:
        pulled.append(_pull(deployment, tax, subscription_id))

    after = _scrape(deployment.admin)

    def moved(name: str, topic_kind: str) -> float:
        return _sample(after, name, topic_kind=topic_kind) - _sample(
            before, name, topic_kind=topic_kind
        )

    assert sum(pulled) >= 2
    assert moved("exchange_transport_produced_messages_total", "records") == 2
    assert moved("exchange_transport_consumed_messages_total", "records") == sum(pulled)
    # Every answered request between the scrapes left one audit event on the topic: the
    # first scrape itself, the publish and each pull.
    assert moved("exchange_transport_produced_messages_total", "audit") == 2 + len(pulled)


def _pull(deployment: Deployment, consumer: SignedClient, subscription_id: str) -> int:
    """Pull once (without acknowledging); how many records came."""
    response = deployment.pull(consumer, subscription_id, max=100, wait_ms=2000)
    assert response.status_code == 200, response.get_json()
    return len(response.get_json()["records"])
