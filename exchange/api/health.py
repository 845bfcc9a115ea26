"""Liveness and readiness: `/v1/health` says the process answers, `/v1/ready` that its
store and transport do too."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from exchange.api.context import current_hub
from exchange.errors import ExchangeError, ServiceUnavailable

blueprint = Blueprint("health", __name__)


class NotReady(ServiceUnavailable):
    """A dependency of the hub does not answer; the problem's `checks` names which."""

    type_slug = "not-ready"
    title = "Not ready"


@blueprint.get("/v1/health")
def health() -> Response:
    """Liveness: 200 while the process can answer at all.
    ---
    get:
      tags: [operations]
      summary: Liveness probe
      security: []
      responses:
        200:
          description: The process is alive.
    """
    return jsonify(status="ok")


@blueprint.get("/v1/ready")
def ready() -> Response:
    """Readiness: 200 when the store and the transport answer, 503 otherwise.
    ---
    get:
      tags: [operations]
      summary: Readiness probe
      security: []
      responses:
        200:
          description: Store and transport reachable.
        503:
          description: A dependency is unreachable; the problem's `checks` names it.
          content:
            application/problem+json:
              schema: Problem
    """
    hub = current_hub()
    checks: dict[str, str] = {}
    for name, check in (("store", hub.database.check), ("transport", hub.transport.check)):
        try:
            check()
            checks[name] = "ok"
        except ExchangeError as error:
            checks[name] = error.detail
    failing = sorted(name for name, value in checks.items() if value != "ok")
    if failing:
        raise NotReady(f"not reachable: {', '.join(failing)}", checks=checks)
    return jsonify(status="ready", checks=checks)
