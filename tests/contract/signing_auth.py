"""A `requests` auth hook that signs each request as it is sent (RFC 9421), so that
generated requests reach the views instead of stopping at the signature check."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from requests import PreparedRequest
from requests.auth import AuthBase

from exchange.identity.keys import key_id_of
from exchange.identity.signatures import sign_request


class SigningAuth(AuthBase):
    """Signs the final bytes of every request with one Ed25519 key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self.private_key = private_key
        self.key_id = key_id_of(private_key.public_key())

    def __call__(self, prepared: PreparedRequest) -> PreparedRequest:
        body = prepared.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
            prepared.body = body
        if body and "Content-Type" not in prepared.headers:
            prepared.headers["Content-Type"] = "application/octet-stream"
        prepared.headers.update(
            sign_request(
                prepared.method or "GET",
                prepared.url or "",
                dict(prepared.headers),
                body,
                self.private_key,
                self.key_id,
            )
        )
        return prepared
