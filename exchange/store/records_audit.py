"""Plain values of the audit log's integrity tables: leaves, checkpoints and query filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from exchange.store.records import AuditDecision, AuditEntryDraft, AuditFilters


@dataclass(frozen=True)
class SequencedEntry:
    """An entry the audit writer has placed in the log: its `seq`, the transport's unique
    `event_id` (for deduplication) and the RFC 9162 leaf hash of its canonical form."""

    seq: int
    event_id: str
    entry: AuditEntryDraft
    leaf_hash: bytes


class StoredLeaf(NamedTuple):
    """An entry read back for verification, with the leaf hash the writer stored for it
    (None when the entry has no leaf row: it was not written by the audit writer).

    The fields of `AuditEntryRow` in a plain tuple: verification reads every entry of the
    log, and a tuple costs a fraction of a frozen dataclass to build."""

    seq: int
    at: datetime
    actor: str
    actor_role: str | None
    key_id: str | None
    action: str
    resource: str | None
    subject: str | None
    decision: AuditDecision
    reason: str | None
    status: int | None
    request_id: str | None
    request_digest: str | None
    record_ids: tuple[str, ...]
    purpose: str | None
    grant_id: str | None
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
