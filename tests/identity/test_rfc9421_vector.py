"""The signature base code reproduces RFC 9421 Appendix B.2.6 (ed25519) exactly."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from exchange.identity.signature_base import HttpRequestParts, SignatureInput, signature_base
from exchange.identity.signatures import parse_signature_input

VECTOR_FILE = Path(__file__).resolve().parents[1] / "vectors" / "rfc9421-b26-ed25519.json"
# The signature base printed in RFC 9421 Appendix B.2.6.
EXPECTED_BASE = (
    '"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    '"@method": POST\n'
    '"@path": /foo\n'
    '"@authority": example.com\n'
    '"content-type": application/json\n'
    '"content-length": 18\n'
    '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" '
    '"content-length");created=1618884473;keyid="test-key-ed25519"'
)


@pytest.fixture(scope="module")
def vector() -> dict[str, Any]:
    return json.loads(VECTOR_FILE.read_text())


def request_of(vector) -> HttpRequestParts:
    request = vector["request"]
    return HttpRequestParts(
        method=request["method"],
        target_uri=request["target_uri"],
        headers=request["headers"],
        body=request["body"].encode(),
    )


def signature_input_of(vector) -> tuple[str, SignatureInput]:
    label = vector["signature_input"].split("=", 1)[0]
    return label, parse_signature_input(vector["signature_input"], label=label)


def private_key_of(vector) -> Ed25519PrivateKey:
    key = load_pem_private_key(vector["private_key_pem"].encode(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def expected_signature_of(vector) -> bytes:
    _, encoded = vector["expected_signature"].split("=", 1)
    return base64.b64decode(encoded.strip(":"))


def test_signature_base_matches_the_rfc_text(vector):
    _, signature_input = signature_input_of(vector)
    assert signature_base(request_of(vector), signature_input).decode() == EXPECTED_BASE


def test_signing_the_rebuilt_base_gives_the_rfc_signature(vector):
    label, signature_input = signature_input_of(vector)
    base = signature_base(request_of(vector), signature_input)
    signature = private_key_of(vector).sign(base)
    assert f"{label}=:{base64.b64encode(signature).decode()}:" == vector["expected_signature"]


def test_the_rfc_signature_verifies_over_the_rebuilt_base(vector):
    _, signature_input = signature_input_of(vector)
    base = signature_base(request_of(vector), signature_input)
    public_key = private_key_of(vector).public_key()
    public_key.verify(expected_signature_of(vector), base)  # raises if it does not verify


def test_the_serialised_signature_input_round_trips(vector):
    label, signature_input = signature_input_of(vector)
    assert f"{label}={signature_input.serialized()}" == vector["signature_input"]
