"""What a connector worker does on its own, audited as the connector's department.

Publishes, pulls and acknowledgements reach the hub as signed requests, so the hub audits
them; lifecycle requests are audited by the API. What never passes through the API is
recorded here: a worker taking a connector up (first start, automatic restart, takeover
of a dead worker's connectors), giving it back, its failures and its dead letters. The
events take the same path as every hub instance's: the audit topic, then the writer.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from connectors.base import DeadLetter
from exchange.audit.events import AuditEvent, AuditSink, Decision
from exchange.store.clock import Clock, utc_now
from exchange.store.records_connectors import ConnectorRow

logger = logging.getLogger(__name__)

ACTOR_ROLE = "department"
# Reasons are kept short: a dead letter's reason may quote a whole record's fields.
MAX_REASON_CHARS = 500


class ConnectorAuditTrail:
    """Appends one audit event per worker-side connector action."""

    def __init__(self, sink: AuditSink, worker_id: str, clock: Clock = utc_now) -> None:
        self._sink = sink
        self._worker_id = worker_id
        self._clock = clock

    def taken_up(self, row: ConnectorRow) -> None:
        """This worker now runs the connector (a start, a restart or a takeover)."""
        self._best_effort(row, "run", "allow", 200, f"run by worker {self._worker_id}")

    def given_back(self, row: ConnectorRow, why: str) -> None:
        """This worker no longer runs the connector."""
        self._best_effort(row, "release", "allow", 200, f"worker {self._worker_id}: {why}")

    def failed(self, row: ConnectorRow, error: str) -> None:
        """The connector failed on this worker and is recorded FAILED."""
        self._best_effort(row, "fail", "error", 500, error)

    def dead_lettered(self, row: ConnectorRow, letters: Sequence[DeadLetter]) -> None:
        """Records sent to the connector's dead-letter topic. Raises when the log cannot
        take the event, so the batch fails and is retried rather than go unaudited."""
        first = letters[0].reason if letters else ""
        reason = f"{len(letters)} dead letter(s); first: {first}"
        self._sink.append(self._event(row, "dead-letter", "deny", 422, reason))

    def _best_effort(
        self, row: ConnectorRow, verb: str, decision: Decision, status: int, reason: str
    ) -> None:
        # A lifecycle event the log cannot take must not stop the worker (its state is in
        # the store regardless); it is logged loudly instead.
        try:
            self._sink.append(self._event(row, verb, decision, status, reason))
        except Exception:
            logger.exception("could not audit connector %s %s", row.name, verb)

    def _event(
        self, row: ConnectorRow, verb: str, decision: Decision, status: int, reason: str
    ) -> AuditEvent:
        return AuditEvent(
            at=self._clock(),
            actor=row.department,
            actor_role=ACTOR_ROLE,
            action=f"CONNECT {verb}",
            resource=f"/v1/connectors/{row.name}",
            decision=decision,
            status=status,
            request_id=str(uuid.uuid4()),
            subject=row.subject,
            grant_id=row.grant_id,
            reason=reason[:MAX_REASON_CHARS],
        )
