"""Canonical JSON (RFC 8785, JCS): the one byte form the hub hashes and signs.

Two equal JSON values (same members, any key order, any insignificant whitespace)
always give the same bytes, so a signature or digest survives re-serialisation by
any party. Values that JSON cannot carry exactly (NaN, infinities, non-string object
keys, integers that no IEEE 754 double holds) are refused rather than silently altered.

JCS reads every number as a double. `json.loads` turns the canonical text of a large
integral double (1e16 is written `10000000000000000`) into a Python int, which the
`rfc8785` package refuses beyond 2**53; such an int is accepted here exactly when its
decimal text is the canonical form of a double, so a signed document still verifies
after a round trip through JSON text, while an int that a double would round is refused.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import rfc8785

from exchange.errors import ExchangeError

DIGEST_PREFIX = "sha-256:"
MAX_SAFE_INTEGER = 2**53 - 1


class NotCanonicalisable(ExchangeError):
    """The value has no RFC 8785 form (non-finite float, huge integer, non-string key...)."""

    status = 422
    type_slug = "not-canonicalisable"
    title = "Value cannot be canonicalised as JSON"


def canonical_json(value: Any) -> bytes:
    """Return the RFC 8785 (JCS) serialisation of `value` as UTF-8 bytes.

    Accepts the values `json.loads` produces (dict, list, str, int, float, bool,
    None) and tuples. Raises `NotCanonicalisable` for anything JCS cannot represent.
    """
    try:
        return _dumps(value)
    except rfc8785.IntegerDomainError:
        # Rare, so the common case pays nothing for the extra walk.
        return _dumps(_large_integers_as_doubles(value))


def _dumps(value: Any) -> bytes:
    try:
        return bytes(rfc8785.dumps(value))
    except rfc8785.IntegerDomainError:
        raise
    except rfc8785.CanonicalizationError as error:
        raise NotCanonicalisable(f"value cannot be canonicalised as JSON: {error}") from error


def _large_integers_as_doubles(value: Any) -> Any:
    """Replace each int beyond 2**53 by the double it spells exactly, or refuse it."""
    if isinstance(value, dict):
        return {key: _large_integers_as_doubles(member) for key, member in value.items()}
    if isinstance(value, list | tuple):
        return [_large_integers_as_doubles(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SAFE_INTEGER:
        return _exact_double(value)
    return value


def _exact_double(integer: int) -> float:
    try:
        double = float(integer)
    except OverflowError:
        double = math.inf
    if not math.isfinite(double) or rfc8785.dumps(double) != str(integer).encode("ascii"):
        raise NotCanonicalisable(
            f"value cannot be canonicalised as JSON: integer {integer} is not exactly "
            "representable as a JSON number (IEEE 754 double); send it as a string"
        )
    return double


def sha256_hex(data: bytes) -> str:
    """Return the lowercase hex SHA-256 digest of `data`."""
    return hashlib.sha256(data).hexdigest()


def digest_of_json(value: Any) -> str:
    """Return the digest of a JSON value as `sha-256:<lowercase hex>` over its JCS bytes.

    The algorithm prefix keeps stored digests self-describing (the same form the
    audit trail uses for `request_digest`), so a later change of algorithm is visible.
    """
    return DIGEST_PREFIX + sha256_hex(canonical_json(value))
