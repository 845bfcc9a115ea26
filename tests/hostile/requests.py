"""Ways of sending a hostile request: signed as an actor over any bytes, or with a
signature that is stale, replayed, or over another body."""

from __future__ import annotations

import time
from collections.abc import Mapping

from werkzeug.test import TestResponse

from exchange.identity.signatures import sign_request
from tests.support.signed_client import BASE_URL, SignedClient

JSON = "application/json"


def send_bytes(
    actor: SignedClient, method: str, path: str, body: bytes, content_type: str = JSON
) -> TestResponse:
    """A correctly signed request whose body is exactly `body`."""
    return actor.request(method, path, data=body, headers={"Content-Type": content_type})


def _signed_headers(
    actor: SignedClient, method: str, path: str, body: bytes, created: int | None = None
) -> dict[str, str]:
    headers = {"Content-Type": JSON} if body else {}
    headers |= sign_request(
        method, BASE_URL + path, headers, body, actor.private_key, actor.key_id, created=created
    )
    return headers


def send_unsigned(actor: SignedClient, method: str, path: str) -> TestResponse:
    """No signature at all."""
    return actor.client.open(path, method=method)


def send_signed_at(actor: SignedClient, method: str, path: str, created: int) -> TestResponse:
    """A request whose signature claims it was made at `created` (Unix seconds)."""
    headers = _signed_headers(actor, method, path, b"", created=created)
    return actor.client.open(path, method=method, headers=headers)


def send_twice(actor: SignedClient, method: str, path: str) -> TestResponse:
    """The same signed request sent twice (a replay); the second answer."""
    headers = _signed_headers(actor, method, path, b"")
    first = actor.client.open(path, method=method, headers=headers)
    assert first.status_code < 400, first.get_json()
    return actor.client.open(path, method=method, headers=headers)


def send_other_body(
    actor: SignedClient, path: str, signed: bytes, sent: bytes, digest_of_sent: bool
) -> TestResponse:
    """Sign `signed`, send `sent`; with `digest_of_sent`, the Content-Digest header is
    rewritten to match what is sent, so only the signature can tell."""
    headers: dict[str, str] = dict(_signed_headers(actor, "POST", path, signed))
    if digest_of_sent:
        headers["Content-Digest"] = _signed_headers(actor, "POST", path, sent)["Content-Digest"]
    return actor.client.open(path, method="POST", data=sent, headers=headers)


def stale(seconds: int) -> int:
    """A signature creation time `seconds` in the past (negative: in the future)."""
    return int(time.time()) - seconds


def with_headers(
    actor: SignedClient, method: str, path: str, headers: Mapping[str, str], body: bytes
) -> TestResponse:
    """A signed request with extra headers."""
    return actor.request(method, path, data=body, headers=dict(headers))
