"""Schema versions: idempotent registration, compatibility (409 listing every break), the
dry run, the compatibility level, and deprecation closing a version to publishing."""

from __future__ import annotations

import pytest

from exchange.registry.catalogue import catalogue_for
from tests.registry_api.conftest import LICENCE_SCHEMA, PROBLEMS, licence_schema, register

SUBJECT = "market-regulation.business-licence"
VERSIONS = f"/v1/subjects/{SUBJECT}/versions"


@pytest.fixture
def licence(market):
    """The licence subject, registered by its owner, at version 1."""
    assert register(market).status_code == 201
    return SUBJECT


def breaking_schema() -> dict:
    """Two incompatible changes at once: a type narrowed, and a new required property."""
    schema = licence_schema(branch={"type": "string"})
    schema["properties"]["capital"] = {"type": "string"}
    schema["required"] = [*schema["required"], "branch"]
    return schema


def test_owner_adds_a_compatible_version(market, licence):
    response = market.post(VERSIONS, json={"schema": licence_schema(branch={"type": "string"})})

    assert response.status_code == 201
    assert response.get_json() == {"subject": SUBJECT, "version": 2}


def test_identical_schema_returns_the_existing_version_with_200(market, licence):
    market.post(VERSIONS, json={"schema": licence_schema(branch={"type": "string"})})

    again = market.post(VERSIONS, json={"schema": LICENCE_SCHEMA})

    assert again.status_code == 200
    assert again.get_json()["version"] == 1
    assert len(market.get(VERSIONS).get_json()["versions"]) == 2


def test_incompatible_version_is_409_listing_every_incompatibility(market, licence):
    response = market.post(VERSIONS, json={"schema": breaking_schema()})

    assert response.status_code == 409
    problem = response.get_json()
    assert problem["type"] == PROBLEMS + "schema-incompatible"
    found = {(item["kind"], item["path"]) for item in problem["incompatibilities"]}
    assert len(found) >= 2
    assert any(path.startswith("/properties/capital") for _, path in found)
    assert any("branch" in path or kind.startswith("REQUIRED") for kind, path in found)
    assert all(item["detail"] for item in problem["incompatibilities"])
    assert len(market.get(VERSIONS).get_json()["versions"]) == 1


def test_dry_run_reports_incompatibilities_and_changes_nothing(market, licence):
    response = market.post(
        f"/v1/subjects/{SUBJECT}/compatibility", json={"schema": breaking_schema()}
    )

    verdict = response.get_json()
    assert response.status_code == 200
    assert verdict["compatible"] is False
    assert len(verdict["messages"]) == len(verdict["incompatibilities"]) >= 2
    assert len(market.get(VERSIONS).get_json()["versions"]) == 1


def test_dry_run_of_a_compatible_schema_says_so(market, licence):
    response = market.post(
        f"/v1/subjects/{SUBJECT}/compatibility",
        json={"schema": licence_schema(branch={"type": "string"})},
    )

    assert response.get_json() == {"compatible": True, "messages": [], "incompatibilities": []}
    assert len(market.get(VERSIONS).get_json()["versions"]) == 1


def test_level_none_accepts_the_breaking_version(market, licence):
    config = market.put(f"/v1/subjects/{SUBJECT}/config", json={"compatibility": "NONE"})

    response = market.post(VERSIONS, json={"schema": breaking_schema()})

    assert config.status_code == 200
    assert config.get_json()["compatibility"] == "NONE"
    assert response.status_code == 201


def test_unknown_compatibility_level_is_refused(market, licence):
    response = market.put(f"/v1/subjects/{SUBJECT}/config", json={"compatibility": "SOMETIMES"})

    assert response.status_code == 422
    assert "compatibility" in response.get_json()["errors"]


def test_only_the_owner_or_an_admin_changes_a_subject(admin, market, taxation, licence):
    new_schema = {"schema": licence_schema(branch={"type": "string"})}

    assert taxation.post(VERSIONS, json=new_schema).status_code == 403
    assert (
        taxation.put(f"/v1/subjects/{SUBJECT}/config", json={"compatibility": "NONE"}).status_code
        == 403
    )
    assert taxation.delete(f"{VERSIONS}/1").status_code == 403
    assert admin.post(VERSIONS, json=new_schema).status_code == 201


def test_versions_and_latest_are_served(market, licence):
    market.post(VERSIONS, json={"schema": licence_schema(branch={"type": "string"})})

    listing = market.get(VERSIONS).get_json()
    latest = market.get(f"{VERSIONS}/latest").get_json()
    first = market.get(f"{VERSIONS}/1").get_json()

    assert [v["version"] for v in listing["versions"]] == [1, 2]
    assert latest["version"] == 2
    assert first["schema"] == LICENCE_SCHEMA
    assert first["active"] is True


def test_unknown_subject_and_version_are_404_and_bad_version_is_400(market, licence):
    assert market.get("/v1/subjects/market-regulation.nothing").status_code == 404
    assert market.get(f"{VERSIONS}/7").get_json()["type"] == PROBLEMS + "unknown-schema-version"
    assert market.get(f"{VERSIONS}/first").status_code == 400


def test_deprecating_the_latest_version_makes_latest_the_previous_active_one(market, licence):
    market.post(VERSIONS, json={"schema": licence_schema(branch={"type": "string"})})

    deprecated = market.delete(f"{VERSIONS}/2")

    assert deprecated.status_code == 200
    assert deprecated.get_json()["active"] is False
    assert deprecated.get_json()["deprecated_at"]
    assert market.get(f"{VERSIONS}/latest").get_json()["version"] == 1
    # Soft: the version is still there, and still listed.
    assert market.get(f"{VERSIONS}/2").get_json()["active"] is False
    assert len(market.get(VERSIONS).get_json()["versions"]) == 2


def _publish(client, version: int | None = None):
    body: dict = {"records": [{"payload": {"credit_code": "91350100M000100Y43", "name": "Shop"}}]}
    if version is not None:
        body["schema_version"] = version
    return client.post(f"/v1/subjects/{SUBJECT}/records", json=body)


def test_deprecated_version_is_not_publishable_and_latest_active_is(market, licence):
    market.post(VERSIONS, json={"schema": licence_schema(branch={"type": "string"})})
    market.delete(f"{VERSIONS}/1")

    refused = _publish(market, 1)

    assert refused.status_code == 409
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["type"] == PROBLEMS + "schema-version-deprecated"
    assert refused.get_json()["version"] == 1
    assert _publish(market, 2).get_json()["schema_version"] == 2
    assert _publish(market).get_json()["schema_version"] == 2


def test_nothing_is_publishable_once_every_version_is_deprecated(market, licence):
    market.delete(f"{VERSIONS}/1")

    refused = _publish(market)

    assert refused.status_code == 404
    assert refused.get_json()["type"] == PROBLEMS + "unknown-schema-version"
    assert market.get(f"{VERSIONS}/latest").status_code == 404


def test_unknown_subject_or_version_is_not_publishable(market, licence):
    unknown_subject = market.post(
        "/v1/subjects/market-regulation.nothing/records",
        json={"records": [{"payload": {"credit_code": "91350100M000100Y43", "name": "Shop"}}]},
    )
    unknown_version = _publish(market, 5)

    assert unknown_subject.get_json()["type"] == PROBLEMS + "unknown-subject"
    assert unknown_version.get_json()["type"] == PROBLEMS + "unknown-schema-version"


def test_identical_schema_of_a_deprecated_version_is_409_saying_how_to_proceed(market, licence):
    market.post(VERSIONS, json={"schema": licence_schema(branch={"type": "string"})})
    market.delete(f"{VERSIONS}/1")

    again = market.post(VERSIONS, json={"schema": LICENCE_SCHEMA})

    assert again.status_code == 409
    assert again.mimetype == "application/problem+json"
    problem = again.get_json()
    assert problem["type"] == PROBLEMS + "schema-version-deprecated"
    assert (problem["subject"], problem["version"]) == (SUBJECT, 1)
    assert "new version" in problem["detail"]
    assert len(market.get(VERSIONS).get_json()["versions"]) == 2


def test_the_way_forward_after_a_deprecated_duplicate_registers_a_new_version(market, licence):
    market.delete(f"{VERSIONS}/1")
    renamed = LICENCE_SCHEMA | {"description": "Licences, registered again after deprecation"}

    response = market.post(VERSIONS, json={"schema": renamed})

    assert response.status_code == 201
    assert response.get_json()["version"] == 2
    assert _publish(market).get_json()["schema_version"] == 2


def test_repeating_a_subject_registration_whose_version_was_deprecated_is_409(market, licence):
    market.delete(f"{VERSIONS}/1")

    again = register(market)

    assert again.status_code == 409
    assert again.get_json()["type"] == PROBLEMS + "schema-version-deprecated"


def test_validator_of_a_version_judges_records_and_is_reused(hub, licence):
    catalogue = catalogue_for(hub)

    validator = catalogue.validator_for(SUBJECT, 1)

    assert validator.errors_for({"credit_code": "91350100M000100Y43", "name": "Shop"}) == []
    assert [i.path for i in validator.errors_for({"credit_code": "x", "name": "Shop"})] == [
        "/credit_code"
    ]
    assert catalogue_for(hub).validator_for(SUBJECT, 1) is validator


def test_compatibility_is_still_checked_against_a_deprecated_version(market, licence):
    market.delete(f"{VERSIONS}/1")

    response = market.post(VERSIONS, json={"schema": breaking_schema()})

    assert response.status_code == 409
    assert response.get_json()["type"] == PROBLEMS + "schema-incompatible"
    assert len(market.get(VERSIONS).get_json()["versions"]) == 1
