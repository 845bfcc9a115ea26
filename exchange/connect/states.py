"""A connector's lifecycle as Kafka Connect names it, and its automatic restarts.

`state` is derived from what the connector should do (its target state, set through the
API) and what its worker reported: STOPPED (resources freed), FAILED (last error kept;
restarted automatically after back-off until the restart limit), PAUSED (held by a
worker, resources kept, nothing moves), RUNNING (held by a worker), UNASSIGNED (no live
worker holds it yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from exchange.store.records_connectors import ConnectorRow, Failure

ConnectorState = Literal["RUNNING", "PAUSED", "STOPPED", "FAILED", "UNASSIGNED"]


@dataclass(frozen=True)
class RestartPolicy:
    """Automatic restarts of a FAILED connector: after `base_s`, doubling up to `max_s`,
    at most `limit` times in a row (a step that moves records ends the streak)."""

    base_s: float
    max_s: float
    limit: int

    def delay(self, failure_count: int) -> timedelta:
        """The wait before restart number `failure_count` (1 for the first)."""
        exponent = max(failure_count - 1, 0)
        return timedelta(seconds=min(self.base_s * 2.0 ** min(exponent, 62), self.max_s))


def connector_state(row: ConnectorRow, now: datetime) -> ConnectorState:
    """The state the status endpoint reports."""
    if row.target_state == "STOPPED":
        return "STOPPED"
    if row.failed_at is not None:
        return "FAILED"
    if row.target_state == "PAUSED":
        return "PAUSED"
    return "RUNNING" if row.leased_at(now) else "UNASSIGNED"


def failure_of(
    row: ConnectorRow, error: str, trace: str, policy: RestartPolicy, now: datetime
) -> Failure:
    """The failure to record: counted, with the time of the next automatic restart, or
    None once `policy.limit` restarts in a row failed."""
    count = row.failure_count + 1
    restart_at = now + policy.delay(count) if count <= policy.limit else None
    return Failure(error, trace, count, restart_at)
