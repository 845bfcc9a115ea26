"""A signer written from the RFC 9421 / RFC 9530 text alone (cryptography + string building,
none of the project's signing code) produces requests the hub accepts: the profile is
implementable by a department system in any language."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exchange.identity.errors import SignatureInvalid
from exchange.identity.signatures import HttpRequestParts, verify_request
from tests.identity.fakes import InMemoryKeys, InMemoryNonces

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
URI = "https://hub.example.gov/v1/subjects/market-regulation.business-licence/records?dry_run=true"
BODY = b'{"licence":"BL-1","holder":"Acme"}'


def independent_sign(
    method: str,
    uri: str,
    headers: dict[str, str],
    private_key: Ed25519PrivateKey,
    key_id: str,
    *,
    covered: list[str],
    parameter_order: list[str],
    created: int,
) -> dict[str, str]:
    """RFC 9421 section 2.5 by hand: one line per component, then the @signature-params line."""
    values = {"@method": method, "@target-uri": uri} | {k.lower(): v for k, v in headers.items()}
    parameters = {
        "created": str(created),
        "keyid": f'"{key_id}"',
        "alg": '"ed25519"',
        "nonce": f'"{secrets.token_hex(16)}"',
        "tag": '"exchange"',
    }
    inner_list = "(" + " ".join(f'"{name}"' for name in covered) + ")"
    inner_list += "".join(f";{name}={parameters[name]}" for name in parameter_order)
    lines = [f'"{name}": {values[name]}' for name in covered]
    lines.append(f'"@signature-params": {inner_list}')
    signature = private_key.sign("\n".join(lines).encode("ascii"))
    return {
        "Signature-Input": f"sig1={inner_list}",
        "Signature": f"sig1=:{base64.b64encode(signature).decode()}:",
    }


def digest_field(*algorithms: str) -> str:
    hashes = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}
    return ", ".join(
        f"{name}=:{base64.b64encode(hashes[name](BODY).digest()).decode()}:" for name in algorithms
    )


@pytest.fixture
def private_key():
    return Ed25519PrivateKey.generate()


@pytest.fixture
def keys():
    return InMemoryKeys()


def test_independently_signed_post_with_body_is_accepted(private_key, keys):
    key_id = keys.register(private_key.public_key())
    headers = {"Content-Type": "application/json", "Content-Digest": digest_field("sha-256")}
    headers |= independent_sign(
        "POST",
        URI,
        headers,
        private_key,
        key_id,
        covered=["@method", "@target-uri", "content-digest", "content-type"],
        parameter_order=["created", "keyid", "alg", "nonce", "tag"],
        created=int(NOW.timestamp()),
    )
    request = HttpRequestParts("POST", URI, headers, BODY)
    verified = verify_request(request, keys, InMemoryNonces(), now=NOW)
    assert verified.key_id == key_id


def test_component_and_parameter_order_is_the_signers_choice(private_key, keys):
    key_id = keys.register(private_key.public_key())
    headers = {
        "content-type": "application/json",
        "content-digest": digest_field("sha-256", "sha-512"),
        "X-Request-Id": "r-1",
    }
    headers |= independent_sign(
        "POST",
        URI,
        headers,
        private_key,
        key_id,
        covered=["content-type", "x-request-id", "content-digest", "@target-uri", "@method"],
        parameter_order=["tag", "nonce", "keyid", "created", "alg"],
        created=int(NOW.timestamp()) - 100,
    )
    request = HttpRequestParts("POST", URI, headers, BODY)
    verified = verify_request(request, keys, InMemoryNonces(), now=NOW)
    assert "x-request-id" in verified.covered_components


def test_independently_signed_get_without_body_is_accepted(private_key, keys):
    key_id = keys.register(private_key.public_key())
    uri = "https://hub.example.gov/v1/departments?cursor=abc&limit=10"
    headers = independent_sign(
        "GET",
        uri,
        {},
        private_key,
        key_id,
        covered=["@method", "@target-uri"],
        parameter_order=["created", "keyid", "alg", "nonce", "tag"],
        created=int(NOW.timestamp()),
    )
    verify_request(HttpRequestParts("GET", uri, headers, b""), keys, InMemoryNonces(), now=NOW)


def test_independent_signature_over_another_uri_is_refused(private_key, keys):
    key_id = keys.register(private_key.public_key())
    headers = independent_sign(
        "GET",
        URI,
        {},
        private_key,
        key_id,
        covered=["@method", "@target-uri"],
        parameter_order=["created", "keyid", "alg", "nonce", "tag"],
        created=int(NOW.timestamp()),
    )
    other = URI.replace("dry_run=true", "dry_run=false")
    with pytest.raises(SignatureInvalid):
        verify_request(
            HttpRequestParts("GET", other, headers, b""), keys, InMemoryNonces(), now=NOW
        )
