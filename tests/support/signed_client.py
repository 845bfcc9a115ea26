"""A Flask test client that signs every request as a principal (RFC 9421), the way the
Python client does over real HTTP."""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from exchange.identity.keys import generate_private_key, key_id_of, public_key_to_jwk
from exchange.identity.signatures import sign_request

BASE_URL = "http://localhost"


class SignedClient:
    """Signs requests with one private key and sends them through a Flask test client."""

    def __init__(self, client: FlaskClient, private_key: Ed25519PrivateKey, name: str = "") -> None:
        self.client = client
        self.private_key = private_key
        self.key_id = key_id_of(private_key.public_key())
        self.name = name

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        data: bytes | None = None,
    ) -> TestResponse:
        """Send a signed request; `json` is serialised as the body, `data` sent as is."""
        query = urlencode(params or {})
        target = path + (f"?{query}" if query else "")
        all_headers = dict(headers or {})
        body = data if data is not None else b""
        if json is not None:
            body = jsonlib.dumps(json).encode()
            all_headers.setdefault("Content-Type", "application/json")
        all_headers.update(
            sign_request(
                method, BASE_URL + target, all_headers, body, self.private_key, self.key_id
            )
        )
        return self.client.open(target, method=method, data=body, headers=all_headers)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("DELETE", path, **kwargs)


def new_key_pair() -> tuple[Ed25519PrivateKey, dict[str, str]]:
    """A fresh private key and its public JWK."""
    private_key = generate_private_key()
    return private_key, public_key_to_jwk(private_key.public_key())


def onboard_department(admin: SignedClient, code: str) -> SignedClient:
    """Register a department with a fresh key through the API; return a client signing as it."""
    response = admin.post(
        "/v1/departments",
        json={
            "code": code,
            "name": code.replace("-", " ").title(),
            "contact": f"data@{code}.example.gov",
        },
    )
    assert response.status_code == 201, response.get_json()
    private_key, jwk = new_key_pair()
    response = admin.post(f"/v1/departments/{code}/keys", json={"public_key": jwk})
    assert response.status_code == 201, response.get_json()
    return SignedClient(admin.client, private_key, code)


def onboard_operator(admin: SignedClient, name: str, role: str) -> SignedClient:
    """Register an operator (admin or auditor) with a fresh key; return a client signing as it."""
    response = admin.post("/v1/operators", json={"name": name, "role": role})
    assert response.status_code == 201, response.get_json()
    private_key, jwk = new_key_pair()
    response = admin.post(f"/v1/operators/{name}/keys", json={"public_key": jwk})
    assert response.status_code == 201, response.get_json()
    return SignedClient(admin.client, private_key, name)
