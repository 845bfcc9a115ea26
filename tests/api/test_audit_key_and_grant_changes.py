"""Key and grant changes in the audit log: from the entries an auditor reads alone, which
key of which principal and which grant was valid at every entry, including the keys
`exchange init` created before any request."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.support.province import LICENCE_SUBJECT, register_licence_subject
from tests.support.signed_client import (
    SignedClient,
    new_key_pair,
    onboard_department,
    onboard_operator,
)

KEY_RESOURCE = re.compile(r"^/v1/(departments|operators)/([^/]+)/keys/([^/]+)$")
KEY_ADDED = {
    "POST /v1/departments/<code>/keys",
    "POST /v1/operators/<name>/keys",
    "INIT /v1/operators/<name>/keys",
}
KEY_REVOKED = {
    "DELETE /v1/departments/<code>/keys/<key_id>",
    "DELETE /v1/operators/<name>/keys/<key_id>",
}
GRANT_CHANGES = {
    "POST /v1/grants": "pending",
    "POST /v1/grants/<grant_id>/approve": "approved",
    "POST /v1/grants/<grant_id>/reject": "rejected",
    "DELETE /v1/grants/<grant_id>": "revoked",
}
PURPOSE = "checking licences of applicants for tax clearance certificates"


@pytest.fixture
def auditor(admin: SignedClient) -> SignedClient:
    return onboard_operator(admin, "inspector", "auditor")


def whole_log(auditor: SignedClient) -> list[dict[str, Any]]:
    """Every entry the auditor may read, oldest first (the export streams newest first)."""
    response = auditor.get("/v1/audit/export", params={"format": "jsonl"})
    assert response.status_code == 200
    lines = response.get_data(as_text=True).splitlines()
    return sorted((json.loads(line) for line in lines), key=lambda e: e["seq"])


def valid_keys_at_each_entry(log: list[dict[str, Any]]) -> dict[int, set[str]]:
    """Replay the allowed key changes in seq order: the key ids valid just before each
    entry was recorded (a request is checked before its own entry is written)."""
    valid: set[str] = set()
    valid_before: dict[int, set[str]] = {}
    for entry in log:
        valid_before[entry["seq"]] = set(valid)
        if entry["decision"] != "allow" or entry["action"] not in KEY_ADDED | KEY_REVOKED:
            continue
        match = KEY_RESOURCE.match(entry["resource"])
        assert match, f"key change without the key's id: {entry}"
        if entry["action"] in KEY_ADDED:
            valid.add(match.group(3))
        else:
            valid.discard(match.group(3))
    return valid_before


def test_every_allowed_request_was_signed_with_a_key_the_log_shows_valid(admin, auditor):
    tax = onboard_department(admin, "tax")
    tax.get("/v1/departments/tax")
    second_key, jwk = new_key_pair()
    assert admin.post("/v1/departments/tax/keys", json={"public_key": jwk}).status_code == 201
    rotated = SignedClient(admin.client, second_key, "tax")
    assert admin.delete(f"/v1/departments/tax/keys/{tax.key_id}").status_code == 200
    assert tax.get("/v1/departments/tax").status_code == 401
    assert rotated.get("/v1/departments/tax").status_code == 200

    log = whole_log(auditor)
    valid_before = valid_keys_at_each_entry(log)

    signed = [e for e in log if e["key_id"] is not None and e["decision"] == "allow"]
    assert {e["key_id"] for e in signed} >= {admin.key_id, tax.key_id, rotated.key_id}
    for entry in signed:
        assert entry["key_id"] in valid_before[entry["seq"]], entry
    # A refused signature names the key it claimed as the actor.
    refused = [e for e in log if e["actor"] == tax.key_id and e["status"] == 401]
    assert len(refused) == 1
    assert tax.key_id not in valid_before[refused[0]["seq"]]


def test_each_key_change_names_the_key(admin, auditor):
    tax = onboard_department(admin, "tax")
    assert admin.delete(f"/v1/departments/tax/keys/{tax.key_id}").status_code == 200

    added = auditor.get(
        "/v1/audit", params={"action": "POST /v1/departments/<code>/keys"}
    ).get_json()["entries"]
    revoked = auditor.get(
        "/v1/audit", params={"action": "DELETE /v1/departments/<code>/keys/<key_id>"}
    ).get_json()["entries"]

    assert [e["resource"] for e in added] == [f"/v1/departments/tax/keys/{tax.key_id}"]
    assert [e["resource"] for e in revoked] == [f"/v1/departments/tax/keys/{tax.key_id}"]
    assert added[0]["actor"] == "admin"
    assert added[0]["key_id"] == admin.key_id


def test_a_new_department_or_operator_is_named_by_its_entry(admin, auditor):
    onboard_department(admin, "tax")

    def resources(action: str) -> list[str]:
        found = auditor.get("/v1/audit", params={"action": action}).get_json()["entries"]
        return [e["resource"] for e in found]

    assert resources("POST /v1/departments") == ["/v1/departments/tax"]
    assert resources("POST /v1/operators") == ["/v1/operators/inspector"]


def test_the_keys_exchange_init_created_are_in_the_log(admin, auditor, hub):
    (created,) = auditor.get(
        "/v1/audit", params={"actor": "exchange-init", "action": "INIT /v1/operators/<name>/keys"}
    ).get_json()["entries"]
    (hub_key,) = auditor.get(
        "/v1/audit", params={"actor": "exchange-init", "action": "INIT /v1/hub/keys"}
    ).get_json()["entries"]
    assert hub.audit_writer is not None
    assert hub.audit_writer.checkpoint_now()
    checkpoint = auditor.get("/v1/audit/checkpoints/latest").get_json()

    assert created["resource"] == f"/v1/operators/admin/keys/{admin.key_id}"
    assert created["decision"] == "allow"
    assert hub_key["resource"] == f"/v1/hub/keys/{checkpoint['key_id']}"
    # Before the first request: nothing was signed with a key the log had not shown.
    assert max(created["seq"], hub_key["seq"]) < min(
        e["seq"] for e in whole_log(auditor) if e["actor"] == "admin"
    )


def test_the_log_alone_retraces_a_grant_from_request_to_revocation(admin, auditor):
    market = register_licence_subject(admin)
    tax = onboard_department(admin, "tax")
    asked = tax.post("/v1/grants", json={"subject": LICENCE_SUBJECT, "purpose": PURPOSE})
    assert asked.status_code == 201
    grant_id = asked.get_json()["id"]
    assert market.post(f"/v1/grants/{grant_id}/approve").status_code == 200
    assert market.delete(f"/v1/grants/{grant_id}").status_code == 200
    assert market.delete(f"/v1/grants/{grant_id}").status_code == 409

    changes = [
        e
        for e in whole_log(auditor)
        if e["grant_id"] == grant_id and e["action"] in GRANT_CHANGES and e["decision"] == "allow"
    ]
    history = auditor.get(f"/v1/grants/{grant_id}/events").get_json()["events"]

    assert [GRANT_CHANGES[e["action"]] for e in changes] == [h["to_status"] for h in history]
    assert [e["actor"] for e in changes] == [h["actor"] for h in history]
    assert changes[0]["resource"] == f"/v1/grants/{grant_id}"
    assert {e["subject"] for e in changes} == {LICENCE_SUBJECT}
    assert {e["purpose"] for e in changes} == {PURPOSE}
