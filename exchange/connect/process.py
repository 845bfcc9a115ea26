"""A worker wired from the hub's settings: its own store connection and transport, as the
`exchange connect` process (or a test) runs it."""

from __future__ import annotations

import os
import socket
import uuid
from types import TracebackType

from exchange.audit.topic_sink import TopicAuditSink
from exchange.config import Settings
from exchange.connect.contexts import RequestKey
from exchange.connect.states import RestartPolicy
from exchange.connect.worker import Worker, WorkerSettings
from exchange.identity.keys import key_id_of, load_private_key
from exchange.store.database import Database
from exchange.store.repositories.connectors import ConnectorRepository
from exchange.transport import open_transport


def new_worker_id() -> str:
    """A name unique to this process: host, pid and a random part."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def worker_settings(settings: Settings, hub_url: str) -> WorkerSettings:
    """The worker's part of the hub settings."""
    return WorkerSettings(
        hub_url=hub_url,
        root=settings.connector_root,
        lease_s=settings.connector_lease_s,
        poll_interval_s=settings.connector_poll_interval_s,
        restart=RestartPolicy(
            settings.connector_restart_base_s,
            settings.connector_restart_max_s,
            settings.connector_restart_limit,
        ),
        replication_factor=settings.topic_replication_factor,
        hub_key=_hub_key(settings),
    )


def _hub_key(settings: Settings) -> RequestKey | None:
    """The hub's signing key, when this machine holds it (sinks that call webhooks sign
    with it); None elsewhere."""
    if not settings.hub_key_file.is_file():
        return None
    private_key = load_private_key(settings.hub_key_file)
    return RequestKey(private_key, key_id_of(private_key.public_key()))


class WorkerProcess:
    """Opens the store and the transport for one worker; closes them after it."""

    def __init__(self, settings: Settings, hub_url: str, worker_id: str | None = None) -> None:
        self.database = Database(settings.effective_database_url)
        self.transport = open_transport(
            settings.transport,
            embedded_path=settings.embedded_transport_path,
            kafka_bootstrap_servers=settings.kafka_bootstrap_servers,
        )
        self.audit = TopicAuditSink(self.transport, settings.topic_replication_factor)
        self.worker = Worker(
            worker_id or new_worker_id(),
            ConnectorRepository(self.database),
            self.transport,
            worker_settings(settings, hub_url),
            audit=self.audit,
        )

    def __enter__(self) -> Worker:
        return self.worker

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            self.worker.close()
        finally:
            self.audit.close()
            self.transport.close()
            self.database.close()
