"""`/v1/operators`: administrators and auditors, and their keys."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request
from marshmallow import Schema, fields, validate

from exchange.api.authentication import current_principal
from exchange.api.bodies import load_body
from exchange.api.keys import add_key_response, directory, list_keys_response, revoke_key_response
from exchange.policy.principals import require_role

blueprint = Blueprint("operators", __name__)


class OperatorRegistration(Schema):
    name = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9._-]{1,62}$"))
    role = fields.String(required=True, validate=validate.OneOf(["admin", "auditor"]))


@blueprint.post("/v1/operators")
def register_operator() -> tuple[Response, int]:
    """Register an administrator or an auditor (administrators only).
    ---
    post:
      tags: [identity]
      summary: Register an operator
      requestBody:
        required: true
        content:
          application/json:
            schema: OperatorRegistration
      responses:
        201:
          description: The operator.
        409:
          description: The name is taken.
          content:
            application/problem+json:
              schema: Problem
    """
    require_role(current_principal(), "admin")
    body = load_body(OperatorRegistration())
    operator = directory().register_operator(body["name"], body["role"])
    g.audit_resource = f"{request.path}/{operator.name}"
    return jsonify(
        name=operator.name, role=operator.role, created_at=operator.created_at.isoformat()
    ), 201


@blueprint.post("/v1/operators/<name>/keys")
def add_operator_key(name: str) -> tuple[Response, int]:
    """Register another public key for an operator (administrators only).
    ---
    post:
      tags: [identity]
      summary: Add an operator key
      parameters:
        - {in: path, name: name, schema: {type: string}, required: true}
      requestBody:
        required: true
        content:
          application/json:
            schema: KeyRegistration
      responses:
        201:
          content:
            application/json:
              schema: KeyView
    """
    require_role(current_principal(), "admin")
    return add_key_response("operator", name)


@blueprint.get("/v1/operators/<name>/keys")
def list_operator_keys(name: str) -> Response:
    """An operator's keys (administrators only).
    ---
    get:
      tags: [identity]
      summary: List an operator's keys
      parameters:
        - {in: path, name: name, schema: {type: string}, required: true}
      responses:
        200:
          description: Every key, revoked ones with revoked_at.
    """
    require_role(current_principal(), "admin")
    return list_keys_response("operator", name)


@blueprint.delete("/v1/operators/<name>/keys/<key_id>")
def revoke_operator_key(name: str, key_id: str) -> Response:
    """Revoke an operator key at once (administrators only).
    ---
    delete:
      tags: [identity]
      summary: Revoke an operator key
      parameters:
        - {in: path, name: name, schema: {type: string}, required: true}
        - {in: path, name: key_id, schema: {type: string}, required: true}
      responses:
        200:
          content:
            application/json:
              schema: KeyView
    """
    require_role(current_principal(), "admin")
    return revoke_key_response("operator", name, key_id)
