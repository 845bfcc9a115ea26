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

Most documents take a fast path: the standard library's compact, sorted, non-ASCII
preserving `json` output (C code) is byte for byte their RFC 8785 form. JCS differs from
it in three things only: numbers are written as ECMAScript writes doubles (Python writes
floats its own way, and integers beyond 2**53 are not doubles), object members are
sorted by UTF-16 code units (Python sorts by code points; the two orders differ only
between a character beyond U+FFFF and one in U+E000-U+FFFF), and text must be valid
Unicode (a lone surrogate has no UTF-8 form). So the fast path is taken only for values
built of exact `dict`, `list`, `tuple`, `str`, `bool`, `None` and `int` within +-(2**53 - 1),
whose object keys all lie in the Basic Multilingual Plane; a lone surrogate makes the
UTF-8 encoding fail. Everything else (any float, a large integer, a subclass, an astral
key, a surrogate) goes through `rfc8785`, exactly as before. tests/signing proves both
paths give identical bytes against `rfc8785` itself.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import rfc8785

from exchange.errors import ExchangeError

DIGEST_PREFIX = "sha-256:"
MAX_SAFE_INTEGER = 2**53 - 1
_LAST_BMP_CHARACTER = "\uffff"

# Compact, sorted, UTF-8-ready text; the cycle check is left out because a cyclic value
# never gets past `_standard_form_is_canonical` (it recurses until RecursionError).
_standard_json = json.JSONEncoder(
    ensure_ascii=False,
    sort_keys=True,
    separators=(",", ":"),
    allow_nan=False,
    check_circular=False,
).encode


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
        if _standard_form_is_canonical(value):
            return _standard_json(value).encode("utf-8")
    except (UnicodeEncodeError, RecursionError):
        # A lone surrogate, or nesting too deep for the check: `rfc8785` decides, as before.
        pass
    return canonical_json_by_rfc8785(value)


def canonical_json_by_rfc8785(value: Any) -> bytes:
    """`canonical_json` computed by the `rfc8785` package alone (the slow, general path)."""
    try:
        return _dumps(value)
    except rfc8785.IntegerDomainError:
        # Rare, so the common case pays nothing for the extra walk.
        return _dumps(_large_integers_as_doubles(value))


def _standard_form_is_canonical(value: Any) -> bool:
    """Whether `json`'s sorted compact form of `value` is its RFC 8785 form (the module
    docstring says why these checks suffice); a lone surrogate is caught by encoding."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        within: bool = -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
        return within
    if kind is dict:
        for key, member in value.items():
            # Within the Basic Multilingual Plane a code point is one UTF-16 code unit of
            # the same value, so both orders agree; `isascii` answers the usual key in O(1).
            if type(key) is not str or not (key.isascii() or max(key) <= _LAST_BMP_CHARACTER):
                return False
            if not _standard_form_is_canonical(member):
                return False
        return True
    if kind is list or kind is tuple:
        return all(map(_standard_form_is_canonical, value))
    return False


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
