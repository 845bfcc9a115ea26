"""What the audit log records: one event for every request the hub answers, and for
every delivery and connector action."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

Decision = Literal["allow", "deny", "error"]


@dataclass(frozen=True)
class AuditEvent:
    """One access, allowed or refused. Payloads are never recorded, only their digests."""

    at: datetime
    actor: str
    actor_role: str
    action: str
    resource: str
    decision: Decision
    status: int
    request_id: str
    key_id: str | None = None
    subject: str | None = None
    reason: str | None = None
    request_digest: str | None = None
    record_ids: tuple[str, ...] = field(default=())
    purpose: str | None = None
    grant_id: str | None = None


def decision_for_status(status: int) -> Decision:
    """Classify an HTTP status: 2xx/3xx allowed, 4xx refused, 5xx failed."""
    if status >= 500:
        return "error"
    if status >= 400:
        return "deny"
    return "allow"


class AuditSink(Protocol):
    """Where audit events go; `append` returns only once the event is durably kept."""

    def append(self, event: AuditEvent) -> None: ...
