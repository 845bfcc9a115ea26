"""Signed checkpoints: the hub's signature over the audit tree's size and root at a time.

A checkpoint is the JSON object `{tree_size, root_hash, at, key_id, signature}`:
`root_hash` is lowercase hex, `at` RFC 3339 UTC with microseconds, and `signature` the
hub's Ed25519 signature (unpadded base64url) over the RFC 8785 form of the checkpoint
without its `signature` member (so `key_id` is covered too).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exchange.audit.leaf import parse_rfc3339, rfc3339
from exchange.errors import ExchangeError
from exchange.identity.keys import key_id_of, load_private_key, public_key_from_raw_b64
from exchange.signing import HubSigner, canonical_json, verify_bytes
from exchange.store.database import Database
from exchange.store.repositories import HubKeyRepository

HASH_SIZE = 32


class MalformedCheckpoint(ExchangeError):
    """A checkpoint document lacks a member or has one of the wrong form."""

    status = 422
    type_slug = "malformed-checkpoint"
    title = "Malformed audit checkpoint"


@dataclass(frozen=True)
class Checkpoint:
    """A signed tree head of the audit log."""

    tree_size: int
    root_hash: bytes
    at: datetime
    key_id: str
    signature: str

    def signed_part(self) -> dict[str, Any]:
        """The members the signature covers."""
        return {
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "at": rfc3339(self.at),
            "key_id": self.key_id,
        }

    def to_json(self) -> dict[str, Any]:
        """The checkpoint as the API serves it and auditors save it."""
        return {**self.signed_part(), "signature": self.signature}

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Checkpoint:
        """Read a checkpoint saved from the API; raises `MalformedCheckpoint`."""
        try:
            tree_size = document["tree_size"]
            root_hash = bytes.fromhex(document["root_hash"])
            at = parse_rfc3339(document["at"])
            key_id, signature = document["key_id"], document["signature"]
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise MalformedCheckpoint(f"not an audit checkpoint: {error!r}") from error
        if not isinstance(tree_size, int) or isinstance(tree_size, bool) or tree_size < 0:
            raise MalformedCheckpoint("`tree_size` must be a non-negative integer")
        if len(root_hash) != HASH_SIZE:
            raise MalformedCheckpoint(f"`root_hash` must be {HASH_SIZE} bytes of hex")
        if not isinstance(key_id, str) or not isinstance(signature, str):
            raise MalformedCheckpoint("`key_id` and `signature` must be strings")
        return cls(tree_size, root_hash, at, key_id, signature)


def sign_checkpoint(
    signer: HubSigner, tree_size: int, root_hash: bytes, at: datetime
) -> Checkpoint:
    """Make the hub's checkpoint of the tree of `tree_size` leaves with this root."""
    unsigned = Checkpoint(tree_size, root_hash, at, signer.key_id, "")
    signature = signer.sign_bytes(canonical_json(unsigned.signed_part()))
    return Checkpoint(tree_size, root_hash, at, signer.key_id, signature)


def verify_checkpoint(checkpoint: Checkpoint, public_keys: Mapping[str, Ed25519PublicKey]) -> None:
    """Check the checkpoint's signature; raises `SignatureMismatch` naming the key id."""
    verify_bytes(
        canonical_json(checkpoint.signed_part()),
        checkpoint.signature,
        checkpoint.key_id,
        public_keys,
    )


def load_hub_signer(key_file: Path) -> HubSigner:
    """The hub's signer from its private key file (`settings.hub_key_file`)."""
    private_key = load_private_key(key_file)
    return HubSigner(private_key, key_id_of(private_key.public_key()))


def hub_public_keys(database: Database) -> dict[str, Ed25519PublicKey]:
    """Every hub key the store publishes (current and retired), by key id."""
    return {
        key.key_id: public_key_from_raw_b64(key.public_key)
        for key in HubKeyRepository(database).list()
    }
