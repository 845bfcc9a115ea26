"""The hub's Ed25519 signature over documents it vouches for (record envelopes,
deliveries) and over raw bytes (audit checkpoints).

A signed document carries `hub: {..., key_id, signature}`. The signature is Ed25519
over the RFC 8785 form of the whole document with only `hub.signature` removed, so
every other member (including `hub.key_id` and `hub.accepted_at`) is covered, and
any party can re-serialise the document without breaking the signature.
"""

from __future__ import annotations

import copy
import functools
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from exchange.errors import ExchangeError
from exchange.signing.base64url import decode_base64url, encode_base64url
from exchange.signing.canonical import NotCanonicalisable, canonical_json

HUB_MEMBER = "hub"
KEY_ID_MEMBER = "key_id"
SIGNATURE_MEMBER = "signature"
ED25519_SIGNATURE_SIZE = 64


class SignatureMismatch(ExchangeError):
    """A hub signature does not verify: altered content, unknown key or malformed signature."""

    status = 422
    type_slug = "signature-mismatch"
    title = "Hub signature does not verify"


@dataclass(frozen=True)
class SignedDocument:
    """A document signed by the hub, with the RFC 8785 bytes of the whole signed document
    (signature included): what goes on the wire, so nobody serialises it again."""

    document: dict[str, Any]
    canonical: bytes


class HubSigner:
    """Signs documents and bytes with one hub key, identified by `key_id`."""

    def __init__(self, private_key: Ed25519PrivateKey, key_id: str) -> None:
        if not key_id:
            raise ValueError("a hub signing key needs a non-empty key id")
        self._private_key = private_key
        self.key_id = key_id

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The public half of the signing key, as published at `/v1/hub/keys`."""
        return self._private_key.public_key()

    def sign_document(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """Return a signed copy of `doc`; `doc` itself is left untouched.

        Existing `hub` members are kept, `hub.key_id` is set to this signer's key id
        and `hub.signature` (unpadded base64url) replaces any earlier signature.
        """
        signed = _without_signature(copy.deepcopy(dict(doc)))
        signed[HUB_MEMBER][KEY_ID_MEMBER] = self.key_id
        signed[HUB_MEMBER][SIGNATURE_MEMBER] = self.sign_bytes(canonical_json(signed))
        return signed

    def sign_document_canonical(
        self, doc: Mapping[str, Any], canonical_members: Mapping[str, bytes] | None = None
    ) -> SignedDocument:
        """Sign `doc` as `sign_document` does, and also return the signed document's RFC 8785
        bytes. `canonical_members` gives the canonical bytes of top-level members the caller
        has already serialised (a record's payload, for its digest), so that no member is
        serialised twice. Nested values are shared with `doc`, not copied.
        """
        signed = _without_signature(dict(doc))
        hub = signed[HUB_MEMBER]
        hub[KEY_ID_MEMBER] = self.key_id
        members = dict(canonical_members or {})
        # The rest of the document is serialised once; `hub` is filled in twice (without,
        # then with its signature) and the given members once each.
        template = _CanonicalTemplate(signed, holes=[*members, HUB_MEMBER])
        members[HUB_MEMBER] = canonical_json(hub)
        hub[SIGNATURE_MEMBER] = self.sign_bytes(template.filled(members))
        members[HUB_MEMBER] = canonical_json(hub)
        return SignedDocument(signed, template.filled(members))

    def sign_bytes(self, data: bytes) -> str:
        """Return the Ed25519 signature of `data` as unpadded base64url."""
        return encode_base64url(self._private_key.sign(data))


# What a hole of a `_CanonicalTemplate` holds until it is filled: a NUL (refused in every
# request body) and a token drawn at start-up, so no document's own content can match it.
_STAND_IN_PREFIX = "\x00" + secrets.token_hex(16) + ":"


@functools.lru_cache(maxsize=64)
def _marker(name: str) -> bytes:
    """The canonical bytes of the stand-in of member `name`."""
    return canonical_json(_STAND_IN_PREFIX + name)


class _CanonicalTemplate:
    """The RFC 8785 form of a document with some top-level members left as holes, to be
    filled with those members' own canonical bytes.

    JCS places a member by its name alone and writes its value on its own, so a member's
    bytes can be made apart and put in its place. Each hole holds a stand-in string no
    document carries (`_STAND_IN_PREFIX`); the holes are found once, in the template, so
    filled-in bytes are never searched.
    """

    def __init__(self, doc: Mapping[str, Any], holes: list[str]) -> None:
        text = canonical_json({**doc, **{name: _STAND_IN_PREFIX + name for name in holes}})
        markers = {name: _marker(name) for name in holes}
        self._pieces: list[bytes] = []
        self._holes: list[str] = []
        start = 0
        for at, name in sorted((text.index(marker), name) for name, marker in markers.items()):
            self._pieces.append(text[start:at])
            self._holes.append(name)
            start = at + len(markers[name])
        self._pieces.append(text[start:])

    def filled(self, members: Mapping[str, bytes]) -> bytes:
        """The document's canonical bytes with each hole filled by its member's bytes."""
        parts = [self._pieces[0]]
        for name, piece in zip(self._holes, self._pieces[1:], strict=True):
            parts += (members[name], piece)
        return b"".join(parts)


def verify_document(doc: Mapping[str, Any], public_keys: Mapping[str, Ed25519PublicKey]) -> None:
    """Check the hub signature of `doc` against the hub key named by `hub.key_id`.

    Raises `SignatureMismatch` (naming the key id) when the signature is missing or
    malformed, the key id is unknown, or any signed member was altered.
    """
    hub = doc.get(HUB_MEMBER)
    if not isinstance(hub, Mapping):
        raise SignatureMismatch("document has no `hub` object to verify")
    key_id = hub.get(KEY_ID_MEMBER)
    signature = hub.get(SIGNATURE_MEMBER)
    if not isinstance(key_id, str) or not isinstance(signature, str):
        raise SignatureMismatch(
            "document `hub` lacks a string `key_id` and `signature`", key_id=key_id
        )
    try:
        signed_bytes = canonical_json(_without_signature(dict(doc)))
    except NotCanonicalisable as error:
        raise SignatureMismatch(
            f"document signed with key {key_id!r} is not canonical JSON: {error.detail}",
            key_id=key_id,
        ) from error
    verify_bytes(signed_bytes, signature, key_id, public_keys)


def verify_bytes(
    data: bytes, signature: str, key_id: str, public_keys: Mapping[str, Ed25519PublicKey]
) -> None:
    """Check an unpadded base64url Ed25519 `signature` of `data` made with hub key `key_id`.

    Raises `SignatureMismatch` naming the key id on any failure.
    """
    public_key = public_keys.get(key_id)
    if public_key is None:
        raise SignatureMismatch(f"unknown hub key id {key_id!r}", key_id=key_id)
    try:
        signature_bytes = decode_base64url(signature)
    except ValueError as error:
        raise SignatureMismatch(
            f"malformed signature for hub key {key_id!r}: {error}", key_id=key_id
        ) from error
    if len(signature_bytes) != ED25519_SIGNATURE_SIZE:
        raise SignatureMismatch(
            f"malformed signature for hub key {key_id!r}: "
            f"{len(signature_bytes)} bytes, not {ED25519_SIGNATURE_SIZE}",
            key_id=key_id,
        )
    try:
        public_key.verify(signature_bytes, data)
    except InvalidSignature as error:
        raise SignatureMismatch(
            f"signature does not verify with hub key {key_id!r}", key_id=key_id
        ) from error


def _without_signature(doc: dict[str, Any]) -> dict[str, Any]:
    """Return `doc` (shallow) with a fresh `hub` object lacking its `signature` member."""
    hub = doc.get(HUB_MEMBER, {})
    if not isinstance(hub, Mapping):
        raise ValueError("document member `hub` must be an object")
    doc[HUB_MEMBER] = {name: value for name, value in hub.items() if name != SIGNATURE_MEMBER}
    return doc
