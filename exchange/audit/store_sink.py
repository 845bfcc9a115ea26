"""The audit sink of a single hub process: events are appended straight to the store.

The audit issue replaces this, in production, by the `exchange.audit` topic and one writer
that sequences every hub instance's events into the store.
"""

from __future__ import annotations

import dataclasses

from exchange.audit.events import AuditEvent
from exchange.store.database import Database
from exchange.store.repositories import AuditEntryDraft, AuditRepository


class StoreAuditSink:
    """Appends each event to the store's audit table before returning."""

    def __init__(self, database: Database) -> None:
        self._entries = AuditRepository(database)

    def append(self, event: AuditEvent) -> None:
        """Keep the event; raises a 503-kind error when the store cannot."""
        self._entries.append(AuditEntryDraft(**dataclasses.asdict(event)))
