"""The hub's signature covers the JCS form of a document without `hub.signature`:
any change is detected, re-serialisation is not."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given
from hypothesis import strategies as st

from exchange.errors import ExchangeError
from exchange.signing.base64url import decode_base64url, encode_base64url
from exchange.signing.canonical import NotCanonicalisable
from exchange.signing.hub_signer import (
    HubSigner,
    SignatureMismatch,
    verify_bytes,
    verify_document,
)


def key_id_of(private_key: Ed25519PrivateKey) -> str:
    """A key id as the tests need one: a short digest of the raw public key."""
    raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "hub-" + hashlib.sha256(raw).hexdigest()[:16]


def make_signer() -> HubSigner:
    private_key = Ed25519PrivateKey.generate()
    return HubSigner(private_key, key_id_of(private_key))


@pytest.fixture(scope="module")
def signer():
    return make_signer()


@pytest.fixture(scope="module")
def public_keys(signer):
    return {signer.key_id: signer.public_key}


def envelope() -> dict[str, Any]:
    return {
        "record_id": "01890a5d-ac96-774b-bcce-b302099a8057",
        "subject": "market-regulation.business-licence",
        "schema_version": 3,
        "producer": "market-regulation",
        "key": "LIC-2024-000117",
        "payload": {"holder": "Müller & Söhne", "employees": 12, "turnover": 1.5e6},
        "produced_at": "2024-05-01T09:30:00Z",
        "payload_digest": "sha-256:00",
        "hub": {"accepted_at": "2024-05-01T09:30:01Z"},
    }


def test_signed_document_verifies_with_the_hub_key(signer, public_keys):
    signed = signer.sign_document(envelope())
    verify_document(signed, public_keys)


def test_signing_keeps_hub_members_adds_key_id_and_leaves_input_untouched(signer):
    original = envelope()
    before = copy.deepcopy(original)
    signed = signer.sign_document(original)
    assert original == before
    assert signed["hub"]["accepted_at"] == "2024-05-01T09:30:01Z"
    assert signed["hub"]["key_id"] == signer.key_id
    assert len(decode_base64url(signed["hub"]["signature"])) == 64
    assert {k: v for k, v in signed.items() if k != "hub"} == {
        k: v for k, v in original.items() if k != "hub"
    }


def test_document_without_hub_member_gets_one(signer, public_keys):
    signed = signer.sign_document({"delivery": 1})
    assert set(signed["hub"]) == {"key_id", "signature"}
    verify_document(signed, public_keys)


def test_signed_bytes_are_exactly_the_jcs_form_without_the_signature(signer):
    private_key = Ed25519PrivateKey.generate()
    signer = HubSigner(private_key, "k1")
    doc = {"b": 2, "a": {"z": [1, 2.5, "x"], "é": None}, "hub": {"accepted_at": "T"}}
    signed = signer.sign_document(doc)
    hand_computed = '{"a":{"z":[1,2.5,"x"],"é":null},"b":2,"hub":{"accepted_at":"T","key_id":"k1"}}'
    signature = base64.urlsafe_b64decode(signed["hub"]["signature"] + "==")
    private_key.public_key().verify(signature, hand_computed.encode("utf-8"))
    # Ed25519 is deterministic: signing those bytes directly gives the same signature.
    assert private_key.sign(hand_computed.encode("utf-8")) == signature


def test_reordered_and_reserialised_document_still_verifies(signer, public_keys):
    signed = signer.sign_document(envelope())
    text = json.dumps(signed, indent=4, sort_keys=True, ensure_ascii=True)
    reparsed = json.loads(text)
    reordered = {key: reparsed[key] for key in reversed(list(reparsed))}
    reordered["hub"] = {key: reparsed["hub"][key] for key in reversed(list(reparsed["hub"]))}
    verify_document(reordered, public_keys)


def test_document_with_large_integral_number_verifies_after_json_round_trip(signer, public_keys):
    doc = envelope()
    doc["payload"]["turnover"] = 3.843358951389862e16
    signed = signer.sign_document(doc)
    verify_document(json.loads(json.dumps(signed)), public_keys)


@given(data=st.data())
def test_any_changed_payload_byte_is_detected(signer, public_keys, data):
    signed = signer.sign_document(envelope())
    text = json.dumps(signed["payload"], ensure_ascii=False)
    position = data.draw(st.integers(0, len(text) - 1))
    replacement = data.draw(st.characters(codec="utf-8").filter(lambda c: c != text[position]))
    altered_text = text[:position] + replacement + text[position + 1 :]
    try:
        altered_payload = json.loads(altered_text)
    except json.JSONDecodeError:
        return  # not a document any more: nothing to verify
    if altered_payload == signed["payload"]:
        return  # e.g. whitespace changed: same JSON value, same canonical bytes
    tampered = {**signed, "payload": altered_payload}
    with pytest.raises(SignatureMismatch, match=signer.key_id):
        verify_document(tampered, public_keys)


@pytest.mark.parametrize(
    "alter",
    [
        lambda doc: doc["payload"].update(employees=13),
        lambda doc: doc.update(subject="market-regulation.other"),
        lambda doc: doc.pop("payload_digest"),
        lambda doc: doc.update(extra=None),
        lambda doc: doc["hub"].update(accepted_at="2024-05-01T09:30:02Z"),
        lambda doc: doc["hub"].update(added="member"),
        lambda doc: doc["payload"].update(turnover=1500000.0000001),
    ],
)
def test_any_change_to_a_signed_member_is_detected(signer, public_keys, alter):
    tampered = signer.sign_document(envelope())
    alter(tampered)
    with pytest.raises(SignatureMismatch, match="does not verify"):
        verify_document(tampered, public_keys)


def test_changed_key_id_is_detected_even_when_that_key_is_known(signer, public_keys):
    other = make_signer()
    keys = {**public_keys, other.key_id: other.public_key}
    tampered = signer.sign_document(envelope())
    tampered["hub"]["key_id"] = other.key_id
    with pytest.raises(SignatureMismatch, match=other.key_id):
        verify_document(tampered, keys)


def test_unknown_key_id_is_refused_by_name(signer):
    signed = signer.sign_document(envelope())
    with pytest.raises(SignatureMismatch, match=f"unknown hub key id '{signer.key_id}'"):
        verify_document(signed, {})


def test_rotated_keys_both_verify_their_own_documents(signer):
    successor = make_signer()
    keys = {signer.key_id: signer.public_key, successor.key_id: successor.public_key}
    verify_document(signer.sign_document(envelope()), keys)
    verify_document(successor.sign_document(envelope()), keys)


def test_signature_made_by_another_key_under_our_key_id_is_detected(signer, public_keys):
    impostor = HubSigner(Ed25519PrivateKey.generate(), signer.key_id)
    with pytest.raises(SignatureMismatch, match="does not verify"):
        verify_document(impostor.sign_document(envelope()), public_keys)


def test_stripped_signature_is_detected(signer, public_keys):
    stripped = signer.sign_document(envelope())
    del stripped["hub"]["signature"]
    with pytest.raises(SignatureMismatch, match="signature"):
        verify_document(stripped, public_keys)


@pytest.mark.parametrize("hub", [None, "signed", [], {"key_id": 7, "signature": "AA"}])
def test_document_without_a_usable_hub_object_is_refused(signer, public_keys, hub):
    doc = signer.sign_document(envelope())
    doc["hub"] = hub
    with pytest.raises(SignatureMismatch):
        verify_document(doc, public_keys)


@pytest.mark.parametrize(
    "signature",
    ["", "not base64!", "AAAA", "AA==", lambda s: s + "=", lambda s: s[:-4], lambda s: "A" + s],
)
def test_malformed_signature_is_refused_naming_the_key(signer, public_keys, signature):
    doc = signer.sign_document(envelope())
    original = doc["hub"]["signature"]
    doc["hub"]["signature"] = signature(original) if callable(signature) else signature
    with pytest.raises(SignatureMismatch, match=signer.key_id):
        verify_document(doc, public_keys)


def test_document_that_is_not_canonical_json_is_refused(signer, public_keys):
    with pytest.raises(NotCanonicalisable):
        signer.sign_document({"amount": float("nan")})
    doc = signer.sign_document(envelope())
    doc["payload"]["amount"] = float("inf")
    with pytest.raises(SignatureMismatch, match="not canonical JSON"):
        verify_document(doc, public_keys)


def test_raw_bytes_signature_round_trips_and_detects_changes(signer, public_keys):
    checkpoint = b'{"root":"ab","size":8}'
    signature = signer.sign_bytes(checkpoint)
    verify_bytes(checkpoint, signature, signer.key_id, public_keys)
    with pytest.raises(SignatureMismatch, match="does not verify"):
        verify_bytes(checkpoint + b" ", signature, signer.key_id, public_keys)
    with pytest.raises(SignatureMismatch, match="unknown hub key id"):
        verify_bytes(checkpoint, signature, "hub-other", public_keys)
    with pytest.raises(SignatureMismatch, match="malformed"):
        verify_bytes(checkpoint, encode_base64url(b"\x00" * 63), signer.key_id, public_keys)


def test_signature_mismatch_is_an_exchange_error_carrying_the_key_id(signer):
    with pytest.raises(SignatureMismatch) as caught:
        verify_bytes(b"x", "AA", "hub-gone", {})
    assert isinstance(caught.value, ExchangeError)
    assert caught.value.extra["key_id"] == "hub-gone"


def test_signer_refuses_an_empty_key_id():
    with pytest.raises(ValueError, match="key id"):
        HubSigner(Ed25519PrivateKey.generate(), "")
