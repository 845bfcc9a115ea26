"""The API skeleton: probes, the OpenAPI description, problem+json for every error, request
ids, metrics and one audit entry per request."""

from __future__ import annotations

import uuid

from exchange.store.database import Database
from exchange.store.repositories import AuditRepository

PROBLEM = "application/problem+json"


def test_health_is_ok(client):
    response = client.get("/v1/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_ready_reports_store_and_transport(client):
    response = client.get("/v1/ready")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"store": "ok", "transport": "ok"}


def test_ready_is_a_problem_503_naming_the_store_when_it_is_gone(client, hub, tmp_path):
    hub.database = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = client.get("/v1/ready")
    assert response.status_code == 503
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["type"].endswith("/not-ready")
    assert body["status"] == 503
    assert "store" in body["detail"]
    assert body["checks"]["store"] != "ok"
    assert body["checks"]["transport"] == "ok"


def test_openapi_is_3_1_and_lists_the_probes(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0"
    assert "/v1/health" in spec["paths"]
    assert "Problem" in spec["components"]["schemas"]


def test_docs_page_loads_the_description(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert b"/openapi.json" in response.data


def test_unknown_route_is_a_problem_404(client):
    response = client.get("/v1/nowhere")
    assert response.status_code == 404
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["type"].endswith("/not-found")
    assert body["status"] == 404
    assert body["instance"] == "/v1/nowhere"


def test_wrong_method_is_a_problem_405_with_allow(client):
    response = client.delete("/v1/health")
    assert response.status_code == 405
    assert response.mimetype == PROBLEM
    assert "GET" in response.headers["Allow"]


def test_body_over_the_limit_is_a_problem_413(client, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post(
        "/v1/departments", data=b"x" * 4096, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.mimetype == PROBLEM
    assert response.get_json()["type"].endswith("/request-too-large")


def test_every_response_carries_a_request_id_and_honours_a_safe_one(client):
    generated = client.get("/v1/health").headers["X-Request-Id"]
    assert uuid.UUID(generated)
    offered = "trace-42.abc"
    assert (
        client.get("/v1/health", headers={"X-Request-Id": offered}).headers["X-Request-Id"]
        == offered
    )
    hostile = "bad id; drop"
    assert (
        client.get("/v1/health", headers={"X-Request-Id": hostile}).headers["X-Request-Id"]
        != hostile
    )


def test_an_unexpected_error_in_a_view_is_a_problem_500_audited_as_error(app, admin, hub):
    def explode() -> str:
        raise RuntimeError("a bug in a view")

    app.add_url_rule("/v1/explode", "explode", explode)
    response = admin.get("/v1/explode", headers={"X-Request-Id": "req-explode-1"})
    assert response.status_code == 500
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["type"].endswith("/internal-error")
    assert body["request_id"] == "req-explode-1"
    assert "a bug in a view" not in response.get_data(as_text=True)
    (entry,) = [e for e in AuditRepository(hub.database).scan() if e.request_id == "req-explode-1"]
    assert entry.status == 500
    assert entry.decision == "error"


def test_metrics_count_requests_by_route_and_status(client, admin):
    client.get("/v1/health")
    client.get("/v1/nowhere")
    text = admin.get("/metrics").get_data(as_text=True)
    assert (
        'exchange_http_requests_total{method="GET",principal_kind="anonymous",route="/v1/health",status="200"}'
        in text
    )
    assert 'route="unmatched",status="404"' in text
    assert "exchange_http_request_duration_seconds_bucket" in text


def test_each_answered_request_leaves_one_audit_entry(client, hub):
    audit = AuditRepository(hub.database)
    before = audit.count()
    response = client.get("/v1/nowhere", headers={"X-Request-Id": "req-audit-1"})
    assert audit.count() == before + 1
    (entry,) = [e for e in audit.scan() if e.request_id == "req-audit-1"]
    assert entry.status == 404
    assert entry.decision == "deny"
    assert entry.resource == "/v1/nowhere"
    assert response.headers["X-Request-Id"] == "req-audit-1"


def test_probes_are_not_audited(client, hub):
    audit = AuditRepository(hub.database)
    before = audit.count()
    client.get("/v1/health")
    client.get("/v1/ready")
    assert audit.count() == before
