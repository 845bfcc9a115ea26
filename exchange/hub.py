"""The hub's services wired from settings: the composition root shared by the API, the CLI
and the workers."""

from __future__ import annotations

from dataclasses import dataclass

from exchange.audit.events import AuditSink
from exchange.audit.store_sink import StoreAuditSink
from exchange.config import Settings
from exchange.store.database import Database
from exchange.transport import Transport, open_transport


@dataclass
class Hub:
    """Everything a hub process talks to. Build it with `open_hub`; close it once."""

    settings: Settings
    database: Database
    transport: Transport
    audit: AuditSink

    def close(self) -> None:
        """Flush the transport and release connections."""
        self.transport.close()
        self.database.close()


def open_hub(settings: Settings) -> Hub:
    """Connect to the configured store and transport (lazily: nothing is reached yet)."""
    database = Database(settings.effective_database_url)
    transport = open_transport(
        settings.transport,
        embedded_path=settings.embedded_transport_path,
        kafka_bootstrap_servers=settings.kafka_bootstrap_servers,
    )
    return Hub(
        settings=settings,
        database=database,
        transport=transport,
        audit=StoreAuditSink(database),
    )
