"""Signing with the canonical bytes returned (the publish path): the same signature and the
same bytes as signing the document and serialising it afterwards, for any document."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.records.envelope import decode_envelope, sign_envelope, timestamp
from exchange.signing.canonical import canonical_json, digest_of_json
from exchange.signing.hub_signer import HubSigner, verify_document

SIGNER = HubSigner(Ed25519PrivateKey.generate(), "hub-test-key")
PUBLIC_KEYS = {SIGNER.key_id: SIGNER.public_key}

# Names that sort differently by code point and by UTF-16 code unit, quotes, backslashes,
# control characters and NUL: everything canonical member ordering and escaping must get right.
names = st.one_of(
    st.sampled_from(["hub", "payload", "a", "", "\ufb01", "\U0001f600", 'q"', "\\", "\x00"]),
    st.text(max_size=6),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53) + 1, 2**53 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(names, inner, max_size=4)),
    max_leaves=12,
)
documents = st.dictionaries(names.filter(lambda name: name != "hub"), values, max_size=6)
hubs = st.dictionaries(names.filter(lambda name: name != "signature"), scalars, max_size=3)


@settings(max_examples=300, deadline=None)
@given(document=documents, hub=hubs, given_members=st.data())
def test_signing_with_bytes_matches_signing_then_serialising(
    document: dict[str, Any], hub: dict[str, Any], given_members: st.DataObject
) -> None:
    doc = {**document, "hub": hub}
    serialised_apart = given_members.draw(st.sets(st.sampled_from(sorted(document) or [""])))
    canonical_members = {
        name: canonical_json(doc[name]) for name in serialised_apart if name in document
    }

    signed = SIGNER.sign_document_canonical(doc, canonical_members)

    assert signed.document == SIGNER.sign_document(doc)  # Ed25519 signatures are deterministic
    assert signed.canonical == canonical_json(signed.document)
    verify_document(json.loads(signed.canonical), PUBLIC_KEYS)


def test_signing_with_bytes_leaves_the_input_untouched() -> None:
    doc = {"payload": {"n": 1}, "hub": {"accepted_at": "now", "signature": "stale"}}
    SIGNER.sign_document_canonical(doc, {"payload": canonical_json(doc["payload"])})
    assert doc == {"payload": {"n": 1}, "hub": {"accepted_at": "now", "signature": "stale"}}


def test_a_signed_envelope_message_carries_exactly_the_signed_envelope() -> None:
    payload = {"licence": "L-1", "holder": 'Zhang "San" \\ (fictional)', "employees": 12}
    now = timestamp(datetime.now(UTC))
    signed = sign_envelope(
        SIGNER,
        subject="market-regulation.business-licence",
        schema_version=2,
        producer="market-regulation",
        key="L-1",
        payload=payload,
        produced_at=now,
        accepted_at=now,
    )
    assert signed.message.value == canonical_json(signed.envelope)
    assert decode_envelope(signed.message.value) == signed.envelope
    verify_document(decode_envelope(signed.message.value), PUBLIC_KEYS)
    assert signed.envelope["payload_digest"] == digest_of_json(payload)
    assert signed.message.key == b"L-1"
    assert dict(signed.message.headers) == {
        "record_id": signed.envelope["record_id"].encode(),
        "subject": b"market-regulation.business-licence",
        "schema_version": b"2",
    }
