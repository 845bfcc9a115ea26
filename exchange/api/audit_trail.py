"""The one place every answered request passes through to reach the audit log.

Views add what the request alone does not say through `flask.g`: `audit_subject`,
`audit_grant_id`, `audit_purpose`, `audit_record_ids`, and `audit_resource` when the
request created something the path does not name yet (a new key, a new grant), so the
entry names what was created.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from exchange.api.context import current_hub
from exchange.api.observability import METRICS_PATH, count_produced, metrics_are_public
from exchange.api.problems import problem_response
from exchange.audit.events import AuditEvent, decision_for_status
from exchange.errors import PROBLEM_TYPE_BASE, ExchangeError

logger = logging.getLogger(__name__)

# Probes and the public description are answered without a principal and are not accesses
# to anyone's data; recording them would drown the log in load-balancer traffic. `/metrics`
# joins them only where it is public; signed scrapes (and refusals) are recorded.
UNAUDITED_PATHS = frozenset({"/v1/health", "/v1/ready", "/openapi.json", "/docs"})
# The console's page and static files: public, and a page load is not an access (the API
# calls the page then makes are signed and audited like any other).
UNAUDITED_PREFIX = "/console"


def _body_if_readable() -> bytes:
    """The body, or nothing when it was refused unread (over the size limit)."""
    try:
        return request.get_data(cache=True)
    except HTTPException:
        return b""


def event_for_current_request(response: Response) -> AuditEvent:
    """Describe the request being answered; the body is kept only as its sha-256 digest."""
    body = _body_if_readable()
    problem = getattr(g, "problem", None)
    route = request.url_rule.rule if request.url_rule else request.path
    return AuditEvent(
        at=datetime.now(UTC),
        actor=getattr(g, "principal_name", None)
        or getattr(g, "claimed_key_id", None)
        or "anonymous",
        actor_role=getattr(g, "principal_kind", "anonymous"),
        key_id=getattr(g, "key_id", None),
        action=f"{request.method} {route}",
        resource=getattr(g, "audit_resource", None) or request.path,
        subject=getattr(g, "audit_subject", None),
        decision=decision_for_status(response.status_code),
        reason=problem["detail"] if problem else None,
        status=response.status_code,
        request_id=g.request_id,
        request_digest="sha-256:" + hashlib.sha256(body).hexdigest() if body else None,
        record_ids=tuple(getattr(g, "audit_record_ids", ())),
        purpose=getattr(g, "audit_purpose", None),
        grant_id=getattr(g, "audit_grant_id", None),
    )


def _unaudited(method: str, path: str) -> bool:
    if path in UNAUDITED_PATHS:
        return True
    if path == METRICS_PATH:
        return metrics_are_public()
    is_console = path == UNAUDITED_PREFIX or path.startswith(UNAUDITED_PREFIX + "/")
    return method == "GET" and is_console


def install_audit_trail(app: Flask) -> None:
    """Record every answered request; a request whose entry cannot be kept fails with 503."""

    @app.after_request
    def _record(response: Response) -> Response:
        if _unaudited(request.method, request.path) or getattr(g, "audit_done", False):
            return response
        try:
            current_hub().audit.append(event_for_current_request(response))
            count_produced("audit", 1)
        except ExchangeError as error:
            logger.error("audit entry not recorded: %s", error.detail)
            return problem_response(
                503,
                PROBLEM_TYPE_BASE + "audit-unavailable",
                "Audit log unavailable",
                "The request could not be recorded in the audit log, so it is not answered.",
            )
        return response
