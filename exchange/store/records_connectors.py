"""Plain values of connectors the repository returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

ConnectorKind = Literal["source", "sink"]
TargetState = Literal["RUNNING", "PAUSED", "STOPPED"]


@dataclass(frozen=True)
class ConnectorDraft:
    """What a department (or an administrator) asks for when creating a connector."""

    name: str
    department: str
    kind: ConnectorKind
    class_name: str
    subject: str
    grant_id: str | None
    config: dict[str, Any]


@dataclass(frozen=True)
class ConnectorRow:
    """A connector as stored: its definition, lifecycle, lease and counters."""

    name: str
    department: str
    kind: ConnectorKind
    class_name: str
    subject: str
    grant_id: str | None
    config: dict[str, Any]
    target_state: TargetState
    restart_generation: int
    lease_owner: str | None
    lease_expires_at: datetime | None
    failed_at: datetime | None
    failure_count: int
    next_restart_at: datetime | None
    last_error: str | None
    last_trace: str | None
    records_in: int
    records_out: int
    dead_lettered: int
    lag: int | None
    created_at: datetime
    updated_at: datetime

    def leased_at(self, now: datetime) -> bool:
        """Whether some worker holds this connector at `now`."""
        return self.lease_owner is not None and (
            self.lease_expires_at is not None and self.lease_expires_at > now
        )


@dataclass(frozen=True)
class Failure:
    """A connector's failure as its worker reports it; `next_restart_at` is None once the
    automatic restarts are used up."""

    error: str
    trace: str
    failure_count: int
    next_restart_at: datetime | None


@dataclass(frozen=True)
class Progress:
    """Counters a worker adds after a step of a connector."""

    records_in: int = 0
    records_out: int = 0
    dead_lettered: int = 0
    lag: int | None = None
