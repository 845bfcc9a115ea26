"""Unpadded base64url (RFC 4648 section 5), the text form of hub signatures."""

from __future__ import annotations

import base64
import binascii
import re

_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")


def encode_base64url(data: bytes) -> str:
    """Encode `data` as base64url without `=` padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode_base64url(text: str) -> bytes:
    """Decode unpadded base64url strictly; raise ValueError on anything else.

    Strict because signatures come from untrusted documents: padding, characters
    outside the URL-safe alphabet and non-canonical trailing bits are all refused,
    so each signature has exactly one accepted spelling.
    """
    if not _ALPHABET.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url text")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as error:
        raise ValueError(f"not unpadded base64url text: {error}") from error
    if encode_base64url(data) != text:
        raise ValueError("non-canonical base64url encoding")
    return data
