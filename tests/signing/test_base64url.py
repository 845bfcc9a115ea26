"""Signatures have one accepted text form: unpadded base64url."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.signing.base64url import decode_base64url, encode_base64url


@given(data=st.binary(max_size=100))
def test_encoding_round_trips_without_padding(data):
    text = encode_base64url(data)
    assert "=" not in text
    assert decode_base64url(text) == data


def test_url_safe_alphabet_is_used():
    assert encode_base64url(b"\xfb\xff") == "-_8"


@pytest.mark.parametrize(
    "text",
    [
        "-_8=",  # padded
        "+/8",  # standard alphabet
        "ab cd",  # whitespace
        "A",  # impossible length
        "-_9",  # non-zero trailing bits: a second spelling of b"\xfb\xff"
        "AAAA\n",
    ],
)
def test_anything_but_canonical_unpadded_base64url_is_refused(text):
    with pytest.raises(ValueError, match="base64url"):
        decode_base64url(text)
