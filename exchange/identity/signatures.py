"""Signing and verifying requests with RFC 9421 HTTP Message Signatures, the hub's profile.

Profile: one signature labelled `sig1`, `alg="ed25519"`, `tag="exchange"`, with
parameters `created`, `keyid` and `nonce` (`expires` optional), covering `@method`
and `@target-uri`, plus `content-digest` (RFC 9530, sha-256) and `content-type`
when the request has a body. `docs/signing.md` explains it to other implementers.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import http_sf
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from http_sf.types import BareItemType

from exchange.identity.content_digest import check_content_digest, content_digest
from exchange.identity.errors import (
    NonceReplayed,
    SignatureComponents,
    SignatureInvalid,
    SignatureMalformed,
    SignatureMissing,
    SignatureStale,
    UnsignableRequest,
)
from exchange.identity.signature_base import (
    Component,
    HttpRequestParts,
    SignatureInput,
    UnresolvableComponentError,
    signature_base,
)

__all__ = [
    "HttpRequestParts",
    "NonceRegistry",
    "PublicKeyResolver",
    "VerifiedSignature",
    "content_digest",
    "parse_signature_input",
    "sign_request",
    "verify_request",
]

LABEL = "sig1"
ALGORITHM = "ed25519"
TAG = "exchange"
ALWAYS_COVERED = ("@method", "@target-uri")
COVERED_WITH_BODY = ("content-digest", "content-type")
KNOWN_PARAMETERS = frozenset({"alg", "created", "expires", "keyid", "nonce", "tag"})
NONCE_BYTES = 16
NONCE_LENGTH = range(16, 257)
KEY_ID_LENGTH = range(1, 257)
ED25519_SIGNATURE_SIZE = 64


@dataclass(frozen=True)
class VerifiedSignature:
    """What a verified signature proves: who signed (key), when, and which parts it covers."""

    key_id: str
    created: int
    expires: int | None
    nonce: str
    covered_components: tuple[str, ...]


@dataclass(frozen=True)
class _Claims:
    """The signature parameters, checked against the profile and typed."""

    key_id: str
    created: int
    expires: int | None
    nonce: str


class PublicKeyResolver(Protocol):
    """Finds the live public key for a key id."""

    def resolve(self, key_id: str) -> Ed25519PublicKey:
        """The key; raise `UnknownKey` or `RevokedKey` when there is no live one."""
        ...


class NonceRegistry(Protocol):
    """Remembers nonces so that a signed request is accepted once only, across hub instances."""

    def remember(self, key_id: str, nonce: str, expires_at: datetime) -> bool:
        """Record the nonce until `expires_at`; False when it was already recorded (a replay)."""
        ...


def sign_request(  # noqa: PLR0917 (positional order is the published API)
    method: str,
    target_uri: str,
    headers: Mapping[str, str],
    body: bytes,
    private_key: Ed25519PrivateKey,
    key_id: str,
    *,
    created: int | None = None,
    expires: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Sign a request; return the headers to add (`Signature-Input`, `Signature` and, when
    there is a body, `Content-Digest`). `target_uri` must be exactly the URL sent."""
    added: dict[str, str] = {}
    components = list(ALWAYS_COVERED)
    if body:
        if not _lookup(headers, "content-type"):
            raise UnsignableRequest(
                "a request with a body needs a Content-Type header to be signed"
            )
        added["Content-Digest"] = content_digest(body)
        components += COVERED_WITH_BODY
    parameters: dict[str, BareItemType] = {
        "created": int(time.time()) if created is None else created
    }
    if expires is not None:
        parameters["expires"] = expires
    parameters |= {
        "keyid": key_id,
        "alg": ALGORITHM,
        "nonce": secrets.token_urlsafe(NONCE_BYTES) if nonce is None else nonce,
        "tag": TAG,
    }
    signature_input = SignatureInput(tuple(Component(name) for name in components), parameters)
    request = HttpRequestParts(method, target_uri, {**_without(headers, added), **added}, body)
    try:
        base = signature_base(request, signature_input)
    except UnresolvableComponentError as error:
        raise UnsignableRequest(str(error)) from error
    added["Signature-Input"] = f"{LABEL}={signature_input.serialized()}"
    added["Signature"] = http_sf.ser({LABEL: (private_key.sign(base), {})})
    return added


def verify_request(
    request: HttpRequestParts,
    keys: PublicKeyResolver,
    nonces: NonceRegistry,
    *,
    now: datetime,
    window_s: int = 300,
) -> VerifiedSignature:
    """Verify the request's `sig1` signature; raise the `Unauthenticated` subclass naming why not.

    Cheap checks come first and the nonce is consumed last, once the signature has
    verified, so that forged requests cannot use up a legitimate client's nonces.
    """
    signature_input, signature = _read_signature(request.headers)
    claims = _require_profile(signature_input)
    _require_coverage(signature_input, has_body=bool(request.body))
    _require_fresh(claims, now, window_s)
    public_key = keys.resolve(claims.key_id)
    content_digest_value = _lookup(request.headers, "content-digest")
    if request.body or content_digest_value is not None:
        check_content_digest(content_digest_value, request.body)
    _require_valid_signature(request, signature_input, signature, public_key)
    # `_require_fresh` compares whole seconds, so a request is still fresh until just before
    # created + window + 1 s: the nonce must be remembered that long, or a replay in that
    # last second would pass.
    remembered_until = datetime.fromtimestamp(claims.created, UTC) + timedelta(seconds=window_s + 1)
    if not nonces.remember(claims.key_id, claims.nonce, remembered_until):
        raise NonceReplayed(f"nonce {claims.nonce!r} was already used with key {claims.key_id!r}")
    return VerifiedSignature(
        key_id=claims.key_id,
        created=claims.created,
        expires=claims.expires,
        nonce=claims.nonce,
        covered_components=tuple(_identifier(c) for c in signature_input.components),
    )


def parse_signature_input(field_value: str, label: str = LABEL) -> SignatureInput:
    """The `label` member of a `Signature-Input` field value; `SignatureMalformed` if it
    is absent or not an inner list of string components."""
    inputs = _parse_dictionary("Signature-Input", field_value)
    if label not in inputs:
        raise SignatureMalformed(
            f"no signature labelled {label!r} in Signature-Input "
            f"(labels found: {', '.join(sorted(inputs)) or 'none'})"
        )
    return _signature_input_of(inputs[label], label)


def _read_signature(headers: Mapping[str, str]) -> tuple[SignatureInput, bytes]:
    input_field = _lookup(headers, "signature-input")
    signature_field = _lookup(headers, "signature")
    if input_field is None or signature_field is None:
        missing = [
            name
            for name, field in (("Signature-Input", input_field), ("Signature", signature_field))
            if field is None
        ]
        raise SignatureMissing(
            f"the request has no {' or '.join(missing)} header; every request must be signed"
        )
    inputs = _parse_dictionary("Signature-Input", input_field)
    signatures = _parse_dictionary("Signature", signature_field)
    if LABEL not in inputs or LABEL not in signatures:
        raise SignatureMalformed(
            f"no signature labelled {LABEL!r} in both Signature-Input and Signature "
            f"(labels found: {', '.join(sorted(inputs)) or 'none'})"
        )
    return _signature_input_of(inputs[LABEL], LABEL), _signature_bytes_of(signatures[LABEL])


def _parse_dictionary(field_name: str, value: str) -> dict[str, Any]:
    def refuse_duplicate(key: str, context: str) -> None:
        raise SignatureMalformed(f"{field_name} repeats {context} key {key!r}")

    try:
        parsed = http_sf.parse(
            value.encode("ascii"), tltype="dictionary", on_duplicate_key=refuse_duplicate
        )
    except (ValueError, UnicodeEncodeError) as error:
        raise SignatureMalformed(
            f"{field_name} is not a structured-field dictionary: {error}"
        ) from error
    assert isinstance(parsed, dict)  # tltype="dictionary" yields a dict
    return parsed


def _signature_input_of(member: Any, label: str) -> SignatureInput:
    if not (isinstance(member, tuple) and isinstance(member[0], list)):
        raise SignatureMalformed(
            f"Signature-Input member {label!r} must be an inner list of components"
        )
    items, parameters = member
    components: list[Component] = []
    for value, component_parameters in items:
        if not isinstance(value, str):
            raise SignatureMalformed(f"covered component {value!r} must be a string")
        components.append(Component(value, tuple(component_parameters.items())))
    if len(set(components)) != len(components):
        raise SignatureMalformed("Signature-Input covers a component more than once")
    return SignatureInput(tuple(components), parameters)


def _signature_bytes_of(member: Any) -> bytes:
    value = member[0] if isinstance(member, tuple) else member
    if not isinstance(value, bytes) or len(value) != ED25519_SIGNATURE_SIZE:
        raise SignatureMalformed(
            f"Signature member {LABEL!r} must be a byte sequence of {ED25519_SIGNATURE_SIZE} bytes"
        )
    return value


def _require_profile(signature_input: SignatureInput) -> _Claims:
    parameters = signature_input.parameters
    unknown = set(parameters) - KNOWN_PARAMETERS
    if unknown:
        raise SignatureMalformed(f"unknown signature parameters: {', '.join(sorted(unknown))}")
    for name, expected in (("tag", TAG), ("alg", ALGORITHM)):
        if parameters.get(name) != expected:
            raise SignatureMalformed(
                f"signature {name} must be {expected!r}, not {parameters.get(name)!r}"
            )
    created = _integer(parameters, "created")
    if created is None:
        raise SignatureMalformed("signature parameter 'created' is required")
    return _Claims(
        key_id=_string(parameters, "keyid", KEY_ID_LENGTH),
        created=created,
        expires=_integer(parameters, "expires"),
        nonce=_string(parameters, "nonce", NONCE_LENGTH),
    )


def _integer(parameters: Mapping[str, BareItemType], name: str) -> int | None:
    value = parameters.get(name)
    if value is None:
        return None
    # bool is an int subclass, and a structured-field boolean is not a timestamp.
    if type(value) is not int:
        raise SignatureMalformed(f"signature parameter {name!r} must be an integer (Unix seconds)")
    return value


def _string(parameters: Mapping[str, BareItemType], name: str, length: range) -> str:
    value = parameters.get(name)
    if not isinstance(value, str) or len(value) not in length:
        raise SignatureMalformed(
            f"signature parameter {name!r} must be a string of "
            f"{length.start} to {length.stop - 1} characters"
        )
    return value


def _require_coverage(signature_input: SignatureInput, *, has_body: bool) -> None:
    required = ALWAYS_COVERED + (COVERED_WITH_BODY if has_body else ())
    covered = {
        component.name for component in signature_input.components if not component.parameters
    }
    missing = [name for name in required if name not in covered]
    if missing:
        raise SignatureComponents(
            f"the signature must cover {', '.join(required)}; "
            f"it does not cover {', '.join(missing)}",
            missing=missing,
        )


def _require_fresh(claims: _Claims, now: datetime, window_s: int) -> None:
    now_s = int(now.timestamp())
    skew = abs(claims.created - now_s)
    if skew > window_s:
        raise SignatureStale(
            f"created {claims.created} is {skew} s from the hub clock; the window is ±{window_s} s"
        )
    if claims.expires is not None and claims.expires <= now_s:
        raise SignatureStale(
            f"the signature expired at {claims.expires}, {now_s - claims.expires} s ago"
        )


def _require_valid_signature(
    request: HttpRequestParts,
    signature_input: SignatureInput,
    signature: bytes,
    public_key: Ed25519PublicKey,
) -> None:
    try:
        base = signature_base(request, signature_input)
    except UnresolvableComponentError as error:
        raise SignatureMalformed(f"the signature base cannot be built: {error}") from error
    try:
        public_key.verify(signature, base)
    except InvalidSignature as error:
        raise SignatureInvalid(
            "the Ed25519 signature does not verify over the signature base "
            "(wrong key, or a covered component was changed or built differently)"
        ) from error


def _identifier(component: Component) -> str:
    return component.serialized() if component.parameters else component.name


def _lookup(headers: Mapping[str, str], name: str) -> str | None:
    for header, value in headers.items():
        if header.lower() == name:
            return value
    return None


def _without(headers: Mapping[str, str], replaced: Mapping[str, str]) -> dict[str, str]:
    replaced_names = {name.lower() for name in replaced}
    return {name: value for name, value in headers.items() if name.lower() not in replaced_names}
