"""Deliveries and cursors as plain values: projection, signature, stable ids, provenance."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from exchange.identity.keys import generate_private_key, key_id_of
from exchange.records.cursors import (
    Cursor,
    CursorOfAnotherSubscription,
    MalformedCursor,
    decode_cursor,
)
from exchange.records.delivery import build_delivery, delivery_id_for, envelope_of
from exchange.records.envelope import build_envelope
from exchange.signing.hub_signer import HubSigner, SignatureMismatch, verify_document

NOW = datetime(2024, 12, 1, 9, 30, tzinfo=UTC)
PAYLOAD = {"code": "BL-1", "name": "Example Co.", "owner": {"name": "Zhang San", "id": "X"}}


@pytest.fixture
def signer() -> HubSigner:
    key = generate_private_key()
    return HubSigner(key, key_id_of(key.public_key()))


@pytest.fixture
def envelope(signer):
    return build_envelope(
        signer,
        subject="market-regulation.business-licence",
        schema_version=1,
        producer="market-regulation",
        key="BL-1",
        payload=PAYLOAD,
        produced_at=NOW,
        accepted_at=NOW,
    )


def _deliver(signer, envelope, fields, channel="sub-1"):
    return build_delivery(
        signer,
        envelope,
        channel_id=channel,
        consumer="tax",
        grant_id="grant-1",
        purpose="checks",
        fields=fields,
        delivered_at=NOW,
    )


def test_a_delivery_holds_only_the_granted_fields_and_verifies(signer, envelope):
    delivery = _deliver(signer, envelope, ["/code", "/owner/name"])

    assert delivery["payload"] == {"code": "BL-1", "owner": {"name": "Zhang San"}}
    verify_document(delivery, {signer.key_id: signer.public_key})
    assert "envelope_signature" not in delivery


def test_altering_any_member_of_a_delivery_breaks_its_signature(signer, envelope):
    delivery = _deliver(signer, envelope, ["/code"])
    keys = {signer.key_id: signer.public_key}

    for member, value in [
        ("payload", {"code": "BL-2"}),
        ("consumer", "civil-affairs"),
        ("purpose", "x"),
    ]:
        with pytest.raises(SignatureMismatch):
            verify_document({**delivery, member: value}, keys)


def test_a_whole_payload_delivery_rebuilds_the_envelope_the_hub_accepted(signer, envelope):
    delivery = _deliver(signer, envelope, None)

    assert envelope_of(delivery) == envelope
    rebuilt = envelope_of(delivery)
    assert rebuilt is not None
    verify_document(rebuilt, {signer.key_id: signer.public_key})


def test_delivery_ids_are_stable_per_channel_and_record(signer, envelope):
    first = _deliver(signer, envelope, None)
    again = _deliver(signer, envelope, ["/code"])
    elsewhere = _deliver(signer, envelope, None, channel="sub-2")

    assert (
        first["delivery_id"]
        == again["delivery_id"]
        == delivery_id_for("sub-1", envelope["record_id"])
    )
    assert elsewhere["delivery_id"] != first["delivery_id"]


def test_a_cursor_reads_back_for_its_own_subscription_only():
    text = Cursor("sub-1", {0: 5, 2: 9}).encode()

    assert decode_cursor(text, "sub-1") == Cursor("sub-1", {0: 5, 2: 9})
    with pytest.raises(CursorOfAnotherSubscription):
        decode_cursor(text, "sub-2")


@pytest.mark.parametrize("text", ["", "not base64!", "e30", "eyJzdWJzY3JpcHRpb24iOjF9"])
def test_a_cursor_the_hub_did_not_issue_is_malformed(text):
    with pytest.raises(MalformedCursor):
        decode_cursor(text, "sub-1")
