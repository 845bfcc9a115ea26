"""Ed25519 keys: generating, storing, loading, exchanging (JWK / PEM) and naming them.

A key's id is its RFC 7638 JWK thumbprint, so anyone holding the public key can
compute the id the hub will use for it, and the same key always gets the same id.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from exchange.identity.errors import InvalidPublicKey, PrivateKeyError
from exchange.signing.base64url import decode_base64url, encode_base64url

ED25519_KEY_SIZE = 32
PRIVATE_KEY_FILE_MODE = 0o600
KEY_DIRECTORY_MODE = 0o700


def generate_private_key() -> Ed25519PrivateKey:
    """A fresh Ed25519 private key."""
    return Ed25519PrivateKey.generate()


def write_private_key(path: str | Path, key: Ed25519PrivateKey) -> None:
    """Store `key` as unencrypted PKCS#8 PEM, readable by its owner only.

    The file is created with mode 0600 by `os.open` itself, so it is never
    world-readable, not even between creation and a later chmod.
    """
    target = Path(path)
    target.parent.mkdir(mode=KEY_DIRECTORY_MODE, parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(target, flags, PRIVATE_KEY_FILE_MODE)
    with os.fdopen(descriptor, "wb") as file:
        # An existing file keeps its old mode through O_CREAT; tighten it before writing.
        os.fchmod(file.fileno(), PRIVATE_KEY_FILE_MODE)
        file.write(pem)


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    """Read an Ed25519 private key written by `write_private_key` (PKCS#8 PEM)."""
    source = Path(path)
    try:
        pem = source.read_bytes()
    except OSError as error:
        raise PrivateKeyError(f"cannot read private key file {source}: {error.strerror}") from error
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise PrivateKeyError(
            f"{source} is not an unencrypted PKCS#8 PEM private key: {error}"
        ) from error
    if not isinstance(key, Ed25519PrivateKey):
        raise PrivateKeyError(f"{source} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def public_key_to_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    """The RFC 8037 JWK form of an Ed25519 public key."""
    return {"kty": "OKP", "crv": "Ed25519", "x": raw_public_key_b64(public_key)}


def parse_public_key(value: str | Mapping[str, Any]) -> Ed25519PublicKey:
    """Read an Ed25519 public key offered as a JWK (dict or JSON text) or as PEM.

    Anything else (RSA, EC, another curve, a private JWK, bad base64) is refused
    with `InvalidPublicKey`, naming what was wrong.
    """
    if isinstance(value, Mapping):
        return _public_key_from_jwk(value)
    if not isinstance(value, str):
        raise _invalid(f"expected a JWK object or a PEM string, not {type(value).__name__}")
    text = value.strip()
    if text.startswith(("{", "[")):
        return _public_key_from_jwk(_json_object(text))
    if text.startswith("-----BEGIN PUBLIC KEY-----"):
        return _public_key_from_pem(text)
    raise _invalid(
        "expected a JWK object or a PEM SubjectPublicKeyInfo ('-----BEGIN PUBLIC KEY-----')"
    )


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """The RFC 7638 JWK thumbprint (SHA-256, base64url without padding) of a public key."""
    jwk = public_key_to_jwk(public_key)
    required_members = {name: jwk[name] for name in ("crv", "kty", "x")}
    return encode_base64url(hashlib.sha256(rfc8785.dumps(required_members)).digest())


def raw_public_key_b64(public_key: Ed25519PublicKey) -> str:
    """The 32 raw key bytes, base64url without padding: the form the store keeps."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return encode_base64url(raw)


def public_key_from_raw_b64(text: str) -> Ed25519PublicKey:
    """The inverse of `raw_public_key_b64`."""
    try:
        raw = decode_base64url(text)
    except ValueError as error:
        raise _invalid(f"key bytes are not unpadded base64url: {error}") from error
    if len(raw) != ED25519_KEY_SIZE:
        raise _invalid(f"an Ed25519 public key has {ED25519_KEY_SIZE} bytes, not {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def _public_key_from_jwk(jwk: Mapping[str, Any]) -> Ed25519PublicKey:
    if jwk.get("kty") != "OKP":
        raise _invalid(f"JWK kty must be 'OKP' (Ed25519), not {jwk.get('kty')!r}")
    if jwk.get("crv") != "Ed25519":
        raise _invalid(f"JWK crv must be 'Ed25519', not {jwk.get('crv')!r}")
    if "d" in jwk:
        # Refused rather than stripped: the private half has already left its owner.
        raise _invalid("the JWK contains a private key ('d'); send only the public members")
    x = jwk.get("x")
    if not isinstance(x, str):
        raise _invalid("JWK member 'x' must be a string")
    return public_key_from_raw_b64(x)


def _public_key_from_pem(pem: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError, UnsupportedAlgorithm) as error:
        raise _invalid(f"not a readable PEM public key: {error}") from error
    if not isinstance(key, Ed25519PublicKey):
        raise _invalid(f"the PEM holds a {type(key).__name__}; only Ed25519 keys are accepted")
    return key


def _json_object(text: str) -> Mapping[str, Any]:
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as error:
        raise _invalid(f"the key looks like JSON but does not parse: {error}") from error
    if not isinstance(parsed, dict):
        raise _invalid("a JWK must be a JSON object")
    return parsed


def _invalid(reason: str) -> InvalidPublicKey:
    return InvalidPublicKey(reason, errors={"public_key": [reason]})
