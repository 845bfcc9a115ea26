"""The auditor interface through signed requests on an embedded hub: the log, its filters
and pages, exports, proofs checked with only the published hub key, and who may read."""

from __future__ import annotations

import csv
import io
import json

import pytest

from exchange.audit.checkpoints import Checkpoint, verify_checkpoint
from exchange.audit.leaf import leaf_hash_of_document
from exchange.audit.merkle import verify_consistency, verify_inclusion
from exchange.identity.keys import public_key_from_raw_b64
from tests.support.signed_client import onboard_department, onboard_operator


@pytest.fixture
def auditor(admin):
    return onboard_operator(admin, "inspector", "auditor")


@pytest.fixture
def tax(admin):
    return onboard_department(admin, "tax")


def checkpoint_now(hub):
    """Sign a checkpoint of everything written so far (the writer would, every N or T)."""
    assert hub.audit_writer.checkpoint_now()


def published_keys(client):
    keys = client.get("/v1/hub/keys").get_json()["keys"]
    return {key["kid"]: public_key_from_raw_b64(key["x"]) for key in keys}


def entries(signed, **params):
    response = signed.get("/v1/audit", params=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_refused_request_is_in_the_log_with_the_claimed_actor(auditor, tax):
    refused = tax.post("/v1/departments", json={"code": "x", "name": "X", "contact": "x@x"})
    assert refused.status_code == 403

    found = entries(auditor, actor="tax", decision="deny")["entries"]

    assert [e["request_id"] for e in found] == [refused.headers["X-Request-Id"]]
    assert found[0]["actor_role"] == "department"
    assert found[0]["reason"]


def test_filters_and_cursor_pages_walk_the_log_newest_first(auditor, tax):
    for _ in range(5):
        tax.get("/v1/departments/tax")

    first = entries(auditor, actor="tax", action="GET /v1/departments/<code>", limit=2)
    second = entries(
        auditor,
        actor="tax",
        action="GET /v1/departments/<code>",
        limit=2,
        cursor=first["next_cursor"],
    )
    third = entries(
        auditor,
        actor="tax",
        action="GET /v1/departments/<code>",
        limit=2,
        cursor=second["next_cursor"],
    )

    seqs = [e["seq"] for page in (first, second, third) for e in page["entries"]]
    assert len(seqs) == 5
    assert seqs == sorted(seqs, reverse=True)
    assert third["next_cursor"] is None
    assert entries(auditor, key=tax.key_id, limit=500)["entries"]
    assert entries(auditor, key="no-such-key")["entries"] == []


@pytest.mark.parametrize(
    "params",
    [{"from": "yesterday"}, {"decision": "maybe"}, {"cursor": "-1"}, {"limit": "0"}],
)
def test_bad_query_parameters_are_a_422_problem(auditor, params):
    response = auditor.get("/v1/audit", params=params)

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"


def test_a_negative_seq_in_a_proof_path_is_a_422_problem(auditor):
    assert auditor.get("/v1/audit/entries/-3/proof").status_code == 422


def test_a_department_sees_only_its_own_entries(admin, auditor, tax):
    health = onboard_department(admin, "health")
    health.get("/v1/departments/health")
    tax.get("/v1/departments/tax")

    actors = {e["actor"] for e in entries(tax, limit=500)["entries"]}

    assert actors == {"tax"}
    assert entries(tax, actor="health")["entries"] == []


def test_administrators_cannot_read_the_log(admin):
    assert admin.get("/v1/audit").status_code == 403


def test_auditors_read_but_cannot_register(auditor):
    response = auditor.post("/v1/departments", json={"code": "x", "name": "X", "contact": "x@x"})

    assert response.status_code == 403
    (entry,) = entries(auditor, actor="inspector", decision="deny")["entries"]
    assert entry["status"] == 403


def test_export_streams_every_match_as_json_lines(auditor, tax):
    for _ in range(3):
        tax.get("/v1/departments/tax")

    response = auditor.get("/v1/audit/export", params={"actor": "tax", "format": "jsonl"})

    assert response.status_code == 200
    assert response.mimetype == "application/x-ndjson"
    lines = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert lines == entries(auditor, actor="tax", limit=500)["entries"]


def test_export_as_csv_has_a_header_and_one_row_per_entry(auditor, tax):
    tax.get("/v1/departments/tax")

    response = auditor.get("/v1/audit/export", params={"actor": "tax", "format": "csv"})

    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    expected = entries(auditor, actor="tax", limit=500)["entries"]
    assert [int(row["seq"]) for row in rows] == [e["seq"] for e in expected]
    assert rows[0]["actor"] == "tax"


def test_an_inclusion_proof_verifies_with_only_the_published_hub_key(client, hub, auditor, tax):
    request_id = tax.get("/v1/departments/tax").headers["X-Request-Id"]
    checkpoint_now(hub)
    (entry,) = [e for e in entries(auditor, limit=500)["entries"] if e["request_id"] == request_id]

    served = auditor.get("/v1/audit/checkpoints/latest").get_json()
    checkpoint = Checkpoint.from_json(served)
    verify_checkpoint(checkpoint, published_keys(client))
    proof = auditor.get(
        f"/v1/audit/entries/{entry['seq']}/proof", params={"tree_size": checkpoint.tree_size}
    ).get_json()

    assert proof["entry"] == entry
    assert verify_inclusion(
        entry["seq"] - 1,
        checkpoint.tree_size,
        leaf_hash_of_document(entry),
        [bytes.fromhex(node) for node in proof["audit_path"]],
        checkpoint.root_hash,
    )


def test_two_checkpoints_are_consistent(client, hub, auditor, tax):
    checkpoint_now(hub)
    first = Checkpoint.from_json(auditor.get("/v1/audit/checkpoints/latest").get_json())
    tax.get("/v1/departments/tax")
    checkpoint_now(hub)
    second = Checkpoint.from_json(auditor.get("/v1/audit/checkpoints/latest").get_json())
    keys = published_keys(client)
    verify_checkpoint(first, keys)
    verify_checkpoint(second, keys)

    proof = tax.get(
        "/v1/audit/consistency", params={"first": first.tree_size, "second": second.tree_size}
    ).get_json()

    assert second.tree_size > first.tree_size
    assert verify_consistency(
        first.tree_size,
        second.tree_size,
        first.root_hash,
        second.root_hash,
        [bytes.fromhex(node) for node in proof["proof"]],
    )
    listed = auditor.get("/v1/audit/checkpoints", params={"from": first.tree_size}).get_json()
    assert [c["tree_size"] for c in listed["checkpoints"]] == [first.tree_size, second.tree_size]


def test_a_department_cannot_get_a_proof_of_another_departments_entry(admin, hub, tax):
    health = onboard_department(admin, "health")
    request_id = health.get("/v1/departments/health").headers["X-Request-Id"]
    checkpoint_now(hub)
    (entry,) = [e for e in entries(health, limit=500)["entries"] if e["request_id"] == request_id]

    assert tax.get(f"/v1/audit/entries/{entry['seq']}/proof").status_code == 404
    assert health.get(f"/v1/audit/entries/{entry['seq']}/proof").status_code == 200
