"""Receiving end to end through the API (issue 5, "Receive"), on the embedded log and on
Kafka: a market-regulation system publishes business licences; the tax department, granted
a field list, pulls them projected and signed; civil affairs, without a grant, is refused."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta

import pytest

from exchange.audit.checkpoints import hub_public_keys
from exchange.records.delivery import envelope_of
from exchange.signing.canonical import digest_of_json
from exchange.signing.hub_signer import verify_document
from exchange.store.repositories import AuditFilters, AuditRepository
from tests.receive.support import DEADLINE_S
from tests.support.province import licence
from tests.support.signed_client import onboard_department

TAX_FIELDS = ["/unified_social_credit_code", "/enterprise_name", "/status"]
# Long enough to request, approve and subscribe on a busy machine; the test waits it out.
GRANT_LIFETIME = timedelta(seconds=4)


@pytest.fixture
def market(deployment):
    return deployment.register_licences()


@pytest.fixture
def tax(deployment, market):
    return onboard_department(deployment.admin, "tax")


@pytest.fixture
def tax_grant(deployment, market, tax):
    return deployment.grant(tax, market, TAX_FIELDS)


def _code(number: int) -> str:
    return licence(number)["unified_social_credit_code"]


def _audit_entries(deployment, action_suffix: str):
    entries = AuditRepository(deployment.hub.database).query(
        AuditFilters(subject=deployment.subject), limit=500
    )
    return [entry for entry in entries if entry.action.endswith(action_suffix)]


def test_a_grantee_pulls_records_projected_to_its_fields_and_signed_for_it(
    deployment, market, tax, tax_grant
):
    published = deployment.publish(market, licence(1), licence(2))
    subscription = deployment.subscribe(tax, tax_grant)

    deliveries, _ = deployment.pull_until(tax, subscription, 2)

    assert sorted(d["record_id"] for d in deliveries) == sorted(published)
    keys = hub_public_keys(deployment.hub.database)
    for delivery in deliveries:
        verify_document(delivery, keys)
        assert set(delivery["payload"]) == {
            "unified_social_credit_code",
            "enterprise_name",
            "status",
        }
        assert delivery["consumer"] == "tax"
        assert delivery["grant_id"] == tax_grant
        assert delivery["purpose"] == "tax registration checks"
        assert delivery["subject"] == deployment.subject
        assert "payload_digest" not in delivery
        assert envelope_of(delivery) is None


def test_a_whole_payload_grant_carries_the_envelope_signature_for_end_to_end_provenance(
    deployment, market, tax
):
    grant = deployment.grant(tax, market, None)
    deployment.publish(market, licence(3))
    subscription = deployment.subscribe(tax, grant)

    [delivery], _ = deployment.pull_until(tax, subscription, 1)

    assert delivery["payload"] == licence(3)
    assert delivery["payload_digest"] == digest_of_json(licence(3))
    envelope = envelope_of(delivery)
    assert envelope is not None
    verify_document(envelope, hub_public_keys(deployment.hub.database))


def test_a_department_without_a_grant_is_refused_and_the_refusal_is_audited(
    deployment, market, tax_grant
):
    civil = onboard_department(deployment.admin, "civil-affairs")
    deployment.publish(market, licence(4))

    subscribing = deployment.signed(civil).post(
        "/v1/subscriptions",
        json={"subject": deployment.subject, "grant_id": tax_grant, "from": "earliest"},
    )
    looking_up = deployment.signed(civil).get(
        f"/v1/subjects/{deployment.subject}/records/{_code(4)}"
    )

    assert subscribing.status_code == 403
    assert subscribing.mimetype == "application/problem+json"
    assert looking_up.status_code == 403
    refusals = [e for e in _audit_entries(deployment, "") if e.actor == "civil-affairs"]
    assert {e.action for e in refusals} == {
        "POST /v1/subscriptions",
        "GET /v1/subjects/<subject>/records/<path:key>",
    }
    assert all(e.decision == "deny" and e.record_ids == () for e in refusals)


def test_revocation_stops_delivery_and_lookup_at_once(deployment, market, tax, tax_grant):
    [first] = deployment.publish(market, licence(5))
    subscription = deployment.subscribe(tax, tax_grant)
    deployment.pull_until(tax, subscription, 1)
    deployment.wait_for_view(_code(5), first)

    revoked = deployment.signed(market).delete(f"/v1/grants/{tax_grant}")
    assert revoked.status_code == 200, revoked.get_json()
    deployment.publish(market, licence(6))

    pulled = deployment.pull(tax, subscription, wait_ms=200)
    looked_up = deployment.signed(tax).get(f"/v1/subjects/{deployment.subject}/records/{_code(5)}")

    assert pulled.status_code == 403
    assert pulled.get_json()["type"].endswith("/grant-revoked")
    assert looked_up.status_code == 403
    [refused_pull] = [e for e in _audit_entries(deployment, "/records") if e.decision == "deny"]
    [refused_lookup] = [e for e in _audit_entries(deployment, "<path:key>") if e.decision == "deny"]
    assert refused_pull.grant_id == tax_grant
    assert refused_pull.record_ids == ()
    assert refused_lookup.actor == "tax"


def test_an_expired_grant_delivers_nothing_to_pull_or_lookup(deployment, market, tax):
    [record_id] = deployment.publish(market, licence(8))
    deployment.wait_for_view(_code(8), record_id)
    expires_at = datetime.now(UTC) + GRANT_LIFETIME
    requested = deployment.signed(tax).post(
        "/v1/grants",
        json={
            "subject": deployment.subject,
            "purpose": "tax registration checks",
            "expires_at": expires_at.isoformat(),
        },
    )
    assert requested.status_code == 201, requested.get_json()
    grant_id = requested.get_json()["id"]
    approved = deployment.signed(market).post(f"/v1/grants/{grant_id}/approve", json={})
    assert approved.status_code == 200, approved.get_json()
    subscription = deployment.subscribe(tax, grant_id)

    # Wait the grant out (no timing is asserted: only what happens after the expiry).
    while (left := expires_at - datetime.now(UTC)) >= timedelta(0):
        time.sleep(left.total_seconds() + 0.05)
    pulled = deployment.pull(tax, subscription, wait_ms=200)
    looked_up = deployment.signed(tax).get(f"/v1/subjects/{deployment.subject}/records/{_code(8)}")

    assert pulled.status_code == 403
    assert pulled.get_json()["type"].endswith("/grant-expired")
    assert "records" not in pulled.get_json()
    assert looked_up.status_code == 403
    assert "payload" not in looked_up.get_json()
    refusals = [e for e in _audit_entries(deployment, "/records") if e.grant_id == grant_id]
    assert [(e.decision, e.record_ids) for e in refusals] == [("deny", ())]


def test_a_lookup_by_licence_number_returns_the_latest_version_projected(
    deployment, market, tax, tax_grant
):
    deployment.publish(market, licence(7, status="active"))
    [latest] = deployment.publish(market, licence(7, status="revoked"))
    deployment.wait_for_view(_code(7), latest)

    response = deployment.signed(tax).get(f"/v1/subjects/{deployment.subject}/records/{_code(7)}")
    missing = deployment.signed(tax).get(f"/v1/subjects/{deployment.subject}/records/{_code(999)}")

    assert response.status_code == 200, response.get_json()
    delivery = response.get_json()
    assert delivery["record_id"] == latest
    assert delivery["payload"]["status"] == "revoked"
    assert set(delivery["payload"]) == {"unified_social_credit_code", "enterprise_name", "status"}
    verify_document(delivery, hub_public_keys(deployment.hub.database))
    assert missing.status_code == 404
    [audited] = [e for e in _audit_entries(deployment, "<path:key>") if e.decision == "allow"]
    assert audited.record_ids == (latest,)
    assert (audited.grant_id, audited.purpose) == (tax_grant, "tax registration checks")


def test_each_pull_is_audited_with_the_records_the_purpose_and_the_grant(
    deployment, market, tax, tax_grant
):
    published = deployment.publish(market, licence(8), licence(9))
    subscription = deployment.subscribe(tax, tax_grant)

    deployment.pull_until(tax, subscription, 2)

    pulls = [
        e
        for e in _audit_entries(deployment, "/records")
        if e.action.startswith("GET /v1/subscriptions")
    ]
    assert sorted(r for e in pulls for r in e.record_ids) == sorted(published)
    assert {(e.grant_id, e.purpose, e.subject) for e in pulls} == {
        (tax_grant, "tax registration checks", deployment.subject)
    }


def test_records_of_one_key_keep_their_order_across_partitions(deployment, market, tax, tax_grant):
    statuses = ["active", "suspended", "active", "revoked"]
    expected: dict[str, list[str]] = {}
    for number in range(10, 16):
        for status in statuses:
            expected.setdefault(_code(number), []).extend(
                deployment.publish(market, licence(number, status=status))
            )
    subscription = deployment.subscribe(tax, tax_grant)

    deliveries, _ = deployment.pull_until(tax, subscription, 24)

    received: dict[str, list[str]] = {}
    for delivery in deliveries:
        received.setdefault(delivery["key"], []).append(delivery["record_id"])
    assert received == expected
    assert deployment.hub.transport.partition_count(f"exchange.records.{deployment.subject}") > 1


def test_a_restarted_hub_delivers_again_exactly_the_unacknowledged_records(
    deployment, market, tax, tax_grant
):
    acknowledged = deployment.publish(market, licence(20), licence(21))
    subscription = deployment.subscribe(tax, tax_grant)
    _, cursor = deployment.pull_until(tax, subscription, 2)
    assert deployment.ack(tax, subscription, cursor).status_code == 200
    unacknowledged = deployment.publish(market, licence(22), licence(23))
    before_restart, _ = deployment.pull_until(tax, subscription, 2)

    deployment.restart()
    again, cursor = deployment.pull_until(tax, subscription, 2)
    assert deployment.ack(tax, subscription, cursor).status_code == 200
    nothing_more = deployment.pull(tax, subscription, wait_ms=500).get_json()["records"]

    assert sorted(d["record_id"] for d in again) == sorted(unacknowledged)
    assert nothing_more == []
    assert not set(acknowledged) & {d["record_id"] for d in again}
    # The same delivery, so a consumer that saw it before the restart drops the copy.
    delivery_ids = {d["record_id"]: d["delivery_id"] for d in before_restart}
    assert {d["record_id"]: d["delivery_id"] for d in again} == delivery_ids


def test_unacknowledged_records_come_again_on_the_next_pull(deployment, market, tax, tax_grant):
    published = deployment.publish(market, licence(30))
    subscription = deployment.subscribe(tax, tax_grant)
    [first], _ = deployment.pull_until(tax, subscription, 1)

    [again], cursor = deployment.pull_until(tax, subscription, 1)
    acknowledged = deployment.ack(tax, subscription, cursor)
    after_the_ack = deployment.pull(tax, subscription, wait_ms=500).get_json()["records"]

    assert again["record_id"] == first["record_id"] == published[0]
    assert again["delivery_id"] == first["delivery_id"]
    assert acknowledged.status_code == 200
    assert after_the_ack == []


def test_a_later_pull_acknowledged_does_not_skip_an_earlier_unacknowledged_one(
    deployment, market, tax, tax_grant
):
    lost_answer = deployment.publish(market, licence(31), licence(32))
    subscription = deployment.subscribe(tax, tax_grant)
    deployment.pull_until(tax, subscription, 2)  # answered, but the consumer never saw it
    later = deployment.publish(market, licence(33))

    # The consumer, restarted, pulls until the new record comes and acknowledges that.
    received, cursor = _pull_until_it_holds(deployment, tax, subscription, set(later))
    assert deployment.ack(tax, subscription, cursor).status_code == 200
    deployment.restart()
    missing = set(lost_answer) - received
    received |= _pull_until_it_holds(deployment, tax, subscription, missing)[0]

    assert set(lost_answer) | set(later) <= received


def _pull_until_it_holds(
    deployment, consumer, subscription: str, wanted: set[str]
) -> tuple[set[str], str]:
    """Pull without acknowledging until `wanted` came (or the deadline passed): the
    record ids received, and the last cursor."""
    received: set[str] = set()
    cursor = ""
    deadline = time.monotonic() + DEADLINE_S
    while not wanted <= received and time.monotonic() < deadline:
        response = deployment.pull(consumer, subscription, max=100, wait_ms=500)
        assert response.status_code == 200, response.get_json()
        received |= {delivery["record_id"] for delivery in response.get_json()["records"]}
        cursor = response.get_json()["cursor"]
    return received, cursor


def test_pulls_and_acks_through_two_hub_processes_deliver_every_record_once(
    deployment, market, tax, tax_grant
):
    published = deployment.publish(market, *(licence(number) for number in range(60, 72)))
    subscription = deployment.subscribe(tax, tax_grant)
    processes = [None, deployment.another_process()]  # None: the deployment's own
    received: list[str] = []
    deadline = time.monotonic() + DEADLINE_S

    # Each pull goes to one process and its acknowledgement to the other, in turn.
    for turn in itertools.count():
        pull_via, ack_via = processes[turn % 2], processes[(turn + 1) % 2]
        pulled = deployment.pull(tax, subscription, via=pull_via, max=3, wait_ms=200)
        assert pulled.status_code == 200, pulled.get_json()
        records = pulled.get_json()["records"]
        if not records and (len(received) >= len(published) or time.monotonic() > deadline):
            break
        received += [delivery["record_id"] for delivery in records]
        if records:
            cursor = pulled.get_json()["cursor"]
            assert deployment.ack(tax, subscription, cursor, via=ack_via).status_code == 200

    assert sorted(received) == sorted(published)
    assert deployment.hub.transport.partition_count(f"exchange.records.{deployment.subject}") > 1


def test_a_latest_subscription_receives_only_records_published_after_it(
    deployment, market, tax, tax_grant
):
    deployment.publish(market, licence(40))
    subscription = deployment.subscribe(tax, tax_grant, start="latest")
    later = deployment.publish(market, licence(41))

    deployment.restart()  # the start is kept even though nothing was pulled yet
    deliveries, _ = deployment.pull_until(tax, subscription, 1)

    assert [d["record_id"] for d in deliveries] == later


def test_a_cursor_of_another_subscription_is_refused(deployment, market, tax, tax_grant):
    deployment.publish(market, licence(50))
    mine = deployment.subscribe(tax, tax_grant)
    other = deployment.subscribe(tax, tax_grant)
    _, cursor = deployment.pull_until(tax, mine, 1)

    response = deployment.ack(tax, other, cursor)
    garbage = deployment.ack(tax, mine, "not-a-cursor")

    assert response.status_code == 409
    assert response.get_json()["type"].endswith("/cursor-subscription-mismatch")
    assert garbage.status_code == 422


def test_only_the_subscribing_department_may_pull_or_acknowledge(
    deployment, market, tax, tax_grant
):
    subscription = deployment.subscribe(tax, tax_grant)
    civil = onboard_department(deployment.admin, "civil-affairs")
    cursor = deployment.pull(tax, subscription).get_json()["cursor"]

    assert deployment.pull(civil, subscription).status_code == 404
    assert deployment.ack(civil, subscription, cursor).status_code == 404
    assert deployment.pull(deployment.admin, subscription).status_code == 404


@pytest.mark.parametrize(
    "params",
    [{"max": 0}, {"max": 1001}, {"wait_ms": -1}, {"wait_ms": 30001}, {"max": "many"}],
)
def test_pull_parameters_out_of_range_are_refused(deployment, tax, tax_grant, params):
    subscription = deployment.subscribe(tax, tax_grant)

    response = deployment.pull(tax, subscription, **params)

    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == set(params)
