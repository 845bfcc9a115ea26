"""Why a request signature or a key was refused: one error type per reason.

Every signature refusal is a 401 with its own problem `type`, so a department's
developers can tell a clock problem from a wrong key without reading hub logs.
"""

from __future__ import annotations

from exchange.errors import BadRequest, ConfigurationError, Unauthenticated, ValidationFailed


class SignatureMissing(Unauthenticated):
    """The request carries no `Signature-Input` / `Signature` header."""

    type_slug = "signature-missing"
    title = "Request signature missing"


class SignatureMalformed(Unauthenticated):
    """The signature headers cannot be parsed, or do not follow the hub's profile."""

    type_slug = "signature-malformed"
    title = "Request signature malformed"


class SignatureComponents(Unauthenticated):
    """The signature does not cover every component the hub requires."""

    type_slug = "signature-components"
    title = "Request signature does not cover the required components"


class SignatureStale(Unauthenticated):
    """`created` is outside the hub's window, or `expires` has passed."""

    type_slug = "signature-stale"
    title = "Request signature outside its validity window"


class UnknownKey(Unauthenticated):
    """No key with the signature's `keyid` is registered."""

    type_slug = "key-unknown"
    title = "Unknown signing key"


class RevokedKey(Unauthenticated):
    """The signature's key was registered and has since been revoked."""

    type_slug = "key-revoked"
    title = "Revoked signing key"


class DigestMismatch(Unauthenticated):
    """`Content-Digest` is absent, unusable or does not match the body received."""

    type_slug = "digest-mismatch"
    title = "Content digest does not match the body"


class SignatureInvalid(Unauthenticated):
    """The Ed25519 signature does not verify over the signature base."""

    type_slug = "signature-invalid"
    title = "Request signature invalid"


class NonceReplayed(Unauthenticated):
    """The signature's nonce was already used with this key: a replay."""

    type_slug = "nonce-replayed"
    title = "Request nonce already used"


class InvalidPublicKey(ValidationFailed):
    """An offered public key is not an Ed25519 key in a form the hub accepts."""

    type_slug = "invalid-public-key"
    title = "Invalid public key"


class PrivateKeyError(ConfigurationError):
    """A private key file is missing, unreadable or not an Ed25519 PKCS#8 key."""

    type_slug = "private-key-unavailable"
    title = "Private key unavailable"


class UnsignableRequest(BadRequest):
    """The caller asked to sign a request that cannot satisfy the hub's profile."""

    type_slug = "unsignable-request"
    title = "Request cannot be signed"
