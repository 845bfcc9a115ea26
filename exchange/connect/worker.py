"""The `exchange connect` worker: runs the connectors it holds a lease on.

Every tick the worker renews the leases it holds (following each connector's target state:
PAUSED keeps it open but idle, STOPPED closes it and gives the lease back, a new restart
generation reopens it), takes its fair share of the connectors, then moves one batch of
each running connector. A connector that raises is recorded FAILED with its error and
trace, and is claimed again once its back-off has passed (`RestartPolicy`).

Sharing: each worker writes a heartbeat to the store and counts the live workers; its
share is ceil(connectors to run / live workers). It claims free connectors (no live
holder: a dead worker's leases expire, so its connectors are taken over) up to its share,
and gives back what it holds beyond it, between steps (never mid-batch), for another
worker to claim. So a worker that joins gets connectors from those already running, and
when one dies or stops the others' shares grow to cover its connectors.

Sources and sinks are both spread by lease: a sink's consumer group lives in the hub
(its subscription), so running one sink task per connector at a time keeps its pulls and
acknowledgements in order.
"""

from __future__ import annotations

import logging
import math
import threading
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.base import ConnectorEnvironment, DeadLetter, SinkConnector, SourceConnector
from connectors.paths import resolve_under
from exchange.audit.events import AuditSink
from exchange.client import ExchangeClient
from exchange.connect.audit_trail import ConnectorAuditTrail
from exchange.connect.classes import implementation
from exchange.connect.contexts import RequestKey, RuntimeContext
from exchange.connect.dead_letters import create_dead_letter_topic, send_dead_letters
from exchange.connect.states import RestartPolicy, failure_of
from exchange.connect.tasks import SUBSCRIPTION_PARTITION, SinkTask, SourceTask
from exchange.errors import ConfigurationError
from exchange.store.clock import Clock, utc_now
from exchange.store.records_connectors import ConnectorRow
from exchange.store.repositories.connectors import ConnectorRepository
from exchange.transport import Transport

logger = logging.getLogger(__name__)
MAX_TRACE_CHARS = 8000

Task = SourceTask | SinkTask


@dataclass(frozen=True)
class WorkerSettings:
    """How a worker runs: where the hub is, where connector files lie, lease length,
    idle wait and restart policy."""

    hub_url: str
    root: Path
    lease_s: float
    poll_interval_s: float
    restart: RestartPolicy
    replication_factor: int = 1
    hub_key: RequestKey | None = None


@dataclass
class _Held:
    row: ConnectorRow
    task: Task | None


class Worker:
    """One worker process's connectors, driven by `tick` (or `run` until stopped)."""

    def __init__(
        self,
        worker_id: str,
        repository: ConnectorRepository,
        transport: Transport,
        settings: WorkerSettings,
        clock: Clock = utc_now,
        *,
        audit: AuditSink | None = None,
    ) -> None:
        """Without `audit` the worker's own actions are not audited: for tests of the
        worker alone; `WorkerProcess` always gives it the deployment's audit log."""
        self.worker_id = worker_id
        self._repository = repository
        self._transport = transport
        self._settings = settings
        self._clock = clock
        self._audit = None if audit is None else ConnectorAuditTrail(audit, worker_id, clock)
        self._held: dict[str, _Held] = {}
        self._share = 0
        self._next_heartbeat: datetime | None = None

    @property
    def held(self) -> list[str]:
        """Names of the connectors this worker holds."""
        return sorted(self._held)

    def run(self, stop: threading.Event) -> None:
        """Tick until `stop` is set, waiting between idle ticks; then let everything go."""
        try:
            while not stop.is_set():
                if not self.tick():
                    stop.wait(self._settings.poll_interval_s)
        finally:
            self.close()

    def tick(self) -> bool:
        """Renew, take the fair share (claim or give back), then step each running
        connector once; True if records moved."""
        self._renew()
        self._balance()
        self._claim()
        moved = False
        for name in list(self._held):
            moved = self._step(name) or moved
        return moved

    def close(self) -> None:
        """Close every connector and give its lease back; leave the live workers."""
        for name in list(self._held):
            self._let_go(name, "the worker stopped")
        self._repository.forget_worker(self.worker_id)

    # ------------------------------------------------------------------------------------

    def _until(self) -> Any:
        return self._clock() + timedelta(seconds=self._settings.lease_s)

    def _renew(self) -> None:
        for name, held in list(self._held.items()):
            row = self._repository.renew(name, self.worker_id, self._until())
            if row is None:
                self._close_task(held)
                del self._held[name]
            elif row.target_state == "STOPPED":
                self._let_go(name)
            elif row.restart_generation != held.row.restart_generation:
                self._close_task(held)
                self._held[name] = _Held(row, None)
            else:
                held.row = row

    def _balance(self) -> None:
        """Beat the heart (a few times per lease, so it never lapses while alive), work
        out the fair share, and give back what this worker holds beyond it."""
        now = self._clock()
        if self._next_heartbeat is None or now >= self._next_heartbeat:
            live = self._repository.heartbeat(self.worker_id, now, self._until())
            connectors = self._repository.runnable_count()
            self._share = math.ceil(connectors / max(live, 1))
            self._next_heartbeat = now + timedelta(seconds=self._settings.lease_s / 4)
        for name in self._surplus():
            logger.info("worker %s gives connector %s back (fair share)", self.worker_id, name)
            self._let_go(name, "given back to share the work")

    def _surplus(self) -> list[str]:
        """What this worker holds beyond its share: unopened connectors first (nothing to
        close), then by name, so the choice is stable from tick to tick."""
        excess = len(self._held) - self._share
        if excess <= 0:
            return []
        by_preference = sorted(self._held, key=lambda n: (self._held[n].task is not None, n))
        return by_preference[:excess]

    def _claim(self) -> None:
        for name in self._repository.claimable(self._clock()):
            if len(self._held) >= self._share:
                return
            if name in self._held:
                continue
            row = self._repository.claim(name, self.worker_id, self._clock(), self._until())
            if row is not None:
                logger.info("worker %s runs connector %s", self.worker_id, name)
                self._held[name] = _Held(row, None)
                if self._audit is not None:
                    self._audit.taken_up(row)

    def _step(self, name: str) -> bool:
        held = self._held[name]
        if held.row.target_state != "RUNNING":
            return False
        try:
            if held.task is None:
                held.task = self._open(held.row)
            progress = held.task.step()
        except Exception as error:  # any failure of a connector is reported, never fatal
            self._fail(name, error)
            return False
        if progress is None:
            return False
        self._repository.record_progress(name, self.worker_id, progress, self._clock())
        return bool(progress.records_in or progress.records_out)

    def _fail(self, name: str, error: Exception) -> None:
        held = self._held.pop(name)
        self._close_task(held)
        detail = getattr(error, "detail", None) or str(error) or type(error).__name__
        trace = "".join(traceback.format_exception(error))[-MAX_TRACE_CHARS:]
        logger.warning("connector %s failed: %s", name, detail)
        failure = failure_of(
            held.row,
            f"{type(error).__name__}: {detail}",
            trace,
            self._settings.restart,
            self._clock(),
        )
        self._repository.record_failure(name, self.worker_id, failure, self._clock())
        if self._audit is not None:
            self._audit.failed(held.row, f"{type(error).__name__}: {detail}")

    def _let_go(self, name: str, why: str = "stopped") -> None:
        held = self._held.pop(name)
        self._close_task(held)
        self._repository.release(name, self.worker_id)
        if self._audit is not None:
            self._audit.given_back(held.row, why)

    @staticmethod
    def _close_task(held: _Held) -> None:
        if held.task is None:
            return
        try:
            held.task.close()
        except Exception:  # closing must not stop the others from closing
            logger.exception("closing connector %s failed", held.row.name)
        held.task = None

    # Opening ----------------------------------------------------------------------------

    def _open(self, row: ConnectorRow) -> Task:
        implementation_class = implementation(row.class_name, row.kind)
        if implementation_class is None:
            raise ConfigurationError(f"this worker has no {row.kind} class {row.class_name!r}")
        environment = ConnectorEnvironment(self._settings.root)
        key_file = resolve_under(self._settings.root, str(row.config["key_file"]))
        client = ExchangeClient(self._settings.hub_url, key_file=key_file)
        create_dead_letter_topic(self._transport, row.name, self._settings.replication_factor)
        offsets = self._repository.offsets(row.name)
        context = RuntimeContext(
            row.name, row.subject, environment, client, offsets, hub_key=self._settings.hub_key
        )
        tolerate = row.config.get("errors_tolerance") == "all"
        if issubclass(implementation_class, SourceConnector):
            return SourceTask(
                implementation_class(row.config, context),
                client,
                row.subject,
                tolerate_errors=tolerate,
                send_dead_letters=self._dead_letters_of(row),
                save_offset=self._offset_saver(row.name, context),
            )
        assert issubclass(implementation_class, SinkConnector)
        subscription = self._subscription(row, client, context)
        return SinkTask(
            implementation_class(row.config, context),
            client,
            subscription,
            batch_size=int(row.config.get("batch_size", 100)),
            tolerate_errors=tolerate,
            send_dead_letters=self._dead_letters_of(row),
        )

    def _subscription(
        self, row: ConnectorRow, client: ExchangeClient, context: RuntimeContext
    ) -> str:
        """The sink's subscription: made once, remembered as its offset (reset the
        offsets to start again from `from`)."""
        stored = context.offset(SUBSCRIPTION_PARTITION)
        if isinstance(stored, dict) and "id" in stored:
            return str(stored["id"])
        assert row.grant_id is not None
        made = client.subscribe(row.subject, row.grant_id, str(row.config.get("start", "earliest")))
        self._offset_saver(row.name, context)(SUBSCRIPTION_PARTITION, {"id": made["id"]})
        return str(made["id"])

    def _dead_letters_of(self, row: ConnectorRow) -> Any:
        def send(letters: list[DeadLetter]) -> None:
            send_dead_letters(self._transport, row.name, letters)
            if self._audit is not None and letters:
                self._audit.dead_lettered(row, letters)

        return send

    def _offset_saver(self, name: str, context: RuntimeContext) -> Any:
        def save(partition: str, offset: Any) -> bool:
            saved = self._repository.save_offset(
                name, self.worker_id, partition, offset, self._clock()
            )
            if saved:
                if offset is None:
                    context.offsets.pop(partition, None)
                else:
                    context.offsets[partition] = offset
            return saved

        return save
