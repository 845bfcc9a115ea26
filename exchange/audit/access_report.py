"""The access report: who received the records of one key (say one business licence), when,
under which grant and for what purpose, each fact with its proof of inclusion in the signed
audit log.

Built from two derived indexes and the log itself: the record keys the view builder keeps
(every record id of a key) and the audit entries naming those record ids. Only successful
deliveries count: pulls from a subscription and lookups.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from exchange.audit.checkpoints import Checkpoint
from exchange.audit.leaf import leaf_document
from exchange.audit.stored_tree import StoredTree
from exchange.store.database import Database
from exchange.store.records import AuditEntryRow
from exchange.store.repositories import AuditRepository, LatestRecordRepository
from exchange.store.repositories.checkpoints import CheckpointRepository

# The audit actions that hand records to a department.
DELIVERY_ACTIONS = frozenset(
    {
        "GET /v1/subscriptions/<subscription_id>/records",
        "GET /v1/subjects/<subject>/records/<path:key>",
    }
)


@dataclass(frozen=True)
class Access:
    """One delivery of records of the key to a department."""

    entry: AuditEntryRow
    record_ids: tuple[str, ...]
    audit_path: list[bytes] | None

    def to_json(self) -> dict[str, Any]:
        """As the API serves it; `proof` is null for an entry the latest checkpoint does
        not cover yet."""
        return {
            "department": self.entry.actor,
            "at": self.entry.at.isoformat(),
            "action": "lookup" if "<path:key>" in self.entry.action else "pull",
            "grant_id": self.entry.grant_id,
            "purpose": self.entry.purpose,
            "record_ids": list(self.record_ids),
            "seq": self.entry.seq,
            "proof": None
            if self.audit_path is None
            else {
                "leaf_index": self.entry.seq - 1,
                "entry": leaf_document(self.entry),
                "audit_path": [node.hex() for node in self.audit_path],
            },
        }


@dataclass(frozen=True)
class AccessReport:
    """Every delivery of one key's records, and the checkpoint their proofs lead to."""

    subject: str
    key: str
    record_ids: tuple[str, ...]
    accesses: list[Access]
    checkpoint: Checkpoint | None

    def to_json(self) -> dict[str, Any]:
        """As the API serves it."""
        return {
            "subject": self.subject,
            "key": self.key,
            "record_ids": list(self.record_ids),
            "departments": sorted({a.entry.actor for a in self.accesses}),
            "accesses": [a.to_json() for a in self.accesses],
            "checkpoint": None if self.checkpoint is None else self.checkpoint.to_json(),
        }


def access_report(database: Database, subject: str, key: str) -> AccessReport:
    """Who received the records of `key` in `subject`, with inclusion proofs up to the
    latest signed checkpoint."""
    record_ids = LatestRecordRepository(database).record_ids_for(subject, key)
    entries = AuditRepository(database)
    deliveries = [
        entry
        for entry in entries.entries_naming(record_ids)
        if entry.action in DELIVERY_ACTIONS
        and entry.decision == "allow"
        and entry.subject == subject
    ]
    latest = CheckpointRepository(database).latest()
    tree_size = latest.tree_size if latest else 0
    signed = [entry.seq - 1 for entry in deliveries if entry.seq <= tree_size]
    # One read of the nodes and leaf runs every proof needs, then hashing only.
    paths = dict(zip(signed, StoredTree(entries, tree_size).inclusion_proofs(signed), strict=True))
    wanted = set(record_ids)
    accesses = [
        Access(
            entry,
            tuple(r for r in entry.record_ids if r in wanted),
            paths.get(entry.seq - 1),
        )
        for entry in deliveries
    ]
    checkpoint = (
        None
        if latest is None
        else Checkpoint(
            latest.tree_size, latest.root_hash, latest.at, latest.key_id, latest.signature
        )
    )
    return AccessReport(subject, key, tuple(record_ids), accesses, checkpoint)
