"""Checking an access report as an outside auditor would: with nothing but the hub's
published public keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exchange.audit.checkpoints import Checkpoint, verify_checkpoint
from exchange.audit.leaf import leaf_hash_of_document
from exchange.audit.merkle import verify_inclusion
from exchange.identity.keys import public_key_from_raw_b64


def published_keys(jwk_set: Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
    """The hub keys of a `GET /v1/hub/keys` answer, by key id."""
    return {key["kid"]: public_key_from_raw_b64(key["x"]) for key in jwk_set["keys"]}


def proven_accesses(report: Mapping[str, Any], keys: Mapping[str, Ed25519PublicKey]) -> list[bool]:
    """For each access of the report: whether its entry is proven to be in the log whose
    checkpoint the hub signed. Raises `SignatureMismatch` when the checkpoint is forged."""
    if report["checkpoint"] is None:
        return [False] * len(report["accesses"])
    checkpoint = Checkpoint.from_json(report["checkpoint"])
    verify_checkpoint(checkpoint, keys)
    return [_proven(access, checkpoint) for access in report["accesses"]]


def _proven(access: Mapping[str, Any], checkpoint: Checkpoint) -> bool:
    proof = access["proof"]
    if proof is None:
        return False
    return verify_inclusion(
        proof["leaf_index"],
        checkpoint.tree_size,
        leaf_hash_of_document(proof["entry"]),
        [bytes.fromhex(node) for node in proof["audit_path"]],
        checkpoint.root_hash,
    )
