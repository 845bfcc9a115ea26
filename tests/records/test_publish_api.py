"""Publishing through the API: all or nothing, signed envelopes on the subject's topic,
idempotent retries, and refusals that change nothing."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from exchange.audit.checkpoints import hub_public_keys
from exchange.records.envelope import decode_envelope, topic_for
from exchange.signing.canonical import digest_of_json
from exchange.signing.hub_signer import verify_document
from exchange.store.repositories import AuditFilters, AuditRepository
from exchange.store.repositories.idempotency import IdempotencyRepository
from exchange.transport import open_transport
from tests.support.province import (
    LICENCE_SUBJECT,
    ROOT,
    example_schema,
    licence,
    register_licence_subject,
)
from tests.support.signed_client import onboard_department, onboard_operator

TOPIC = topic_for(LICENCE_SUBJECT)


def _records_on_topic(hub) -> list[dict]:
    consumer = hub.transport.consumer("test-reader", [TOPIC], start="earliest")
    try:
        found: list[dict] = []
        while batch := consumer.poll(500, 0.5):
            found += [decode_envelope(m.value) for m in batch]
        return found
    finally:
        consumer.close()


def _publish_audit_entries(hub) -> list:
    """The audit entries of publishes by market regulation, newest first."""
    entries = AuditRepository(hub.database).query(
        AuditFilters(actor="market-regulation", subject=LICENCE_SUBJECT), limit=100
    )
    return [e for e in entries if e.action.startswith("POST") and e.action.endswith("/records")]


def _publish(client, records, **kwargs):
    return client.post(
        f"/v1/subjects/{LICENCE_SUBJECT}/records", json={"records": records}, **kwargs
    )


@pytest.fixture
def market(admin):
    return register_licence_subject(admin)


def test_an_accepted_batch_is_on_the_topic_signed_by_the_hub(market, hub):
    response = _publish(market, [{"payload": licence(1)}, {"payload": licence(2)}])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["schema_version"] == 1
    assert [r["key"] for r in body["records"]] == [
        licence(1)["unified_social_credit_code"],
        licence(2)["unified_social_credit_code"],
    ]
    envelopes = {e["record_id"]: e for e in _records_on_topic(hub)}
    assert set(envelopes) == {r["record_id"] for r in body["records"]}
    keys = hub_public_keys(hub.database)
    for record in body["records"]:
        envelope = envelopes[record["record_id"]]
        verify_document(envelope, keys)
        assert envelope["producer"] == "market-regulation"
        assert envelope["payload_digest"] == digest_of_json(envelope["payload"])
        assert envelope["subject"] == LICENCE_SUBJECT


def test_one_invalid_record_refuses_the_whole_batch(market, hub):
    bad = licence(2)
    del bad["status"]
    response = _publish(
        market, [{"payload": licence(1)}, {"payload": bad}, {"payload": licence(3, status="bogus")}]
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["type"].endswith("/batch-invalid")
    assert [failure["index"] for failure in problem["errors"]] == [1, 2]
    assert _records_on_topic(hub) == []


def test_a_key_that_contradicts_the_key_field_is_refused(market, hub):
    response = _publish(market, [{"key": "someone-else", "payload": licence(1)}])
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["errors"][0]["path"] == "/key"


def test_only_the_owner_may_publish(admin, market, hub):
    tax = onboard_department(admin, "tax")
    auditor = onboard_operator(admin, "inspector", "auditor")
    assert _publish(tax, [{"payload": licence(1)}]).status_code == 403
    assert _publish(auditor, [{"payload": licence(1)}]).status_code == 403
    assert _publish(admin, [{"payload": licence(1)}]).status_code == 403
    assert _records_on_topic(hub) == []


def test_an_unknown_subject_is_a_404(market):
    response = market.post(
        "/v1/subjects/market-regulation.nothing/records", json={"records": [{"payload": {}}]}
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"records": []},
        {"records": [{"key": "x"}]},
        {"records": "many"},
        {"records": [], "extra": 1},
    ],
)
def test_malformed_batches_are_422(market, body):
    response = market.post(f"/v1/subjects/{LICENCE_SUBJECT}/records", json=body)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"


def test_a_batch_over_the_configured_maximum_is_refused(market, hub):
    hub.settings = replace(hub.settings, max_batch_records=2)
    response = _publish(market, [{"payload": licence(i)} for i in range(3)])
    assert response.status_code == 422
    assert _records_on_topic(hub) == []


def test_a_retry_with_the_same_idempotency_key_produces_nothing_again(market, hub):
    records = [{"payload": licence(1)}, {"payload": licence(2)}]
    first = _publish(market, records, headers={"Idempotency-Key": "batch-0001"})
    again = _publish(market, records, headers={"Idempotency-Key": "batch-0001"})
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(_records_on_topic(hub)) == 2


def test_the_same_idempotency_key_with_another_body_is_a_409(market, hub):
    assert (
        _publish(market, [{"payload": licence(1)}], headers={"Idempotency-Key": "k-1"}).status_code
        == 201
    )
    conflict = _publish(market, [{"payload": licence(9)}], headers={"Idempotency-Key": "k-1"})
    assert conflict.status_code == 409
    assert conflict.get_json()["type"].endswith("/idempotency-key-reused")
    assert len(_records_on_topic(hub)) == 1


def test_a_refused_batch_does_not_burn_its_idempotency_key(market, hub):
    bad = licence(1)
    del bad["status"]
    assert (
        _publish(market, [{"payload": bad}], headers={"Idempotency-Key": "k-2"}).status_code == 422
    )
    assert (
        _publish(market, [{"payload": bad}], headers={"Idempotency-Key": "k-2"}).status_code == 422
    )


def test_transport_failure_is_a_503_and_nothing_is_half_written(market, hub, tmp_path):
    # A real outage: the hub's transport becomes a Kafka client pointed at a closed port.
    healthy = hub.transport
    hub.transport = open_transport(
        "kafka", kafka_bootstrap_servers="127.0.0.1:1", kafka_request_timeout_s=2.0
    )
    hub.close_producer()
    try:
        response = _publish(market, [{"payload": licence(1)}], headers={"Idempotency-Key": "k-3"})
    finally:
        hub.close_producer()
        hub.transport.close()
        hub.transport = healthy
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert _records_on_topic(hub) == []
    # No audit entry claims success: the audit topic is on the same unreachable log, so the
    # refusal's own entry could not be kept either (a broker that refuses a batch but still
    # answers gets an `error` entry: tests/records/test_publish_on_kafka.py).
    assert _publish_audit_entries(hub) == []
    # Nothing was produced (the producer could not even start), so the key was released.
    assert IdempotencyRepository(hub.database).find("market-regulation", "k-3") is None
    retried = _publish(market, [{"payload": licence(1)}], headers={"Idempotency-Key": "k-3"})
    assert retried.status_code == 201
    assert len(_records_on_topic(hub)) == 1
    [succeeded] = _publish_audit_entries(hub)
    assert (succeeded.decision, succeeded.record_ids) == (
        "allow",
        (retried.get_json()["records"][0]["record_id"],),
    )


@pytest.mark.kafka
def test_a_retry_after_a_failed_produce_repeats_the_same_envelopes(market, hub, kafka_bootstrap):
    # The real broker lacks this subject's topic: the producer starts, the produce fails.
    healthy = hub.transport
    hub.transport = open_transport("kafka", kafka_bootstrap_servers=kafka_bootstrap)
    hub.close_producer()
    try:
        failed = _publish(market, [{"payload": licence(3)}], headers={"Idempotency-Key": "k-6"})
    finally:
        hub.close_producer()
        hub.transport.close()
        hub.transport = healthy
    assert failed.status_code == 503
    intended = IdempotencyRepository(hub.database).intent_of("market-regulation", "k-6")
    assert [e["key"] for e in intended] == [licence(3)["unified_social_credit_code"]]
    retried = _publish(market, [{"payload": licence(3)}], headers={"Idempotency-Key": "k-6"})
    assert retried.status_code == 201
    # Had the broker written the first attempt after all, its copy would carry the same
    # record id, and consumers would drop it.
    assert [r["record_id"] for r in retried.get_json()["records"]] == [
        e["record_id"] for e in intended
    ]


def test_a_claim_left_by_a_dead_hub_is_taken_over_with_the_same_records(market, hub):
    keys = IdempotencyRepository(hub.database)
    body = {"records": [{"payload": licence(5)}]}
    first = _publish(market, body["records"], headers={"Idempotency-Key": "k-4"})
    assert first.status_code == 201
    # A hub that died after producing and before recording its answer leaves a claim with
    # its intent: replay that state for a new key.
    answered = keys.find("market-regulation", "k-4")
    assert answered is not None
    digest = answered.request_digest
    envelopes = [
        e
        for e in _records_on_topic(hub)
        if e["record_id"] == first.get_json()["records"][0]["record_id"]
    ]
    assert keys.claim("market-regulation", "k-5", digest) is None
    keys.record_intent("market-regulation", "k-5", envelopes)
    assert _publish(market, body["records"], headers={"Idempotency-Key": "k-5"}).status_code == 409
    keys.abandon("market-regulation", "k-5")  # what staleness does after STALE_CLAIM
    retried = _publish(market, body["records"], headers={"Idempotency-Key": "k-5"})
    assert retried.status_code == 201
    assert retried.get_json()["records"][0]["record_id"] == envelopes[0]["record_id"]


def test_a_nested_key_field_gives_the_record_key(admin, hub):
    subject = "social-security.social-insurance-contribution"
    social = onboard_department(admin, "social-security")
    schema = example_schema(subject)
    registered = admin.post(
        "/v1/subjects",
        json={
            "subject": subject,
            "owner": "social-security",
            "key_field": "insured_person.citizen_id",
            "schema": schema,
        },
    )
    assert registered.status_code == 201, registered.get_json()
    examples = sorted((ROOT / "schemas" / "examples" / subject).glob("valid-*.json"))
    payload = json.loads(examples[0].read_text())
    response = social.post(
        f"/v1/subjects/{subject}/records", json={"records": [{"payload": payload}]}
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["records"][0]["key"] == payload["insured_person"]["citizen_id"]


def test_publishing_with_a_deprecated_version_is_refused_and_produces_nothing(market, hub):
    versions = f"/v1/subjects/{LICENCE_SUBJECT}/versions"
    assert market.delete(f"{versions}/1").status_code == 200

    response = market.post(
        f"/v1/subjects/{LICENCE_SUBJECT}/records",
        json={"schema_version": 1, "records": [{"payload": licence(1)}]},
    )

    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["type"].endswith("/schema-version-deprecated")
    assert (problem["subject"], problem["version"]) == (LICENCE_SUBJECT, 1)
    assert _records_on_topic(hub) == []


def test_the_envelope_on_the_topic_is_valid_under_the_published_envelope_schema(market, hub):
    envelope_schema = json.loads((ROOT / "schemas" / "envelope.schema.json").read_text())
    validator = Draft202012Validator(envelope_schema, format_checker=FormatChecker())
    assert _publish(market, [{"payload": licence(1)}]).status_code == 201

    [envelope] = _records_on_topic(hub)

    assert [error.message for error in validator.iter_errors(envelope)] == []
    # The envelope schema is closed, so the check above also catches a member it lacks.
    assert not validator.is_valid(envelope | {"unexpected": 1})
