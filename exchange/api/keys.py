"""Key registration and revocation, shared by the department and operator endpoints."""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, request
from marshmallow import Schema, fields

from exchange.api.bodies import load_body
from exchange.api.context import current_hub
from exchange.identity.directory import Directory
from exchange.policy.principals import PrincipalKind
from exchange.store.repositories import IdentityRepository, KeyRow


class KeyRegistration(Schema):
    """A public Ed25519 key, as a JWK object or a PEM SubjectPublicKeyInfo string."""

    public_key = fields.Raw(
        required=True,
        metadata={"description": 'JWK {"kty":"OKP","crv":"Ed25519","x":...} or PEM'},
    )


class KeyView(Schema):
    key_id = fields.String(metadata={"description": "RFC 7638 JWK thumbprint (SHA-256)"})
    principal_kind = fields.String()
    principal_name = fields.String()
    public_key = fields.Dict()
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)


def key_view(key: KeyRow) -> dict[str, Any]:
    """The public form of a key record, its public key as a JWK."""
    return {
        "key_id": key.key_id,
        "principal_kind": key.principal_kind,
        "principal_name": key.principal_name,
        "public_key": {"kty": "OKP", "crv": "Ed25519", "x": key.public_key},
        "created_at": key.created_at.isoformat(),
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


def directory() -> Directory:
    """The directory over this hub's store."""
    return Directory(IdentityRepository(current_hub().database))


def add_key_response(kind: PrincipalKind, name: str) -> tuple[Response, int]:
    """Register the key in the body for the principal; 201 with its key id."""
    body = load_body(KeyRegistration())
    key = directory().add_key(kind, name, body["public_key"])
    # The entry names the new key, so the log alone shows when each key became valid.
    g.audit_resource = f"{request.path}/{key.key_id}"
    return jsonify(key_view(key)), 201


def list_keys_response(kind: PrincipalKind, name: str) -> Response:
    """Every key of the principal."""
    return jsonify(keys=[key_view(k) for k in directory().list_keys(kind, name)])


def revoke_key_response(kind: PrincipalKind, name: str, key_id: str) -> Response:
    """Revoke one key of the principal, effective at once."""
    return jsonify(key_view(directory().revoke_key(kind, name, key_id)))
