"""RFC 9530 `Content-Digest`: what a signed request says its body hashes to.

The hub always requires a `sha-256` member; a `sha-512` member, when also sent,
must match too. Other algorithms are ignored, as RFC 9530 section 2 allows.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

import http_sf
from http_message_signatures import ContentDigest

from exchange.identity.errors import DigestMismatch

REQUIRED_ALGORITHM = "sha-256"
_HASHES: dict[str, Callable[[bytes], hashlib._Hash]] = {
    "sha-256": hashlib.sha256,
    "sha-512": hashlib.sha512,
}


def content_digest(body: bytes) -> str:
    """The `Content-Digest` field value of `body`: `sha-256=:<base64>:`."""
    value: str = ContentDigest.create(body)
    return value


def check_content_digest(field_value: str | None, body: bytes) -> None:
    """Raise `DigestMismatch` unless `field_value` has a sha-256 digest of `body` (and every
    other known digest in it matches too)."""
    if field_value is None:
        raise DigestMismatch("the request has a body but no Content-Digest header")
    digests = _parse_digests(field_value)
    if REQUIRED_ALGORITHM not in digests:
        raise DigestMismatch(
            f"Content-Digest has no {REQUIRED_ALGORITHM} member "
            f"(found: {', '.join(digests) or 'none'})"
        )
    for algorithm, claimed in digests.items():
        if algorithm in _HASHES and not hmac.compare_digest(
            claimed, _HASHES[algorithm](body).digest()
        ):
            raise DigestMismatch(
                f"the {algorithm} Content-Digest does not match the {len(body)}-byte body received"
            )


def _parse_digests(field_value: str) -> dict[str, bytes]:
    try:
        parsed = http_sf.parse(field_value.encode("ascii"), tltype="dictionary")
    except (ValueError, UnicodeEncodeError) as error:
        raise DigestMismatch(
            f"Content-Digest is not a structured-field dictionary: {error}"
        ) from error
    assert isinstance(parsed, dict)  # tltype="dictionary" yields a dict
    digests: dict[str, bytes] = {}
    for algorithm, member in parsed.items():
        value = member[0] if isinstance(member, tuple) else member
        if not isinstance(value, bytes):
            raise DigestMismatch(f"Content-Digest member {algorithm!r} is not a byte sequence")
        digests[algorithm] = value
    return digests
