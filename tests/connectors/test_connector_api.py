"""The connectors REST API: definitions validated field by field, path safety, ownership,
and the Kafka Connect lifecycle (pause, stop, resume, restart, offsets only while stopped)."""

from __future__ import annotations

import pytest

from exchange.store.repositories import AuditRepository
from tests.connectors.support import grant, register_inspections, write_key_file
from tests.support.signed_client import onboard_department, onboard_operator

SUBJECT = "market-regulation.inspection"


@pytest.fixture
def market(admin):
    return register_inspections(admin)


@pytest.fixture
def source_body(market, connector_root):
    key_file = write_key_file(market, connector_root)
    return {
        "name": "inspections-in",
        "kind": "source",
        "class": "file",
        "subject": SUBJECT,
        "config": {"directory": "inbox", "key_file": key_file, "errors.tolerance": "all"},
    }


def test_a_department_creates_a_file_source_that_starts_unassigned(market, source_body):
    response = market.post("/v1/connectors", json=source_body)

    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["department"] == "market-regulation"
    assert created["config"]["errors.tolerance"] == "all"
    assert created["config"]["batch_size"] == 100
    status = market.get("/v1/connectors/inspections-in/status").get_json()
    assert status["state"] == "UNASSIGNED"
    assert status["records_in"] == 0


def test_every_bad_field_is_named_in_one_422(market, source_body):
    source_body["config"] = {"batch_size": 0, "errors.tolerance": "some"}

    response = market.post("/v1/connectors", json=source_body)

    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors["config"]) == {"directory", "key_file", "batch_size", "errors.tolerance"}


def test_an_unknown_class_and_a_missing_subject_are_named(market, source_body):
    source_body |= {"class": "ftp", "subject": "market-regulation.nothing"}

    response = market.post("/v1/connectors", json=source_body)

    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"class", "subject"}


@pytest.mark.parametrize(
    "directory", ["../outside", "inbox/../../outside", "/etc", "escape-link/inbox"]
)
def test_file_directories_outside_the_root_are_refused(
    market, source_body, connector_root, tmp_path, directory
):
    (tmp_path / "outside").mkdir()
    (connector_root / "escape-link").symlink_to(tmp_path / "outside")
    source_body["config"]["directory"] = directory

    response = market.post("/v1/connectors", json=source_body)

    assert response.status_code == 422
    assert "directory" in response.get_json()["errors"]["config"]


def test_a_key_file_outside_the_root_is_refused(market, source_body):
    source_body["config"]["key_file"] = "/etc/ssl/private/hub.pem"

    response = market.post("/v1/connectors", json=source_body)

    assert response.status_code == 422
    assert "key_file" in response.get_json()["errors"]["config"]


def test_a_source_must_publish_a_subject_its_department_owns(admin, market, source_body):
    tax = onboard_department(admin, "tax")

    response = tax.post("/v1/connectors", json=source_body)

    assert response.status_code == 422
    assert "subject" in response.get_json()["errors"]


def test_a_sink_needs_a_grant_of_its_own_department(admin, market, connector_root):
    tax = onboard_department(admin, "tax")
    civil = onboard_department(admin, "civil-affairs")
    civil_grant = grant(civil, market, SUBJECT)
    body = {
        "name": "inspections-out",
        "kind": "sink",
        "class": "file",
        "subject": SUBJECT,
        "config": {"directory": "outbox", "key_file": write_key_file(tax, connector_root)},
    }

    missing = tax.post("/v1/connectors", json=body)
    someone_elses = tax.post("/v1/connectors", json=body | {"grant_id": civil_grant})
    own = tax.post("/v1/connectors", json=body | {"grant_id": grant(tax, market, SUBJECT)})

    assert missing.status_code == 422
    assert "grant_id" in missing.get_json()["errors"]
    assert someone_elses.status_code == 422
    assert "grant_id" in someone_elses.get_json()["errors"]
    assert own.status_code == 201, own.get_json()


def test_another_department_cannot_see_a_connector_and_auditors_are_refused(
    admin, market, source_body
):
    market.post("/v1/connectors", json=source_body)
    tax = onboard_department(admin, "tax")
    auditor = onboard_operator(admin, "inspector", "auditor")

    assert tax.get("/v1/connectors/inspections-in").status_code == 404
    assert tax.get("/v1/connectors").get_json()["connectors"] == []
    assert auditor.get("/v1/connectors").status_code == 403
    assert admin.get("/v1/connectors").get_json()["connectors"][0]["name"] == "inspections-in"


def test_a_taken_name_is_a_conflict(market, source_body):
    assert market.post("/v1/connectors", json=source_body).status_code == 201

    assert market.post("/v1/connectors", json=source_body).status_code == 409


def test_pause_stop_and_resume_set_the_reported_state(market, source_body):
    market.post("/v1/connectors", json=source_body)
    path = "/v1/connectors/inspections-in"

    paused = market.put(f"{path}/pause").get_json()["state"]
    stopped = market.put(f"{path}/stop").get_json()["state"]
    resumed = market.put(f"{path}/resume").get_json()["state"]

    assert (paused, stopped, resumed) == ("PAUSED", "STOPPED", "UNASSIGNED")


def test_offsets_change_only_while_stopped(market, source_body):
    market.post("/v1/connectors", json=source_body)
    path = "/v1/connectors/inspections-in/offsets"
    change = {"offsets": [{"partition": "a.csv:0011", "offset": {"next_batch": 2}}]}

    refused = market.patch(path, json=change)
    market.put("/v1/connectors/inspections-in/stop")
    altered = market.patch(path, json=change)
    read = market.get(path)
    reset = market.delete(path)

    assert refused.status_code == 409
    assert altered.status_code == 200
    assert read.get_json()["offsets"] == change["offsets"]
    assert reset.get_json()["offsets"] == []


def test_a_deleted_connector_is_gone(market, source_body):
    market.post("/v1/connectors", json=source_body)

    assert market.delete("/v1/connectors/inspections-in").status_code == 204
    assert market.get("/v1/connectors/inspections-in").status_code == 404


def test_connector_requests_are_audited_as_the_department(hub, market, source_body):
    market.post("/v1/connectors", json=source_body)
    market.put("/v1/connectors/inspections-in/pause")

    entries = AuditRepository(hub.database).scan(limit=10_000)

    actions = [(e.actor, e.action, e.subject) for e in entries if "connectors" in e.action]
    assert ("market-regulation", "POST /v1/connectors", SUBJECT) in actions
    assert ("market-regulation", "PUT /v1/connectors/<name>/pause", SUBJECT) in actions


@pytest.mark.parametrize(("name", "status"), [("no%00such", 400), ("UPPER", 404), ("x" * 300, 404)])
def test_a_name_that_cannot_exist_is_refused_without_a_lookup(market, name, status):
    assert market.get(f"/v1/connectors/{name}/status").status_code == status


def test_every_connector_endpoint_is_described_in_openapi(client):
    document = client.get("/openapi.json").get_json()

    paths = {path for path in document["paths"] if path.startswith("/v1/connectors")}
    assert paths == {
        "/v1/connectors",
        "/v1/connectors/{name}",
        "/v1/connectors/{name}/status",
        "/v1/connectors/{name}/pause",
        "/v1/connectors/{name}/stop",
        "/v1/connectors/{name}/resume",
        "/v1/connectors/{name}/restart",
        "/v1/connectors/{name}/offsets",
        "/v1/connectors/{name}/dlq",
    }
    assert "ConnectorCreation" in document["components"]["schemas"]


def test_a_restart_keeps_a_paused_or_stopped_connector_so(market, source_body):
    market.post("/v1/connectors", json=source_body)
    path = "/v1/connectors/inspections-in"

    market.put(f"{path}/pause")
    restarted_paused = market.post(f"{path}/restart")
    market.put(f"{path}/stop")
    restarted_stopped = market.post(f"{path}/restart")

    assert restarted_paused.status_code == 202
    assert restarted_paused.get_json()["state"] == "PAUSED"
    assert restarted_stopped.get_json()["state"] == "STOPPED"
    assert market.get(f"{path}/status").get_json()["state"] == "STOPPED"
