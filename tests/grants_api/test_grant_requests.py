"""Who may ask for a grant, the terms it may ask for, and who sees which grants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.grants_api.conftest import LICENCE, PROBLEMS, ask


def test_an_unknown_subject_is_not_found(taxation, licence):
    response = ask(taxation, subject="market-regulation.no-such-thing")

    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_the_owner_needs_no_grant_for_its_own_subject(market, licence):
    response = ask(market)

    assert response.status_code == 422
    assert response.get_json()["type"] == PROBLEMS + "grant-own-subject"


@pytest.mark.parametrize("operator", ["admin", "auditor"])
def test_operators_cannot_request_grants(request, licence, operator):
    response = ask(request.getfixturevalue(operator))

    assert response.status_code == 403
    assert response.get_json()["type"] == PROBLEMS + "role-forbidden"


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        ({"fields": ["enterprise_name"]}, "fields"),
        ({"fields": ["/enterprise_name~2"]}, "fields"),
        ({"fields": [""]}, "fields"),
        ({"fields": []}, "fields"),
        ({"fields": ["/no_such_property"]}, "fields"),
        ({"fields": ["/registered_address/planet"]}, "fields"),
        ({"fields": ["/enterprise_name/length"]}, "fields"),
        ({"purpose": None}, "purpose"),
        ({"purpose": "tax"}, "purpose"),
        ({"purpose": "x" * 1001}, "purpose"),
        ({"purpose": "           ."}, "purpose"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"expires_at": "next tuesday"}, "expires_at"),
        ({"expires_at": "2999-01-01T00:00:00"}, "expires_at"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_invalid_terms_are_a_422_naming_the_field(taxation, licence, terms, field):
    body = {"subject": LICENCE, "purpose": "cross-checking tax clearance applications"} | terms
    response = taxation.post("/v1/grants", json={k: v for k, v in body.items() if v is not None})

    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]


def test_a_pointer_error_names_the_offending_entry(taxation, licence):
    response = ask(taxation, fields=["/enterprise_name", "/nope", "/status"])

    assert response.get_json()["errors"]["fields"] == {
        "1": ["'/nope': the subject's schema declares no such property"]
    }


def test_pointers_may_name_nested_members_through_references_and_array_elements(taxation, licence):
    fields = ["/legal_representative/citizen_id", "/registered_address/postal_code"]
    expiry = datetime.now(UTC) + timedelta(days=90)

    response = ask(taxation, fields=fields, expires_at=expiry.isoformat())

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["fields"] == fields


def test_auditors_and_admins_see_every_grant(admin, auditor, pending):
    for operator in (admin, auditor):
        listed = operator.get("/v1/grants").get_json()["grants"]
        assert [g["id"] for g in listed] == [pending["id"]]


def test_the_owner_sees_grants_on_its_subjects(market, pending):
    assert [g["id"] for g in market.get("/v1/grants").get_json()["grants"]] == [pending["id"]]
    assert market.get(f"/v1/grants/{pending['id']}").status_code == 200


def test_other_departments_do_not_see_foreign_grants(civil, pending):
    assert civil.get("/v1/grants").get_json()["grants"] == []
    response = civil.get(f"/v1/grants/{pending['id']}")
    assert response.status_code == 404
    assert civil.get(f"/v1/grants/{pending['id']}/events").status_code == 404


def test_the_listing_filters_and_pages_with_a_cursor(admin, market, taxation, civil, licence):
    ids = [ask(client).get_json()["id"] for client in (taxation, civil, taxation)]
    market.post(f"/v1/grants/{ids[0]}/approve")

    first = admin.get("/v1/grants", params={"limit": 2}).get_json()
    rest = admin.get("/v1/grants", params={"limit": 2, "after": first["next_cursor"]}).get_json()

    assert [g["id"] for g in first["grants"] + rest["grants"]] == ids
    assert rest["next_cursor"] is None

    def listed(**params):
        return [g["id"] for g in admin.get("/v1/grants", params=params).get_json()["grants"]]

    assert listed(consumer="civil-affairs") == [ids[1]]
    assert listed(status="approved") == [ids[0]]
    assert listed(consumer="taxation", status="pending") == [ids[2]]
    assert listed(subject=LICENCE) == ids
    assert listed(subject="tax.other") == []


def test_an_unknown_status_filter_is_a_422(admin, licence):
    response = admin.get("/v1/grants", params={"status": "maybe"})

    assert response.status_code == 422
    assert "status" in response.get_json()["errors"]


def test_every_grant_endpoint_is_described_in_the_openapi_document(client):
    paths = client.get("/openapi.json").get_json()["paths"]

    assert set(paths["/v1/grants"]) == {"get", "post"}
    assert set(paths["/v1/grants/{grant_id}"]) == {"get", "delete"}
    assert "post" in paths["/v1/grants/{grant_id}/approve"]
    assert "post" in paths["/v1/grants/{grant_id}/reject"]
    assert "get" in paths["/v1/grants/{grant_id}/events"]
