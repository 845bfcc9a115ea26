"""In-memory stand-ins for the key directory and the nonce store, for signature tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exchange.identity.errors import RevokedKey, UnknownKey
from exchange.identity.keys import key_id_of


@dataclass
class InMemoryKeys:
    """Live and revoked keys by key id; counts look-ups so tests can see when it was asked."""

    live: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)
    lookups: list[str] = field(default_factory=list)

    def register(self, public_key: Ed25519PublicKey) -> str:
        key_id = key_id_of(public_key)
        self.live[key_id] = public_key
        return key_id

    def revoke(self, key_id: str) -> None:
        self.revoked.add(key_id)

    def resolve(self, key_id: str) -> Ed25519PublicKey:
        self.lookups.append(key_id)
        if key_id in self.revoked:
            raise RevokedKey(f"key {key_id!r} was revoked")
        if key_id not in self.live:
            raise UnknownKey(f"no key with id {key_id!r} is registered")
        return self.live[key_id]


@dataclass
class InMemoryNonces:
    """Nonces seen, with the time until which each is remembered."""

    seen: dict[tuple[str, str], datetime] = field(default_factory=dict)

    def remember(self, key_id: str, nonce: str, expires_at: datetime) -> bool:
        if (key_id, nonce) in self.seen:
            return False
        self.seen[(key_id, nonce)] = expires_at
        return True
