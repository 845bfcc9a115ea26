"""Plain values of the audit log's integrity tables: leaves, checkpoints and query filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from exchange.store.records import AuditEntryDraft, AuditEntryRow, AuditFilters


@dataclass(frozen=True)
class SequencedEntry:
    """An entry the audit writer has placed in the log: its `seq`, the transport's unique
    `event_id` (for deduplication) and the RFC 9162 leaf hash of its canonical form."""

    seq: int
    event_id: str
    entry: AuditEntryDraft
    leaf_hash: bytes


@dataclass(frozen=True)
class StoredLeaf:
    """An entry read back with the leaf hash the writer stored for it (None when the entry
    has no leaf row: it was not written by the audit writer)."""

    entry: AuditEntryRow
    leaf_hash: bytes | None


@dataclass(frozen=True)
class CheckpointRow:
    """A signed tree head. `frontier` is the writer's compact tree at that size (the roots
    of its perfect subtrees, largest first), kept so a restarted writer need not rehash
    the whole log; it is not part of what is signed."""

    tree_size: int
    root_hash: bytes
    at: datetime
    key_id: str
    signature: str
    frontier: tuple[bytes, ...]


@dataclass(frozen=True)
class AuditSearch(AuditFilters):
    """`AuditFilters` plus the filters of the auditor interface: the signing `key_id`, and
    `visible_to`, a department that may only see entries it is the actor of or whose
    subject it owns."""

    key_id: str | None = None
    visible_to: str | None = None
