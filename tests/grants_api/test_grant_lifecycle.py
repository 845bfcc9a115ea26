"""Grants through the API, signed as real principals: request, decide, revoke, and the
live check every delivery makes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from exchange.policy.grant_service import active_grant_for
from exchange.policy.grants import GrantExpired, GrantNotActive, GrantRevoked
from exchange.store.repositories import AuditFilters, AuditRepository, GrantRepository
from tests.grants_api.conftest import LICENCE, PROBLEMS, PURPOSE, ask


def test_a_department_requests_a_grant_that_starts_pending(pending):
    assert pending["status"] == "pending"
    assert pending["version"] == 1
    assert pending["subject"] == LICENCE
    assert pending["owner"] == "market-regulation"
    assert pending["consumer"] == "taxation"
    assert pending["purpose"] == PURPOSE
    assert pending["fields"] == ["/enterprise_name", "/registered_address/city"]
    assert pending["expires_at"] is None
    assert pending["active"] is False


def test_the_owner_approves_and_the_consumer_sees_the_grant_active(market, taxation, pending):
    approved = market.post(f"/v1/grants/{pending['id']}/approve")

    assert approved.status_code == 200, approved.get_json()
    seen = taxation.get(f"/v1/grants/{pending['id']}").get_json()
    assert seen["status"] == "approved"
    assert seen["active"] is True
    assert seen["version"] == 2


def test_an_administrator_may_approve_a_grant(admin, pending):
    response = admin.post(f"/v1/grants/{pending['id']}/approve")

    assert response.status_code == 200
    assert response.get_json()["status"] == "approved"


def test_approval_may_narrow_the_fields_and_bring_the_expiry_forward(market, pending):
    expiry = (datetime.now(UTC) + timedelta(days=30)).isoformat()

    response = market.post(
        f"/v1/grants/{pending['id']}/approve",
        json={"fields": ["/enterprise_name"], "expires_at": expiry},
    )

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["fields"] == ["/enterprise_name"]
    assert datetime.fromisoformat(response.get_json()["expires_at"]) == datetime.fromisoformat(
        expiry
    )


def test_approval_cannot_widen_the_requested_fields(market, pending):
    response = market.post(
        f"/v1/grants/{pending['id']}/approve", json={"fields": ["/legal_representative"]}
    )

    assert response.status_code == 422
    assert "fields" in response.get_json()["errors"]


def test_the_consumer_cannot_approve_its_own_request(taxation, pending):
    response = taxation.post(f"/v1/grants/{pending['id']}/approve")

    assert response.status_code == 403
    assert response.get_json()["type"] == PROBLEMS + "grant-party-forbidden"


def test_the_owner_rejects_a_grant_which_can_then_not_be_approved(market, pending):
    rejected = market.post(f"/v1/grants/{pending['id']}/reject")
    approved = market.post(f"/v1/grants/{pending['id']}/approve")

    assert rejected.status_code == 200
    assert rejected.get_json()["status"] == "rejected"
    assert approved.status_code == 409
    assert approved.mimetype == "application/problem+json"
    assert approved.get_json()["type"] == PROBLEMS + "grant-state"


@pytest.mark.parametrize("party", ["market", "taxation", "admin"])
def test_the_owner_the_consumer_and_an_administrator_may_revoke(request, market, pending, party):
    market.post(f"/v1/grants/{pending['id']}/approve")
    revoker = request.getfixturevalue(party)

    response = revoker.delete(f"/v1/grants/{pending['id']}")

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "revoked"
    assert response.get_json()["active"] is False


def test_a_foreign_department_cannot_find_a_grant_to_revoke(civil, pending):
    response = civil.delete(f"/v1/grants/{pending['id']}")

    assert response.status_code == 404
    assert response.get_json()["type"] == PROBLEMS + "grant-not-found"


def test_an_auditor_sees_a_grant_but_may_not_revoke_it(auditor, pending):
    response = auditor.delete(f"/v1/grants/{pending['id']}")

    assert response.status_code == 403
    assert auditor.get(f"/v1/grants/{pending['id']}").get_json()["status"] == "pending"


def test_revoking_twice_is_a_state_conflict(taxation, pending):
    taxation.delete(f"/v1/grants/{pending['id']}")

    response = taxation.delete(f"/v1/grants/{pending['id']}")

    assert response.status_code == 409
    assert response.get_json()["type"] == PROBLEMS + "grant-state"


def test_an_unknown_grant_is_not_found(admin, licence):
    response = admin.get("/v1/grants/0190c1d2-0000-7000-8000-000000000000")

    assert response.status_code == 404


def test_the_history_records_who_changed_the_grant_and_when(market, taxation, auditor, pending):
    market.post(f"/v1/grants/{pending['id']}/approve")
    taxation.delete(f"/v1/grants/{pending['id']}")

    response = auditor.get(f"/v1/grants/{pending['id']}/events")

    assert response.status_code == 200
    events = response.get_json()["events"]
    assert [(e["version"], e["from_status"], e["to_status"], e["actor"]) for e in events] == [
        (1, None, "pending", "taxation"),
        (2, "pending", "approved", "market-regulation"),
        (3, "approved", "revoked", "taxation"),
    ]
    assert events[1]["fields"] == ["/enterprise_name", "/registered_address/city"]


def test_each_grant_request_is_audited_with_the_grant_subject_and_purpose(hub, market, pending):
    market.post(f"/v1/grants/{pending['id']}/approve")

    entries = AuditRepository(hub.database).query(AuditFilters(subject=LICENCE))

    approval = next(e for e in entries if e.action == "POST /v1/grants/<grant_id>/approve")
    assert approval.grant_id == pending["id"]
    assert approval.purpose == PURPOSE
    assert approval.actor == "market-regulation"
    assert any(e.action == "POST /v1/grants" and e.grant_id == pending["id"] for e in entries)


def test_a_revoked_grant_stops_delivery_on_the_next_check(hub, market, taxation, pending):
    grants = GrantRepository(hub.database)
    market.post(f"/v1/grants/{pending['id']}/approve")
    now = datetime.now(UTC)
    assert active_grant_for(grants, pending["id"], "taxation", LICENCE, now).status == "approved"

    taxation.delete(f"/v1/grants/{pending['id']}")

    with pytest.raises(GrantRevoked):
        active_grant_for(grants, pending["id"], "taxation", LICENCE, now)


def test_an_expired_grant_stops_delivery(hub, market, taxation, licence):
    expiry = datetime.now(UTC) + timedelta(hours=1)
    grant = ask(taxation, expires_at=expiry.isoformat()).get_json()
    market.post(f"/v1/grants/{grant['id']}/approve")
    grants = GrantRepository(hub.database)

    active_grant_for(grants, grant["id"], "taxation", LICENCE, expiry - timedelta(seconds=1))
    with pytest.raises(GrantExpired):
        active_grant_for(grants, grant["id"], "taxation", LICENCE, expiry)


def test_a_pending_grant_delivers_nothing(hub, pending):
    with pytest.raises(GrantNotActive):
        active_grant_for(
            GrantRepository(hub.database), pending["id"], "taxation", LICENCE, datetime.now(UTC)
        )
