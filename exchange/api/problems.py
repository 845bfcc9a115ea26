"""RFC 9457 problem details: the one place where errors become HTTP responses."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, json, request
from werkzeug.exceptions import HTTPException

from exchange.errors import PROBLEM_TYPE_BASE, ExchangeError

PROBLEM_CONTENT_TYPE = "application/problem+json"
logger = logging.getLogger(__name__)

# Stable problem types for the errors werkzeug raises before our code runs.
_HTTP_TYPE_SLUGS = {
    400: "bad-request",
    404: "not-found",
    405: "method-not-allowed",
    413: "request-too-large",
    415: "unsupported-media-type",
    429: "too-many-requests",
}


def problem_response(status: int, type_uri: str, title: str, detail: str, **extra: Any) -> Response:
    """Build an `application/problem+json` response; `instance` is the request path."""
    body: dict[str, Any] = {
        "type": type_uri,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    request_id = getattr(g, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_CONTENT_TYPE)
    g.problem = body
    return response


def register_problem_handlers(app: Flask) -> None:
    """Map every error, ours or werkzeug's, to problem+json."""

    @app.errorhandler(ExchangeError)
    def _exchange_error(error: ExchangeError) -> Response:
        return problem_response(
            error.status, error.type_uri, error.title, error.detail, **error.extra
        )

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        slug = _HTTP_TYPE_SLUGS.get(status, f"http-{status}")
        response = problem_response(
            status, PROBLEM_TYPE_BASE + slug, error.name, error.description or error.name
        )
        if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        logger.exception("unhandled error", extra={"request_id": getattr(g, "request_id", None)})
        return problem_response(
            500,
            PROBLEM_TYPE_BASE + "internal-error",
            "Internal error",
            "The hub failed to answer this request; it has been logged with its request id.",
        )
