"""Ed25519 keys: file storage, JWK/PEM exchange, refusal of other key kinds, RFC 7638 ids."""

from __future__ import annotations

import json
import os
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exchange.errors import ValidationFailed
from exchange.identity.errors import InvalidPublicKey, PrivateKeyError
from exchange.identity.keys import (
    generate_private_key,
    key_id_of,
    load_private_key,
    parse_public_key,
    public_key_from_raw_b64,
    public_key_to_jwk,
    raw_public_key_b64,
    write_private_key,
)
from exchange.signing.base64url import decode_base64url

# RFC 8037 Appendix A.1 (private key), A.2 (public key) and A.3 (its RFC 7638 thumbprint).
RFC8037_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def pem_of(public_key) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def test_key_id_is_the_rfc7638_thumbprint_of_rfc8037_example():
    public_key = parse_public_key({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X})
    assert key_id_of(public_key) == RFC8037_THUMBPRINT


def test_rfc8037_private_key_yields_its_published_public_key():
    private_key = Ed25519PrivateKey.from_private_bytes(decode_base64url(RFC8037_D))
    assert public_key_to_jwk(private_key.public_key()) == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": RFC8037_X,
    }


def test_written_key_file_is_owner_only_and_loads_back(tmp_path):
    key = generate_private_key()
    path = tmp_path / "nested" / "keys" / "department.pem"
    write_private_key(path, key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert key_id_of(load_private_key(path).public_key()) == key_id_of(key.public_key())


def test_rewriting_a_world_readable_key_file_makes_it_owner_only(tmp_path):
    path = tmp_path / "key.pem"
    path.write_text("old")
    os.chmod(path, 0o644)
    write_private_key(path, generate_private_key())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_loading_a_missing_key_file_names_the_file(tmp_path):
    with pytest.raises(PrivateKeyError, match=r"absent\.pem"):
        load_private_key(tmp_path / "absent.pem")


def test_loading_a_non_ed25519_key_file_is_refused(tmp_path):
    path = tmp_path / "rsa.pem"
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        rsa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(PrivateKeyError, match="not an Ed25519 key"):
        load_private_key(path)


def test_loading_a_file_that_is_not_a_key_is_refused(tmp_path):
    path = tmp_path / "junk.pem"
    path.write_text("hello")
    with pytest.raises(PrivateKeyError):
        load_private_key(path)


def test_jwk_dict_json_text_and_pem_all_parse_to_the_same_key():
    public_key = generate_private_key().public_key()
    jwk = public_key_to_jwk(public_key)
    expected = key_id_of(public_key)
    assert key_id_of(parse_public_key(jwk)) == expected
    assert key_id_of(parse_public_key(json.dumps(jwk))) == expected
    assert key_id_of(parse_public_key(pem_of(public_key))) == expected
    assert key_id_of(parse_public_key("\n" + pem_of(public_key) + "\n")) == expected


def test_raw_storage_form_round_trips():
    public_key = generate_private_key().public_key()
    stored = raw_public_key_b64(public_key)
    assert "=" not in stored
    assert key_id_of(public_key_from_raw_b64(stored)) == key_id_of(public_key)


@pytest.mark.parametrize(
    ("offered", "reason"),
    [
        ({"kty": "RSA", "n": "AQAB", "e": "AQAB"}, "kty"),
        ({"kty": "EC", "crv": "P-256", "x": RFC8037_X, "y": RFC8037_X}, "kty"),
        ({"kty": "OKP", "crv": "X25519", "x": RFC8037_X}, "crv"),
        ({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X + "="}, "base64url"),
        (
            {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKx+rfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
            "base64url",
        ),
        ({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}, "32 bytes"),
        ({"kty": "OKP", "crv": "Ed25519"}, "'x'"),
        ({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "d": RFC8037_D}, "private"),
        ('{"kty": "OKP", "crv": "Ed25519", "x": ', "does not parse"),
        ("[1, 2]", "JSON object"),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB", "expected a JWK"),
        ("", "expected a JWK"),
    ],
)
def test_keys_that_are_not_ed25519_public_keys_are_refused(offered, reason):
    with pytest.raises(InvalidPublicKey, match=reason) as refused:
        parse_public_key(offered)
    assert refused.value.status == 422
    assert refused.value.extra["errors"] == {"public_key": [refused.value.detail]}


@pytest.mark.parametrize(
    "other_key",
    [
        rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key(),
        ec.generate_private_key(ec.SECP256R1()).public_key(),
        x25519.X25519PrivateKey.generate().public_key(),
    ],
    ids=["rsa", "ec-p256", "x25519"],
)
def test_pem_keys_of_other_algorithms_are_refused(other_key):
    with pytest.raises(InvalidPublicKey, match="only Ed25519"):
        parse_public_key(pem_of(other_key))


def test_invalid_public_key_is_a_validation_failure():
    assert issubclass(InvalidPublicKey, ValidationFailed)
    assert InvalidPublicKey.type_slug == "invalid-public-key"
