"""The problem answers any operation can give, added to every operation of the description
so that the published contract lists them (each view documents only its own refusals)."""

from __future__ import annotations

from typing import Any

from exchange.api.authentication import PUBLIC_ENDPOINTS

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_CONTENT = {"application/problem+json": {"schema": PROBLEM_REF}}

# Answers of the request pipeline itself, before or around the view.
ANY_OPERATION = {
    "400": "Malformed request: bad JSON, a NUL character, a bad parameter",
    "413": "The body is larger than the hub accepts",
    "415": "The body is not application/json",
    "422": "A parameter or field is invalid (each named in `errors`)",
    "429": "Over the caller's rate limit; see Retry-After",
    "503": "The store, the transport or the audit log is unavailable; nothing changed",
}
SIGNED_OPERATION = {
    "401": "No valid request signature (missing, stale, replayed, unknown or revoked key)",
    "403": "The caller's role or ownership does not allow this",
}
WITH_PATH_PARAMETERS = {"404": "Nothing with this identifier (or not visible to the caller)"}


def add_common_problems(document: dict[str, Any]) -> None:
    """Add the pipeline's problem answers to every operation of `document`, in place."""
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            common = dict(ANY_OPERATION)
            if (method.upper(), path) not in PUBLIC_ENDPOINTS:
                common |= SIGNED_OPERATION
            if "{" in path:
                common |= WITH_PATH_PARAMETERS
            responses: dict[str, Any] = operation["responses"]
            for status, description in common.items():
                responses.setdefault(
                    status, {"description": description, "content": PROBLEM_CONTENT}
                )
