"""What one audit entry contributes to the Merkle tree: its leaf document and leaf hash.

The leaf document is the entry as a JSON object with exactly these members, null when
unset: `seq`, `at`, `actor`, `actor_role`, `key_id`, `action`, `resource`, `subject`,
`decision`, `reason`, `status`, `request_id`, `request_digest`, `record_ids` (an array
of strings), `purpose`, `grant_id`. `at` is RFC 3339 in UTC with six fraction digits
(`2024-11-29T08:15:02.123456Z`). The leaf bytes are its RFC 8785 (JCS) form, and the leaf
hash is SHA-256(0x00 || leaf bytes) as RFC 9162 defines (docs/audit.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from exchange.audit.merkle import leaf_hash
from exchange.signing import canonical_json
from exchange.store.records import AuditEntryRow

RFC3339_MICROSECONDS = "%Y-%m-%dT%H:%M:%S.%fZ"


def rfc3339(moment: datetime) -> str:
    """`moment` as RFC 3339 in UTC with microseconds: the one text form the log hashes."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()} where UTC is required")
    return moment.astimezone(UTC).strftime(RFC3339_MICROSECONDS)


def parse_rfc3339(text: str) -> datetime:
    """Read a timestamp written by `rfc3339` (or any ISO 8601 text with an offset)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no UTC offset")
    return moment.astimezone(UTC)


def leaf_document(entry: AuditEntryRow) -> dict[str, Any]:
    """The entry as the JSON object its leaf covers (and the API serves)."""
    return {
        "seq": entry.seq,
        "at": rfc3339(entry.at),
        "actor": entry.actor,
        "actor_role": entry.actor_role,
        "key_id": entry.key_id,
        "action": entry.action,
        "resource": entry.resource,
        "subject": entry.subject,
        "decision": entry.decision,
        "reason": entry.reason,
        "status": entry.status,
        "request_id": entry.request_id,
        "request_digest": entry.request_digest,
        "record_ids": list(entry.record_ids),
        "purpose": entry.purpose,
        "grant_id": entry.grant_id,
    }


def leaf_hash_of_document(document: dict[str, Any]) -> bytes:
    """SHA-256(0x00 || JCS(document)): what an outside verifier computes from a served entry."""
    return leaf_hash(canonical_json(document))


def entry_leaf_hash(entry: AuditEntryRow) -> bytes:
    """The RFC 9162 leaf hash of a stored (or about to be stored) entry."""
    return leaf_hash_of_document(leaf_document(entry))
