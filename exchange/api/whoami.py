"""`GET /v1/whoami`: the principal a signed request authenticates as."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from exchange.api.authentication import current_principal

blueprint = Blueprint("whoami", __name__)


@blueprint.get("/v1/whoami")
def whoami() -> Response:
    """Who signed this request: principal kind, name, role and key id.
    ---
    get:
      tags: [identity]
      summary: The caller's identity
      responses:
        200:
          description: '{kind: department|operator, name, role: department|admin|auditor, key_id}'
    """
    principal = current_principal()
    return jsonify(
        kind=principal.kind, name=principal.name, role=principal.role, key_id=principal.key_id
    )
