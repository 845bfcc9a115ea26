"""`GET /v1/hub/keys`: the hub's public keys, for anyone verifying what the hub signed."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from exchange.api.context import current_hub
from exchange.store.repositories import HubKeyRepository

blueprint = Blueprint("hub_keys", __name__)


@blueprint.get("/v1/hub/keys")
def hub_keys() -> Response:
    """The hub's current and previous public keys as a JWK set (no signature needed).
    ---
    get:
      tags: [identity]
      summary: Hub public keys (JWK set)
      security: []
      responses:
        200:
          description: '{"keys": [JWK with kid, use "sig", and status current|retired]}'
    """
    keys = HubKeyRepository(current_hub().database).list()
    return jsonify(
        keys=[
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": key.public_key,
                "kid": key.key_id,
                "use": "sig",
                "status": "retired" if key.retired_at else "current",
            }
            for key in keys
        ]
    )
