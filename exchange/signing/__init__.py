"""Canonical JSON (RFC 8785) and the hub's Ed25519 signatures over documents and bytes."""

from exchange.signing.canonical import (
    NotCanonicalisable,
    canonical_json,
    digest_of_json,
    sha256_hex,
)
from exchange.signing.hub_signer import (
    HubSigner,
    SignatureMismatch,
    verify_bytes,
    verify_document,
)

__all__ = [
    "HubSigner",
    "NotCanonicalisable",
    "SignatureMismatch",
    "canonical_json",
    "digest_of_json",
    "sha256_hex",
    "verify_bytes",
    "verify_document",
]
