"""Error types of the hub: each kind has a stable problem `type`, an HTTP status and a title.

The HTTP layer maps every `ExchangeError` to an RFC 9457 problem document in one place
(`exchange.api.problems`); domain code raises these and never builds HTTP responses itself.
"""

from __future__ import annotations

from typing import Any, ClassVar

PROBLEM_TYPE_BASE = "https://exchange.example.gov/problems/"


class ExchangeError(Exception):
    """Base of every error the hub reports to a caller."""

    status: ClassVar[int] = 500
    type_slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str = "", **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra: dict[str, Any] = extra

    @property
    def type_uri(self) -> str:
        """The stable problem `type` URI of this error kind."""
        return PROBLEM_TYPE_BASE + self.type_slug


class BadRequest(ExchangeError):
    """The request is malformed (bad JSON, wrong content type, bad parameter)."""

    status = 400
    type_slug = "bad-request"
    title = "Bad request"


class ValidationFailed(ExchangeError):
    """The request body is well-formed but its fields are invalid; `errors` names each field."""

    status = 422
    type_slug = "validation-failed"
    title = "Validation failed"


class NotFound(ExchangeError):
    status = 404
    type_slug = "not-found"
    title = "Not found"


class Conflict(ExchangeError):
    status = 409
    type_slug = "conflict"
    title = "Conflict"


class Unauthenticated(ExchangeError):
    """No valid request signature: the caller is not known."""

    status = 401
    type_slug = "unauthenticated"
    title = "Unauthenticated"


class Forbidden(ExchangeError):
    """The caller is known but may not do this."""

    status = 403
    type_slug = "forbidden"
    title = "Forbidden"


class ServiceUnavailable(ExchangeError):
    """A dependency (store, transport) cannot be reached; the request changed nothing."""

    status = 503
    type_slug = "service-unavailable"
    title = "Service unavailable"


class ConfigurationError(ExchangeError):
    """Settings are missing or invalid; raised at start-up, naming the key."""

    type_slug = "configuration-error"
    title = "Configuration error"
