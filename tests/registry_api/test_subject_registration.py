"""Registering subjects: who may, what is refused (each with its own problem type), and
the topic provisioned on the transport before the subject is stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exchange.registry.catalogue import catalogue_for
from exchange.transport.kafka import KafkaTransport
from tests.registry_api.conftest import PROBLEMS, licence_schema, register, registration
from tests.support.signed_client import onboard_department, onboard_operator

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
EXAMPLE_KEY_FIELDS = {
    "market-regulation.business-licence": "unified_social_credit_code",
    "public-security.household-registration": "household_number",
    "taxation.tax-clearance-certificate": "certificate_number",
    "social-security.social-insurance-contribution": "insured_person.citizen_id",
    "housing-construction.building-permit": "permit_number",
    "civil-affairs.marriage-registration": "certificate_number",
}


def test_owner_department_registers_its_subject_and_gets_version_1_and_its_topic(market, hub):
    response = register(market)

    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {
        "subject": "market-regulation.business-licence",
        "version": 1,
        "topic": "exchange.records.market-regulation.business-licence",
    }
    assert "exchange.records.market-regulation.business-licence" in hub.transport.list_topics()
    assert hub.transport.partition_count(response.get_json()["topic"]) == (
        hub.settings.topic_partitions
    )


def test_subject_metadata_is_served_back(admin, market):
    register(admin)

    entry = admin.get("/v1/subjects/market-regulation.business-licence").get_json()

    assert entry["owner"] == "market-regulation"
    assert entry["sensitivity"] == "internal"
    assert entry["key_field"] == "credit_code"
    assert entry["retention_days"] == 3650
    assert entry["compatibility"] == "BACKWARD"
    assert entry["latest_version"] == 1


def test_title_and_description_default_to_the_schemas_own(admin, market):
    body = registration()
    del body["title"], body["description"]
    schema = licence_schema() | {"description": "Licence of a market entity"}

    assert admin.post("/v1/subjects", json=body | {"schema": schema}).status_code == 201

    entry = admin.get("/v1/subjects/market-regulation.business-licence").get_json()
    assert entry["title"] == "Business licence"
    assert entry["description"] == "Licence of a market entity"


def test_registering_the_same_subject_again_identically_answers_200_with_the_same_version(
    market, hub
):
    assert register(market).status_code == 201
    # Same schema with other key order and whitespace: identical once canonicalised.
    reordered = json.loads(json.dumps(licence_schema(), sort_keys=True, indent=3))

    again = register(market, schema=reordered)

    assert again.status_code == 200
    assert again.get_json()["version"] == 1
    assert len(catalogue_for(hub).versions("market-regulation.business-licence")) == 1


def test_registering_an_existing_subject_with_another_schema_is_a_conflict(market):
    register(market)

    response = register(market, schema=licence_schema(extra={"type": "string"}))

    assert response.status_code == 409
    assert response.get_json()["type"] == PROBLEMS + "subject-exists"


def test_registering_an_existing_subject_with_other_metadata_is_a_conflict(market):
    register(market)

    response = register(market, sensitivity="secret")

    assert response.status_code == 409
    assert response.get_json()["type"] == PROBLEMS + "subject-exists"


def test_unknown_owner_is_refused_with_422_and_nothing_is_stored(admin, hub):
    response = register(admin, "nobody-here.records")

    assert response.status_code == 422
    assert response.get_json()["type"] == PROBLEMS + "unknown-owner"
    assert admin.get("/v1/subjects/nobody-here.records").status_code == 404
    assert "exchange.records.nobody-here.records" not in hub.transport.list_topics()


def test_subject_name_must_start_with_its_owner(admin, market, taxation):
    response = register(admin, "taxation.business-licence", owner="market-regulation")

    assert response.status_code == 422
    assert response.get_json()["type"] == PROBLEMS + "subject-name-mismatch"


def test_malformed_subject_name_is_refused_by_field(admin, market):
    response = register(admin, "Market_Regulation.Licence", owner="market-regulation")

    assert response.status_code == 422
    assert "subject" in response.get_json()["errors"]


def test_department_registering_for_another_department_is_forbidden(market, taxation, hub):
    response = register(taxation, "market-regulation.business-licence")

    assert response.status_code == 403
    assert response.get_json()["type"] == PROBLEMS + "not-subject-owner"
    assert taxation.get("/v1/subjects/market-regulation.business-licence").status_code == 404


def test_auditor_may_not_register_a_subject(admin, market):
    auditor = onboard_operator(admin, "inspector", "auditor")

    response = register(auditor)

    assert response.status_code == 403
    assert response.get_json()["type"] == PROBLEMS + "role-forbidden"


def test_key_field_must_be_a_declared_required_property(market):
    response = register(market, key_field="capital")

    assert response.status_code == 422
    assert response.get_json()["type"] == PROBLEMS + "key-field-not-declared"


def test_open_content_model_is_refused(market):
    schema = licence_schema()
    del schema["additionalProperties"]

    response = register(market, schema=schema)

    assert response.status_code == 422
    assert response.get_json()["type"] == PROBLEMS + "schema-open-content-model"


@pytest.mark.parametrize(
    ("change", "problem_type", "pointer"),
    [
        ({"type": "no-such-type"}, "schema-invalid", "/type"),
        (
            {"properties": {"credit_code": {"$ref": "https://evil.example/schema.json"}}},
            "schema-remote-reference",
            "/properties/credit_code/$ref",
        ),
        (
            {"properties": {"credit_code": {"type": "string", "pattern": "^(?=a)a+$"}}},
            "schema-unsafe-pattern",
            "/properties/credit_code/pattern",
        ),
        (
            {"properties": {"credit_code": {"type": "string", "pattern": "(a)\\1"}}},
            "schema-unsafe-pattern",
            "/properties/credit_code/pattern",
        ),
    ],
    ids=["bad-meta-schema", "remote-ref", "lookahead-pattern", "backreference-pattern"],
)
def test_unsafe_schema_is_refused_with_its_own_problem_type(
    market, hub, change, problem_type, pointer
):
    schema = licence_schema() | change
    if "properties" in change:
        schema["properties"] = licence_schema()["properties"] | change["properties"]

    response = register(market, schema=schema)

    assert response.status_code == 422, response.get_json()
    assert response.get_json()["type"] == PROBLEMS + problem_type
    assert response.get_json()["pointer"] == pointer
    assert market.get("/v1/subjects/market-regulation.business-licence").status_code == 404
    assert "exchange.records.market-regulation.business-licence" not in (
        hub.transport.list_topics()
    )


def test_oversized_schema_is_refused(market):
    padding = {f"field_{index}": {"type": "string", "maxLength": 10} for index in range(9000)}

    response = register(market, schema=licence_schema(**padding))

    assert response.status_code == 422
    assert response.get_json()["type"] == PROBLEMS + "schema-too-large"


def test_too_deep_schema_is_refused(market):
    deep: dict = {"type": "string"}
    for _ in range(40):
        deep = {"type": "array", "items": deep}

    response = register(market, schema=licence_schema(nested=deep))

    assert response.status_code == 422
    assert response.get_json()["type"] == PROBLEMS + "schema-too-deep"


def test_catastrophic_backtracking_pattern_is_harmless_and_the_hub_keeps_answering(market):
    # `^(a+)+$` takes exponential time in a backtracking engine on "aaaa...!" (Python's `re`
    # would not finish this record in any test run); the hub runs patterns in RE2, in time
    # linear in the input, so the schema is accepted and the hostile record is refused.
    subject = "market-regulation.business-licence"
    schema = licence_schema(motto={"type": "string", "pattern": "^(a+)+$"})
    assert register(market, schema=schema).status_code == 201
    hostile = {"credit_code": "9" * 18, "name": "x", "motto": "a" * 50_000 + "!"}

    refused = market.post(
        f"/v1/subjects/{subject}/records", json={"records": [{"payload": hostile}]}
    )
    next_request = market.get(f"/v1/subjects/{subject}")

    assert refused.status_code == 422
    [record_errors] = refused.get_json()["errors"]
    assert [error["path"] for error in record_errors["errors"]] == ["/motto"]
    assert next_request.status_code == 200


def test_refused_schema_leaves_the_hub_answering_the_next_request(market):
    refused = register(market, schema=licence_schema(x={"type": "string", "pattern": "(?<=a)b"}))

    accepted = register(market)

    assert refused.status_code == 422
    assert accepted.status_code == 201


def test_transport_down_answers_503_and_stores_no_subject(market, hub):
    embedded, hub.transport = hub.transport, KafkaTransport("127.0.0.1:1", request_timeout_s=2)
    try:
        response = register(market)
    finally:
        hub.transport.close()
        hub.transport = embedded

    assert response.status_code == 503
    assert response.get_json()["type"] == PROBLEMS + "transport-unavailable"
    assert market.get("/v1/subjects/market-regulation.business-licence").status_code == 404


@pytest.mark.parametrize("subject", sorted(EXAMPLE_KEY_FIELDS))
def test_every_example_schema_registers_through_the_api(admin, hub, subject):
    onboard_department(admin, subject.split(".", maxsplit=1)[0])
    schema = json.loads((SCHEMAS / f"{subject}.schema.json").read_text(encoding="utf-8"))

    response = register(
        admin, subject, schema=schema, key_field=EXAMPLE_KEY_FIELDS[subject], title=None
    )

    assert response.status_code == 201, response.get_json()
    stored = admin.get(f"/v1/subjects/{subject}/versions/1").get_json()
    assert stored["schema"] == schema
    assert f"exchange.records.{subject}" in hub.transport.list_topics()
